import type { Rng } from '@synkti/interface';
import type { TrafficShape } from '../config.js';
import { BURST_MEAN_MS, BURSTS_PER_DAY, BURSTY_BASE, DIURNAL_PEAK_TO_TROUGH, HOUR_MS, STEP_AT_MS, STEP_BASE } from '../constants.js';
import { exponential } from '../random.js';

/** Offered load over time as a share of the peak (0..1]: the trace the fleet, fixed or autoscaled, must serve. */
export interface LoadShape {
  readonly name: TrafficShape;
  factorAt(t: number): number;
}

const DAY_MS = 24 * HOUR_MS;

/**
 * Builds a trace. Every random choice (burst times) is drawn here, up front, from its own Rng,
 * so a trace is the same for every policy and for the fixed and the autoscaled fleet of a seed.
 * - constant: the peak all the time (the simulator's original traffic);
 * - diurnal: a 24 h sine from its trough at t = 0 to its peak at 12 h, peak ÷ trough = 4;
 * - bursty: a base of 35 % of peak with bursts to the peak, ~6 a day, ~20 min each;
 * - step: 30 % of peak until 2 h, then the peak (the autoscale bench's load step).
 */
export function buildShape(shape: TrafficShape, endMs: number, rng: Rng): LoadShape {
  switch (shape) {
    case 'constant':
      return { name: shape, factorAt: () => 1 };
    case 'diurnal': {
      // (1 + a sin) / (1 + a) with (1 + a) / (1 − a) = peak ÷ trough.
      const a = (DIURNAL_PEAK_TO_TROUGH - 1) / (DIURNAL_PEAK_TO_TROUGH + 1);
      return { name: shape, factorAt: (t) => (1 + a * Math.sin((2 * Math.PI * t) / DAY_MS - Math.PI / 2)) / (1 + a) };
    }
    case 'bursty': {
      const bursts = burstWindows(endMs, rng);
      return { name: shape, factorAt: (t) => (inWindow(bursts, t) ? 1 : BURSTY_BASE) };
    }
    case 'step':
      return { name: shape, factorAt: (t) => (t < STEP_AT_MS ? STEP_BASE : 1) };
  }
}

/** Bursts as sorted, non-overlapping [start, end) pairs: Poisson starts, exponential lengths. */
function burstWindows(endMs: number, rng: Rng): [number, number][] {
  const out: [number, number][] = [];
  let t = exponential(rng, DAY_MS / BURSTS_PER_DAY);
  while (t < endMs) {
    const end = t + exponential(rng, BURST_MEAN_MS);
    out.push([t, end]);
    t = end + exponential(rng, DAY_MS / BURSTS_PER_DAY);
  }
  return out;
}

/** Binary search: whether t falls in one of the sorted windows. */
function inWindow(windows: readonly [number, number][], t: number): boolean {
  let lo = 0;
  let hi = windows.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    const [a, b] = windows[mid]!;
    if (t < a) hi = mid - 1;
    else if (t >= b) lo = mid + 1;
    else return true;
  }
  return false;
}
