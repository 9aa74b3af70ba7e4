import type { SimConfig } from './config.js';
import type { ProviderStats } from './provider.js';
import type { Counters } from './world.js';

/** Everything one run measured. Plain data: JSON.stringify of it is the `--json` output. */
export interface SimResult {
  config: SimConfig;
  policy: string;
  trafficMode: 'fluid' | 'requests';
  costUsd: number;
  onDemandCostUsd: number;
  /** 1 − cost ÷ (nodes × hours × on-demand price). */
  savings: number;
  requests: { arrived: number; served: number; failed: number; successRate: number; p99QueueMs: number };
  preemptions: number;
  rebalances: number;
  replacements: number;
  doubleLaunches: number;
  idempotentHits: number;
  mismatches: number;
  capacityErrors: number;
  bootFailures: number;
  surplusDrains: number;
  partitions: number;
  waves: number;
  /** Hours with fewer warm, serving agents than the target. */
  belowTargetHours: number;
  /** Hours with fewer provisioned instances (booting included, noticed excluded) than the target. */
  provisionedBelowTargetHours: number;
  /** Longest time to restore the provisioned target after the last loss or partition heal (ms). */
  maxRestoreMs: number;
  minorityLaunches: number;
  minorityLaunchesWithoutWitness: number;
  /** Node-hours billed, by kind. */
  hours: { spot: number; onDemand: number };
  /** Mean spot price paid per node-hour, beside the mean of every market's price over the run. */
  prices: { paidSpotPerHour: number | null; meanSpotPerHour: number };
  /** Autoscaling: moves of the target by direction, and each move (hour, from, to, reason; a scale-out's time to as many serving agents). */
  scale: { outs: number; ins: number; events: { h: number; from: number; to: number; reason: string; warmAfterMs: number | null }[] };
  /** Instances a launcher terminated before replacing them: dead in its view (quorum), still listed by the provider. */
  fenced: number;
  /** Of those, healthy agents the fencing side could reach (not cut off by a partition): must stay 0. */
  falseFencings: number;
  /** On-demand fallbacks that asked to be replaced by spot once spot capacity could be back. */
  spotReturns: number;
  evaluations: number;
  events: number;
  /** Charts: time (h), serving agents, live instances, target, offered load (sequences), prices per market. */
  series: { t: number[]; serving: number[]; instances: number[]; target: number[]; demand: number[]; prices: number[][]; markets: string[] };
}

export function countersToResult(c: Counters, p: ProviderStats): Pick<
  SimResult,
  | 'preemptions'
  | 'rebalances'
  | 'replacements'
  | 'doubleLaunches'
  | 'idempotentHits'
  | 'mismatches'
  | 'capacityErrors'
  | 'bootFailures'
  | 'surplusDrains'
  | 'partitions'
  | 'waves'
  | 'minorityLaunches'
  | 'minorityLaunchesWithoutWitness'
  | 'fenced'
  | 'falseFencings'
  | 'spotReturns'
  | 'evaluations'
  | 'events'
> {
  return {
    preemptions: c.preemptions,
    rebalances: c.rebalances,
    replacements: c.replacements,
    doubleLaunches: p.doubleLaunches,
    idempotentHits: p.idempotentHits,
    mismatches: p.mismatches,
    capacityErrors: p.capacityErrors,
    bootFailures: c.bootFailures,
    surplusDrains: c.surplusDrains,
    partitions: c.partitions,
    waves: c.waves,
    minorityLaunches: c.minorityLaunches,
    minorityLaunchesWithoutWitness: c.minorityLaunchesWithoutWitness,
    fenced: c.fenced,
    falseFencings: c.falseFencings,
    spotReturns: c.spotReturns,
    evaluations: c.evaluations,
    events: c.events,
  };
}
