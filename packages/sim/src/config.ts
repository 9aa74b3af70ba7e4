import * as C from './constants.js';
import { SimConfigError } from './errors.js';

export type PolicyName = 'greedy' | 'fallback' | 'mixed' | 'on-demand';
export const POLICY_NAMES: readonly PolicyName[] = ['greedy', 'fallback', 'mixed', 'on-demand'];
export type TrafficMode = 'auto' | 'fluid' | 'requests';
/** How offered load moves over time (see traffic/shape.ts); `step` is for the autoscale bench. */
export type TrafficShape = 'constant' | 'diurnal' | 'bursty' | 'step';
export const TRAFFIC_SHAPES: readonly TrafficShape[] = ['constant', 'diurnal', 'bursty', 'step'];
/** Spot placement order, as the agent's placementOrder: spread by slot only, or `price`: cheapest pools first. */
export type PlacementOrder = 'spread' | 'price';

export interface SimConfig {
  nodes: number;
  hours: number;
  seed: number;
  policy: PolicyName;
  /** On-demand anchor nodes of the `mixed` policy. */
  anchors: number;
  zones: string[];
  instanceTypes: string[];
  spotPricePerHour: number;
  onDemandPricePerHour: number;
  ouThetaPerHour: number;
  ouSigma: number;
  hazardPerHour: number;
  noticeMs: number;
  rebalanceShare: number;
  rebalanceLeadMs: number;
  falseRebalancePerHour: number;
  waveRatePerHour: number;
  waveShare: number;
  shortageRatePerHour: number;
  shortageMeanMs: number;
  bootMs: number;
  coldStartMs: number;
  bootFailureShare: number;
  launchTimeoutMs: number;
  gossipDelayMs: number;
  gossipJitterMs: number;
  gossipLoss: number;
  partitionRatePerHour: number;
  partitionMeanMs: number;
  duelShare: number;
  /** Largest difference of a node's clock from the true time, either way (ms). */
  clockSkewMs: number;
  traffic: TrafficMode;
  /** Offered load over time; its peak is `utilisation` of `nodes` (the fleet sized for peak). */
  trafficShape: TrafficShape;
  /** Offered load as a share of the full fleet's capacity at the trace's peak. */
  utilisation: number;
  /** Size the fleet by load with the fleet's own rule (decideScale) between minNodes and `nodes`. */
  autoscale: boolean;
  minNodes: number;
  /** Autoscale: the share of a node's sequence slots it should carry on average (the agent's targetUtilization). */
  targetUtilization: number;
  scaleOutWindowMs: number;
  scaleInWindowMs: number;
  scaleOutCooldownMs: number;
  scaleInCooldownMs: number;
  placementOrder: PlacementOrder;
  /** An on-demand fallback asks to be replaced by spot this long after it started; 0: never. */
  spotReturnAfterMs: number;
  requestTimeoutMs: number;
  /** Fleet name used in launch tokens. */
  fleet: string;
}

export const defaultConfig: SimConfig = {
  nodes: 50,
  hours: 72,
  seed: 1,
  policy: 'fallback',
  anchors: 1,
  zones: ['us-east-1a', 'us-east-1b', 'us-east-1c'],
  instanceTypes: ['g5.xlarge', 'g6.xlarge'],
  spotPricePerHour: C.SPOT_PRICE_PER_HOUR,
  onDemandPricePerHour: C.ON_DEMAND_PRICE_PER_HOUR,
  ouThetaPerHour: C.OU_THETA_PER_HOUR,
  ouSigma: C.OU_SIGMA,
  hazardPerHour: C.DEFAULT_HAZARD_PER_HOUR,
  noticeMs: C.SPOT_NOTICE_MS,
  rebalanceShare: C.REBALANCE_SHARE,
  rebalanceLeadMs: C.REBALANCE_LEAD_MS,
  falseRebalancePerHour: C.FALSE_REBALANCE_PER_HOUR,
  waveRatePerHour: C.WAVE_RATE_PER_HOUR,
  waveShare: C.WAVE_SHARE,
  shortageRatePerHour: C.SHORTAGE_RATE_PER_HOUR,
  shortageMeanMs: C.SHORTAGE_MEAN_MS,
  bootMs: C.BOOT_MS,
  coldStartMs: C.COLD_START_MS,
  bootFailureShare: C.BOOT_FAILURE_SHARE,
  launchTimeoutMs: C.LAUNCH_TIMEOUT_MS,
  gossipDelayMs: C.GOSSIP_DELAY_MS,
  gossipJitterMs: C.GOSSIP_JITTER_MS,
  gossipLoss: C.GOSSIP_LOSS,
  partitionRatePerHour: C.PARTITION_RATE_PER_HOUR,
  partitionMeanMs: C.PARTITION_MEAN_MS,
  duelShare: C.DUEL_SHARE,
  clockSkewMs: C.CLOCK_SKEW_MS,
  traffic: 'auto',
  trafficShape: 'constant',
  utilisation: C.UTILISATION,
  autoscale: false,
  minNodes: C.MIN_NODES,
  targetUtilization: C.TARGET_UTILIZATION,
  scaleOutWindowMs: C.SCALE_OUT_WINDOW_MS,
  scaleInWindowMs: C.SCALE_IN_WINDOW_MS,
  scaleOutCooldownMs: C.SCALE_OUT_COOLDOWN_MS,
  scaleInCooldownMs: C.SCALE_IN_COOLDOWN_MS,
  // As the agent's default: price order concentrates slots in the cheapest pools, which a reclaim
  // wave then hits together (two of 2,000 hostile seeds restored in 23 and 37 min with it).
  placementOrder: 'spread',
  spotReturnAfterMs: C.SPOT_RETURN_AFTER_MS,
  requestTimeoutMs: C.REQUEST_TIMEOUT_MS,
  fleet: 'sim',
};

