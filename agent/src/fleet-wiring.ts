import type { MembershipView } from '@synkti/fleet';
import type { Clock, Logger } from '@synkti/interface';
import type { AgentMetrics } from '@synkti/gateway';
import { Autoscaler } from './autoscaler.js';
import type { CloudWiring } from './cloud-wiring.js';
import type { AgentConfig } from './config/index.js';
import { InterruptionHandler } from './interruption.js';
import { Replacer } from './replacer.js';

/** Scale in only while the peak load would fit one node fewer at this share of the target load: the hysteresis. */
const SCALE_IN_LOAD_FRACTION = 0.7;

/** What the fleet's shells share from the agent that runs them. */
export interface FleetWiringDeps {
  config: AgentConfig;
  view: MembershipView;
  clock: Clock;
  logger: Logger;
  self: () => string;
  publishNow: () => void;
  metrics: () => AgentMetrics | undefined;
}

export function newInterruptionHandler(d: FleetWiringDeps, drain: (serveForMs: number, relayForMs: number, reason: string) => Promise<void>, leave: (reason: string) => void): InterruptionHandler {
  return new InterruptionHandler({
    drain,
    clock: d.clock,
    logger: d.logger,
    drainMarginMs: d.config.drainMarginMs,
    rebalanceWindowMs: d.config.rebalanceWindowMs,
    publishNow: d.publishNow,
    leave,
    onNotice: (kind) => d.metrics()?.interruptions.inc({ kind }),
  });
}

/** The shell around the fleet core, from the agent's config (target, placements, timings). */
export function newReplacer(d: FleetWiringDeps, cloud: CloudWiring, extra: { target: () => number; confirmGone: (instanceId: string) => Promise<boolean>; onSurplus: (reason: string) => void }): Replacer {
  const c = d.config;
  return new Replacer({
    fleet: c.fleet,
    self: d.self,
    target: extra.target,
    ...(cloud.provider !== undefined ? { provider: cloud.provider } : {}),
    placements: cloud.placements,
    launchTimeoutMs: c.launchTimeoutMs,
    epoch: c.fleetEpoch ?? (c.provider === 'ec2' ? c.ec2LaunchTemplate : undefined),
    priceAware: c.placementOrder === 'price',
    confirmGone: extra.confirmGone,
    view: d.view,
    clock: d.clock,
    logger: d.logger,
    publishNow: d.publishNow,
    onLaunch: (outcome) => d.metrics()?.launches.inc({ outcome }),
    assumeLauncher: c.testAssumeLauncher,
    startupGraceMs: c.suspectAfterMs,
    rebalanceWindowMs: c.rebalanceWindowMs,
    unknownGraceMs: c.deadAfterMs,
    onSurplus: extra.onSurplus,
  });
}

export function newAutoscaler(d: FleetWiringDeps, replacer: Replacer): Autoscaler {
  const c = d.config;
  return new Autoscaler({
    config: {
      minNodes: c.minNodes, maxNodes: c.maxNodes, targetLoadPerNode: c.targetLoadPerNode, targetUtilization: c.targetUtilization, kvCeiling: c.kvCacheCeiling,
      scaleOutWindowMs: c.scaleOutWindowMs, scaleInWindowMs: c.scaleInWindowMs, scaleOutCooldownMs: c.scaleOutCooldownMs, scaleInCooldownMs: c.scaleInCooldownMs, scaleInLoadFraction: SCALE_IN_LOAD_FRACTION,
    },
    configured: c.targetSize,
    view: d.view,
    clock: d.clock,
    logger: d.logger,
    isLauncher: () => c.testAssumeLauncher || (replacer.lastPlan?.launcher === d.self() && replacer.lastPlan.quorum),
    replacing: () => (replacer.lastPlan?.deficit ?? 0) > 0 || replacer.launchesInFlight().length > 0,
    publishNow: d.publishNow,
    onDecision: (from, dec) => d.metrics()?.scaleDecisions.inc({ direction: dec.target > from ? 'out' : 'in', reason: dec.reason }),
  });
}
