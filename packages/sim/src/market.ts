import type { Rng } from '@synkti/interface';
import { HOUR_MS, PRICE_STEP_MS } from './constants.js';
import type { SimConfig } from './config.js';
import { exponential, normal } from './random.js';

/** One spot market: an instance type in one zone. */
export interface Market {
  zone: string;
  instanceType: string;
  /** Price in $/h per PRICE_STEP_MS step (Ornstein–Uhlenbeck path). */
  prices: Float64Array;
  /** Cumulative cost in $ at the start of each step, for O(1) billing of any interval. */
  cumulative: Float64Array;
  /** Capacity shortages as [start, end) ms pairs, sorted. */
  shortages: [number, number][];
}

/**
 * Builds every market's price path and shortage windows up front from the Rng: an OU process
 * dX = θ(μ − X)dt + σ dW, clamped to [0.2 μ, on-demand price] (a spot price above on-demand is
 * not bid in practice), and shortages arriving as a Poisson process with exponential lengths.
 */
export function buildMarkets(config: SimConfig, rng: Rng): Market[] {
  const steps = Math.ceil((config.hours * HOUR_MS) / PRICE_STEP_MS) + 2;
  const dt = PRICE_STEP_MS / HOUR_MS;
  const mu = config.spotPricePerHour;
  const markets: Market[] = [];
  for (const zone of config.zones) {
    for (const instanceType of config.instanceTypes) {
      const prices = new Float64Array(steps);
      const cumulative = new Float64Array(steps + 1);
      let x = mu;
      for (let i = 0; i < steps; i++) {
        x += config.ouThetaPerHour * (mu - x) * dt + config.ouSigma * Math.sqrt(dt) * normal(rng);
        x = Math.min(config.onDemandPricePerHour, Math.max(0.2 * mu, x));
        prices[i] = x;
        cumulative[i + 1] = cumulative[i]! + x * dt;
      }
      const shortages: [number, number][] = [];
      if (config.shortageRatePerHour > 0) {
        let t = exponential(rng, HOUR_MS / config.shortageRatePerHour);
        while (t < config.hours * HOUR_MS) {
          const end = t + exponential(rng, config.shortageMeanMs);
          shortages.push([t, end]);
          t = end + exponential(rng, HOUR_MS / config.shortageRatePerHour);
        }
      }
      markets.push({ zone, instanceType, prices, cumulative, shortages });
    }
  }
  return markets;
}

/** The spot price of a market at time t ($/h). */
export function priceAt(m: Market, t: number): number {
  const i = Math.min(m.prices.length - 1, Math.max(0, Math.floor(t / PRICE_STEP_MS)));
  return m.prices[i]!;
}

/** Cost in $ of one instance in market m from t0 to t1 (ms). */
export function spotCost(m: Market, t0: number, t1: number): number {
  return cumulativeAt(m, t1) - cumulativeAt(m, t0);
}

function cumulativeAt(m: Market, t: number): number {
  const pos = Math.max(0, t / PRICE_STEP_MS);
  const i = Math.min(m.prices.length - 1, Math.floor(pos));
  return m.cumulative[i]! + (pos - i) * m.prices[i]! * (PRICE_STEP_MS / HOUR_MS);
}

export function inShortage(m: Market, t: number): boolean {
  for (const [a, b] of m.shortages) {
    if (t < a) return false;
    if (t < b) return true;
  }
  return false;
}
