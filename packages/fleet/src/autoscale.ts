import type { ScaleDecision } from '@synkti/protocol';
import { isHealthy, type PeerSnapshot } from './membership.js';

/**
 * Load-based fleet sizing with no leader. Pure: the launcher's shell samples the fleet's load
 * from its view, keeps a bounded window of samples, and asks `decideScale` whether the target
 * should move; the decision is gossiped with a generation, and every peer adopts the highest
 * generation it sees (`agreedScale`). The replacement rule then fills new slots and the surplus
 * rule drains the extra nodes, as for any other change of target.
 */
export interface AutoscaleConfig {
  minNodes: number;
  maxNodes: number;
  /** Sequences (running + waiting) one node should carry on average: vLLM's own signals. */
  targetLoadPerNode: number;
  /** KV-cache usage (0..1) that counts as full whatever the sequence count: long contexts fill the cache first. */
  kvCeiling: number;
  /** Load must stay above the target for this long before a scale-out. */
  scaleOutWindowMs: number;
  /** Load must stay low for this long before a scale-in. */
  scaleInWindowMs: number;
  /** No scale-out within this time of the last decision. */
  scaleOutCooldownMs: number;
  /** No scale-in within this time of the last decision (longer: a cold start costs minutes). */
  scaleInCooldownMs: number;
  /**
   * Scale in only while the peak load over the window would fit in one node fewer at this
   * fraction of the target load: the gap to the scale-out threshold is the hysteresis.
   */
  scaleInLoadFraction: number;
}

/** One look at the fleet's load. */
export interface LoadSample {
  at: number;
  /** Sequences running and waiting on healthy peers (their engines' gauges, or requests in flight). */
  demand: number;
  /** Healthy peers serving. */
  nodes: number;
  /** The fullest KV cache among them; null when no engine reports it. */
  kvMax: number | null;
}

/** Samples kept: a window of minutes at one sample a second, bounded. */
export const MAX_LOAD_SAMPLES = 3_600;

export function loadSample(peers: readonly PeerSnapshot[], now: number): LoadSample {
  let demand = 0;
  let nodes = 0;
  let kvMax: number | null = null;
  for (const p of peers) {
    if (!isHealthy(p.status, p.state)) continue;
    const load = p.state.load;
    nodes++;
    demand += (load.running ?? load.inFlight) + (load.waiting ?? 0);
    if (load.kvCacheUsage !== null) kvMax = Math.max(kvMax ?? 0, load.kvCacheUsage);
  }
  return { at: now, demand, nodes, kvMax };
}

/** Adds a sample and drops those older than `keepMs` (and beyond MAX_LOAD_SAMPLES). */
export function addSample(samples: readonly LoadSample[], sample: LoadSample, keepMs: number): LoadSample[] {
  const kept = samples.filter((s) => sample.at - s.at <= keepMs);
  kept.push(sample);
  return kept.length > MAX_LOAD_SAMPLES ? kept.slice(kept.length - MAX_LOAD_SAMPLES) : kept;
}

/**
 * The decision every peer follows: the highest generation any peer in view gossips, or null
 * when nobody has decided yet. Two deciders that acted at once (a launcher hand-over) made the
 * same generation: the larger target wins, so neither under-provisions and the launches of the
 * smaller one are a subset of the larger's (slot tokens are shared facts); then the later
 * decision, then any fixed order.
 */
export function agreedScale(peers: readonly PeerSnapshot[]): ScaleDecision | null {
  let best: ScaleDecision | null = null;
  for (const p of peers) {
    const d = p.state.scale;
    if (d === undefined || p.status === 'dead') continue;
    if (supersedes(d, best)) best = d;
  }
  return best;
}

/** Whether `a` wins over `b` (see agreedScale). */
export function supersedes(a: ScaleDecision, b: ScaleDecision | null): boolean {
  if (b === null) return true;
  if (a.generation !== b.generation) return a.generation > b.generation;
  if (a.target !== b.target) return a.target > b.target;
  if (a.decidedAt !== b.decidedAt) return a.decidedAt > b.decidedAt;
  return a.reason > b.reason;
}