/** Fills defaults and rejects impossible values with a one-line message. */
export function resolveConfig(partial: Partial<SimConfig> = {}): SimConfig {
  const c: SimConfig = { ...defaultConfig, ...partial };
  // The default floor never exceeds a smaller fleet; an explicit one is checked below.
  if (partial.minNodes === undefined) c.minNodes = Math.min(c.minNodes, c.nodes);
  const need = (ok: boolean, msg: string): void => {
    if (!ok) throw new SimConfigError(msg);
  };
  need(Number.isInteger(c.nodes) && c.nodes >= 1 && c.nodes <= 100_000, `--nodes must be an integer 1..100000, got ${c.nodes}`);
  need(Number.isFinite(c.hours) && c.hours > 0 && c.hours <= 24 * 365, `--hours must be > 0 and <= 8760, got ${c.hours}`);
  need(Number.isInteger(c.seed) && c.seed >= 0 && c.seed <= 0xffffffff, `--seed must be an integer 0..4294967295, got ${c.seed}`);
  need(POLICY_NAMES.includes(c.policy), `--policy must be one of ${POLICY_NAMES.join(', ')}, got ${c.policy}`);
  need(Number.isInteger(c.anchors) && c.anchors >= 0 && c.anchors <= c.nodes, `anchors must be 0..nodes, got ${c.anchors}`);
  need(c.zones.length > 0 && c.instanceTypes.length > 0, 'at least one zone and one instance type');
  need(c.launchTimeoutMs > c.bootMs, 'the launch timeout must exceed the boot time');
  need(Number.isFinite(c.clockSkewMs) && c.clockSkewMs >= 0 && c.clockSkewMs < c.launchTimeoutMs, `clockSkewMs must be >= 0 and below the launch timeout, got ${c.clockSkewMs}`);
  for (const key of ['hazardPerHour', 'rebalanceShare', 'waveShare', 'bootFailureShare', 'gossipLoss', 'duelShare'] as const) {
    need(c[key] >= 0 && (key === 'hazardPerHour' || c[key] <= 1), `${key} out of range: ${c[key]}`);
  }
  need(c.gossipLoss < 1, 'gossipLoss must be < 1');
  need(c.utilisation > 0 && c.utilisation < 5, `utilisation must be in (0, 5), got ${c.utilisation}`);
  need(TRAFFIC_SHAPES.includes(c.trafficShape), `--traffic must be one of ${TRAFFIC_SHAPES.join(', ')}, got ${c.trafficShape}`);
  need(c.placementOrder === 'spread' || c.placementOrder === 'price', `--placement must be spread or price, got ${c.placementOrder}`);
  need(Number.isFinite(c.spotReturnAfterMs) && c.spotReturnAfterMs >= 0, `spotReturnAfterMs must be >= 0, got ${c.spotReturnAfterMs}`);
  need(Number.isInteger(c.minNodes) && c.minNodes >= 1 && c.minNodes <= c.nodes, `--min-nodes must be an integer 1..nodes (${c.nodes}), got ${c.minNodes}`);
  need(c.targetUtilization > 0 && c.targetUtilization <= 1, `--target-utilization must be in (0, 1], got ${c.targetUtilization}`);
  for (const key of ['scaleOutWindowMs', 'scaleInWindowMs', 'scaleOutCooldownMs', 'scaleInCooldownMs'] as const) {
    need(Number.isFinite(c[key]) && c[key] > 0, `${key} must be > 0, got ${c[key]}`);
  }
  return c;
}
