import {
  DECODE_TOKENS_PER_S,
  NODE_CONCURRENCY,
  OUTPUT_TOKENS_MEAN,
  PREFILL_TOKENS_PER_S,
  PROMPT_TOKENS_MEAN,
  TOKENS_CV,
} from '../constants.js';
import type { SimConfig } from '../config.js';
import type { Rng } from '@synkti/interface';
import { lognormal } from '../random.js';
import type { LoadShape } from './shape.js';

/** Mean service time of one request on one engine sequence slot (ms). */
export const MEAN_SERVICE_MS = (PROMPT_TOKENS_MEAN / PREFILL_TOKENS_PER_S + OUTPUT_TOKENS_MEAN / DECODE_TOKENS_PER_S) * 1000;

/** Offered load in requests per second for the whole fleet at the trace's peak. */
export function arrivalRatePerS(config: SimConfig): number {
  return (config.utilisation * config.nodes * NODE_CONCURRENCY * 1000) / MEAN_SERVICE_MS;
}

/** One request's service time from log-normal prompt and output token counts. */
export function sampleServiceMs(rng: Rng): number {
  const prompt = lognormal(rng, PROMPT_TOKENS_MEAN, TOKENS_CV);
  const output = lognormal(rng, OUTPUT_TOKENS_MEAN, TOKENS_CV);
  return (prompt / PREFILL_TOKENS_PER_S + output / DECODE_TOKENS_PER_S) * 1000;
}

/** Traffic outcome, identical in shape for the fluid and the request-level model. */
export interface TrafficStats {
  arrived: number;
  served: number;
  failed: number;
  /** Queueing-delay samples (request mode) or per-step mixture components (fluid mode), folded by `p99`. */
  delaySumMs: number;
}

/** Traffic state carried by the world; `waits` holds request-mode delays, `steps` fluid components. */
export interface TrafficState {
  mode: 'fluid' | 'requests';
  /** Arrivals per second at the trace's peak; `rateAt` scales it by the shape. */
  peakRatePerS: number;
  shape: LoadShape;
  /** Fluid mode: sequences running plus waiting fleet-wide at the last step (the autoscaler's demand). */
  demand: number;
  arrived: number;
  served: number;
  failed: number;
  backlog: number;
  waits: Float64Array;
  waitCount: number;
  /** Fluid components: weight, deterministic wait (ms), P(wait), tail rate (1/ms), flattened. */
  steps: number[];
  pWaitCache: Map<number, number>;
}

export function newTraffic(mode: 'fluid' | 'requests', peakRatePerS: number, shape: LoadShape): TrafficState {
  return {
    mode,
    peakRatePerS,
    shape,
    demand: 0,
    arrived: 0,
    served: 0,
    failed: 0,
    backlog: 0,
    waits: new Float64Array(1024),
    waitCount: 0,
    steps: [],
    pWaitCache: new Map(),
  };
}

export function recordWait(t: TrafficState, ms: number): void {
  if (t.waitCount === t.waits.length) {
    const grown = new Float64Array(t.waits.length * 2);
    grown.set(t.waits);
    t.waits = grown;
  }
  t.waits[t.waitCount++] = ms;
}

/** Arrivals per second offered at time t. */
export function rateAt(t: TrafficState, now: number): number {
  return t.peakRatePerS * t.shape.factorAt(now);
}
