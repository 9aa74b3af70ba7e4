import { type CoreConfig, type PeerFacts, stepFleet } from '@synkti/fleet';
import { DEAD_AFTER_MS, SUSPECT_AFTER_MS } from './constants.js';
import type { World } from './world.js';

const configs = new WeakMap<World, { plain: CoreConfig; duel: CoreConfig }>();

/** The fleet core's configuration as the simulated agents run it (`duel`: acting as launcher though not the lowest). */
export function coreConfig(w: World, duel = false): CoreConfig {
  let c = configs.get(w);
  if (c === undefined) {
    const plain: CoreConfig = {
      fleet: w.config.fleet,
      placements: w.policy.placements,
      ...(w.policy.perSlot !== undefined ? { placementsFor: w.policy.perSlot } : {}),
      launchTimeoutMs: w.config.launchTimeoutMs,
      startupGraceMs: SUSPECT_AFTER_MS,
      rebalanceWindowMs: rebalanceWindowMs(w),
      unknownGraceMs: DEAD_AFTER_MS,
      replaces: true,
    };
    c = { plain, duel: { ...plain, assumeLauncher: true } };
    configs.set(w, c);
  }
  return duel ? c.duel : c.plain;
}

/** The rebalance window: twice the mean lead of a recommendation, after which no interruption is likely to follow. */
export function rebalanceWindowMs(w: World): number {
  return w.config.rebalanceLeadMs * 2;
}

/** A side's agents took a peer's state into their view: the core's slot memory hears it. */
export function hear(w: World, side: number, peer: PeerFacts): void {
  const view = w.views[side]!;
  view.core = stepFleet(coreConfig(w), view.core, { kind: 'heard', peer }, w.now).state;
}
