import { type LaunchDecision, type LaunchRecord, launchToken } from '@synkti/fleet';
import type { CloudProvider, Logger } from '@synkti/interface';
import type { ReplacerInit } from './replacer.js';

/** A look-up by token that has not answered by then has failed. */
const LOOKUP_TIMEOUT_MS = 10_000;
/** After an earlier launch was found (or a holder answered its probe), the next look is this much later. */
const SUPERSEDE_RECHECK_MS = 15_000;
/** Decisions waiting on such a look, at most (oldest dropped first). */
const MAX_HELD_DECISIONS = 1_024;

/**
 * The second looks the replacer takes before an irreversible step, because gossip and listings
 * can be wrong: before a new generation supersedes a launch (does the provider hold it after
 * all?), and before a silent holder is fenced (does its agent still answer?). A look that says
 * "wait" holds that step for SUPERSEDE_RECHECK_MS, so a tick does not ask again at once.
 */
export class SecondLooks {
  readonly #init: ReplacerInit & { provider: CloudProvider };
  readonly #log: Logger;
  /** Steps waiting on a look: key → time of the next look. */
  readonly #heldUntil = new Map<string, number>();

  constructor(init: ReplacerInit & { provider: CloudProvider }, log: Logger) {
    this.#init = init;
    this.#log = log;
  }

  #hold(key: string, now: number): void {
    this.#heldUntil.set(key, now + SUPERSEDE_RECHECK_MS);
    if (this.#heldUntil.size > MAX_HELD_DECISIONS) this.#heldUntil.delete(this.#heldUntil.keys().next().value as string);
  }

  /**
   * Fencing terminates a GPU node and its loaded model: before it, the node's agent is probed
   * directly (gossip silence alone can be a GC pause or a congested link). One that answers is
   * not fenced now; it is asked again SUPERSEDE_RECHECK_MS later if the rule still says so.
   */
  async confirmedGone(instanceId: string): Promise<boolean> {
    const confirm = this.#init.confirmGone;
    if (confirm === undefined) return true;
    const key = `fence:${instanceId}`;
    if ((this.#heldUntil.get(key) ?? 0) > this.#init.clock.now()) return false;
    const gone = await confirm(instanceId).catch(() => true);
    if (gone) return true;
    this.#log.warn({ instanceId }, 'not fencing: its agent answers a direct probe though gossip has not heard it');
    this.#hold(key, this.#init.clock.now());
    return false;
  }

  /**
   * A new generation supersedes earlier launches of the slot only when the provider, asked
   * directly by every attempt token of theirs, holds none of them: the fleet listing may lag
   * behind a launch that succeeded. While one exists (or the look-up fails) the slot waits.
   */
  async earlierLaunchGone(decision: LaunchDecision, records: readonly LaunchRecord[]): Promise<boolean> {
    const find = this.#init.provider.findInstances?.bind(this.#init.provider);
    if (find === undefined) return true;
    const key = `${decision.slot}:${decision.replaces}:${decision.generation}`;
    const now = this.#init.clock.now();
    if ((this.#heldUntil.get(key) ?? 0) > now) return false;
    const tokens = new Set<string>();
    for (const r of records) {
      if (r.slot !== decision.slot || r.replaces !== decision.replaces || r.generation >= decision.generation) continue;
      tokens.add(r.token);
      for (let k = 0; k < this.#init.placements.length; k++) {
        tokens.add(launchToken({ fleet: this.#init.fleet, slot: r.slot, replaces: r.replaces, generation: r.generation, placementIndex: k, epoch: this.#init.epoch }));
      }
    }
    if (tokens.size === 0) return true;
    try {
      const found = await find({ tokens: [...tokens] }, AbortSignal.timeout(LOOKUP_TIMEOUT_MS));
      if (found.length === 0) return true;
      this.#log.warn({ slot: decision.slot, generation: decision.generation, found: found.map((i) => i.instanceId) }, 'not superseding: an earlier launch of this slot exists though the listing lacks it');
    } catch (err) {
      this.#log.warn({ err, slot: decision.slot }, 'cannot confirm an earlier launch is gone; the slot waits');
    }
    this.#hold(key, now);
    return false;
  }}