/** The target in force: the agreed decision, or the configured size, within [min, max]. */
export function effectiveTarget(agreed: ScaleDecision | null, configured: number, config: Pick<AutoscaleConfig, 'minNodes' | 'maxNodes'>): number {
  return clamp(agreed?.target ?? configured, config.minNodes, config.maxNodes);
}

export interface ScaleInput {
  config: AutoscaleConfig;
  /** The target in force (see effectiveTarget) and the decision behind it, if any. */
  target: number;
  agreed: ScaleDecision | null;
  samples: readonly LoadSample[];
  /** A replacement launch is in flight or the fleet is below target: never scale in then. */
  replacing: boolean;
  now: number;
}

export type ScaleVerdict = { kind: 'decide'; decision: ScaleDecision } | { kind: 'hold'; reason: ScaleHold };
export type ScaleHold = 'steady' | 'window-not-full' | 'cooldown' | 'replacing' | 'at-min' | 'at-max';

/**
 * Whether the target should move, from the samples of the last windows:
 * - out when even the lowest demand over `scaleOutWindowMs` needs more nodes at the target
 *   load (or every sample's KV cache was above the ceiling): to the nodes that demand needs;
 * - in, one node at a time, when even the highest demand over `scaleInWindowMs` fits in one
 *   node fewer at `scaleInLoadFraction` of the target load, and no replacement is running.
 * A window counts only when samples cover it; each direction has its cooldown from the last
 * decision. Never outside [minNodes, maxNodes].
 */
export function decideScale(input: ScaleInput): ScaleVerdict {
  const { config, target, now } = input;
  const since = input.agreed?.decidedAt ?? Number.NEGATIVE_INFINITY;
  const generation = (input.agreed?.generation ?? 0) + 1;
  if (target < config.minNodes) return decide(config.minNodes, generation, now, 'below-min');
  if (target > config.maxNodes) return decide(config.maxNodes, generation, now, 'above-max');
  const outWindow = windowOf(input.samples, now, config.scaleOutWindowMs);
  if (outWindow !== null) {
    const lowest = Math.min(...outWindow.map((s) => s.demand));
    const need = Math.ceil(lowest / config.targetLoadPerNode);
    const kvFull = outWindow.every((s) => s.kvMax !== null && s.kvMax >= config.kvCeiling);
    const wanted = Math.max(need, kvFull ? target + 1 : 0);
    if (wanted > target) {
      if (target >= config.maxNodes) return { kind: 'hold', reason: 'at-max' };
      if (now - since < config.scaleOutCooldownMs) return { kind: 'hold', reason: 'cooldown' };
      return decide(Math.min(config.maxNodes, wanted), generation, now, kvFull && need <= target ? 'kv-cache-full' : 'load-high');
    }
  }
  const inWindow = windowOf(input.samples, now, config.scaleInWindowMs);
  if (inWindow === null) return { kind: 'hold', reason: outWindow === null ? 'window-not-full' : 'steady' };
  const highest = Math.max(...inWindow.map((s) => s.demand));
  const kvHigh = inWindow.some((s) => s.kvMax !== null && s.kvMax >= config.kvCeiling * config.scaleInLoadFraction);
  if (target > 1 && highest <= (target - 1) * config.targetLoadPerNode * config.scaleInLoadFraction && !kvHigh) {
    if (target <= config.minNodes) return { kind: 'hold', reason: 'at-min' };
    if (input.replacing) return { kind: 'hold', reason: 'replacing' };
    if (now - since < config.scaleInCooldownMs) return { kind: 'hold', reason: 'cooldown' };
    return decide(target - 1, generation, now, 'load-low');
  }
  return { kind: 'hold', reason: 'steady' };
}

/** The samples of the last `windowMs`, or null when they do not reach back that far. */
function windowOf(samples: readonly LoadSample[], now: number, windowMs: number): LoadSample[] | null {
  const first = samples[0];
  if (first === undefined || now - first.at < windowMs) return null;
  const inside = samples.filter((s) => now - s.at <= windowMs);
  return inside.length === 0 ? null : inside;
}

const decide = (target: number, generation: number, now: number, reason: string): ScaleVerdict => ({ kind: 'decide', decision: { target, generation, decidedAt: now, reason } });

const clamp = (n: number, lo: number, hi: number): number => Math.min(hi, Math.max(lo, n));
