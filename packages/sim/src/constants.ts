import { neighbourProbeDetectionMs, SUSPECT_AFTER_MS } from '@synkti/fleet';

/** Defaults of the simulator, each with why. Figures match design §3/§4 and issue 7. */
export const HOUR_MS = 3_600_000;
/** Issue 7: preemptions at 5 % per node-hour by default (the seed's rate). */
export const DEFAULT_HAZARD_PER_HOUR = 0.05;
/** AWS gives a spot instance a two-minute interruption notice. */
export const SPOT_NOTICE_MS = 120_000;
/** Share of interruptions announced earlier by a rebalance recommendation (AWS sends them "when it can"). */
export const REBALANCE_SHARE = 0.5;
/** Mean lead of a rebalance recommendation before the interruption notice. */
export const REBALANCE_LEAD_MS = 10 * 60_000;
/** The seed's prices: spot $0.30/h against on-demand $1.00/h. */
export const SPOT_PRICE_PER_HOUR = 0.3;
export const ON_DEMAND_PRICE_PER_HOUR = 1.0;
/** Spot prices move slowly: OU mean reversion per hour and volatility per sqrt(hour), stepped every 5 minutes. */
export const OU_THETA_PER_HOUR = 0.5;
export const OU_SIGMA = 0.04;
export const PRICE_STEP_MS = 5 * 60_000;
/** Time from RunInstances to the agent gossiping (boot + agent start) and to a warm engine (model load). */
export const BOOT_MS = 90_000;
export const COLD_START_MS = 300_000;
/** A launch not joined in this long is retried with the next generation (must exceed BOOT_MS). */
export const LAUNCH_TIMEOUT_MS = 600_000;
/** Heartbeat, suspicion and forgetting are the fleet's own membership timings (design §3), not a copy. */
export { HEARTBEAT_INTERVAL_MS as HEARTBEAT_MS, SUSPECT_AFTER_MS, DEAD_AFTER_MS, FORGET_AFTER_MS } from '@synkti/fleet';
/**
 * The latest a side notices a peer cut off by a partition: a neighbour's probe (the fleet's own
 * probe timings), or silence if that were sooner.
 */
export const CUT_OFF_NOTICED_WITHIN_MS = Math.max(SUSPECT_AFTER_MS, neighbourProbeDetectionMs(1));
/** The recheck cadence of a launcher below target: the fleet core's listing refresh. */
export { PROVIDER_REFRESH_MS } from '@synkti/fleet';
/** Gossip latency: measured p50 32 ms / p99 117 ms at 20 nodes (design §6); 1 % loss retried next heartbeat. */
export const GOSSIP_DELAY_MS = 30;
export const GOSSIP_JITTER_MS = 90;
export const GOSSIP_LOSS = 0.01;
/** The provider's instance count (DescribeInstances by tag) is refreshed this often. */
export const PROVIDER_POLL_MS = 30_000;
/** A draining node leaves after its in-flight requests finish; requests are seconds long. */
export const DRAIN_MS = 30_000;
/** Per-request service: prompt tokens at prefill speed plus output tokens at per-sequence decode speed. */
export const PREFILL_TOKENS_PER_S = 4_000;
export const DECODE_TOKENS_PER_S = 50;
export const PROMPT_TOKENS_MEAN = 600;
export const OUTPUT_TOKENS_MEAN = 150;
export const TOKENS_CV = 0.8;
/** Concurrent sequences per engine (vLLM max-num-seqs, small to keep per-node queues visible). */
export const NODE_CONCURRENCY = 8;
/** Offered load as a share of the full fleet's capacity. */
export const UTILISATION = 0.6;
/** A request queued longer than this fails (the client gives up). */
export const REQUEST_TIMEOUT_MS = 30_000;
/** Fluid traffic steps this often at large scale. */
export const FLUID_STEP_MS = 10_000;
/** Above this many requests the simulator uses the fluid model in `auto` mode. */
export const REQUEST_MODE_MAX_REQUESTS = 2_000_000;
/** Partitions: rare, minutes long, cutting off at most a minority. */
export const PARTITION_RATE_PER_HOUR = 0.02;
export const PARTITION_MEAN_MS = 5 * 60_000;
/** Correlated reclaim waves per market and the share of the market's instances each takes. */
export const WAVE_RATE_PER_HOUR = 0.01;
export const WAVE_SHARE = 0.3;
/** Spot capacity shortages per market: how often, and how long each lasts. */
export const SHORTAGE_RATE_PER_HOUR = 0.05;
export const SHORTAGE_MEAN_MS = 45 * 60_000;
/** Rebalance recommendations that no interruption follows, per spot node-hour. */
export const FALSE_REBALANCE_PER_HOUR = 0.01;
/** Instances that never join (bad host, image pull failure). */
export const BOOT_FAILURE_SHARE = 0.01;
/** Chance that a second agent also acts as launcher on the same view (duelling launchers, design §4). */
export const DUEL_SHARE = 0.1;
/**
 * Each node's clock is off the true time by up to this much, either way (uniform): EC2's time
 * sync keeps clocks within a millisecond, but the rule compares stamps from different nodes
 * (launch start, notice time, incarnation), so the sim runs it on clocks that disagree.
 */
export const CLOCK_SKEW_MS = 250;
/** Samples of fleet size and prices kept for charts. */
export const SERIES_POINTS = 400;
/** Autoscaling, as the agent's defaults (agent/src/config/keys.ts): windows, cooldowns, target utilisation. */
export const MIN_NODES = 2;
export const TARGET_UTILIZATION = 0.75;
export const SCALE_OUT_WINDOW_MS = 60_000;
export const SCALE_IN_WINDOW_MS = 10 * 60_000;
export const SCALE_OUT_COOLDOWN_MS = 3 * 60_000;
export const SCALE_IN_COOLDOWN_MS = 10 * 60_000;
/** The agent's SCALE_IN_LOAD_FRACTION: scale in only while the peak fits one node fewer at this share of the target load. */
export const SCALE_IN_LOAD_FRACTION = 0.7;
/** The launcher samples the fleet's load this often (the agent samples every tick; the sim's windows hold 6–60 samples). */
export const SCALE_SAMPLE_MS = 10_000;
/** Diurnal trace: a sine over 24 h whose peak is this many times its trough. */
export const DIURNAL_PEAK_TO_TROUGH = 4;
/** Bursty trace: a base load (share of peak), bursts to the peak this often, each this long on average. */
export const BURSTY_BASE = 0.35;
export const BURSTS_PER_DAY = 6;
export const BURST_MEAN_MS = 20 * 60_000;
/** Step trace (autoscale bench): this share of peak until STEP_AT_MS, the peak after. */
export const STEP_BASE = 0.3;
export const STEP_AT_MS = 2 * HOUR_MS;
/** An on-demand fallback asks to be replaced by spot this long after it started (the agent's spotReturnAfterMs). */
export const SPOT_RETURN_AFTER_MS = 15 * 60_000;
