import type { Rng } from '@synkti/interface';

/** Distributions drawn from an injected uniform Rng: the simulator's only source of chance. */
export function exponential(rng: Rng, mean: number): number {
  return -Math.log(1 - rng()) * mean;
}

/** Standard normal (Box–Muller, one value per call). */
export function normal(rng: Rng): number {
  const u = 1 - rng();
  const v = rng();
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
}

/** Log-normal with the given mean and coefficient of variation. */
export function lognormal(rng: Rng, mean: number, cv: number): number {
  const s2 = Math.log(1 + cv * cv);
  return mean * Math.exp(Math.sqrt(s2) * normal(rng) - s2 / 2);
}

/** Poisson count: exact (Knuth) for small means, normal approximation above 50. */
export function poisson(rng: Rng, mean: number): number {
  if (mean <= 0) return 0;
  if (mean > 50) return Math.max(0, Math.round(mean + Math.sqrt(mean) * normal(rng)));
  const limit = Math.exp(-mean);
  let k = 0;
  let p = rng();
  while (p > limit) {
    k++;
    p *= rng();
  }
  return k;
}

/** A hex identifier of `len` characters (peer IDs: their order is what the launcher rule uses). */
export function hexId(rng: Rng, len: number): string {
  let s = '';
  while (s.length < len) s += Math.floor(rng() * 0x10000).toString(16).padStart(4, '0');
  return s.slice(0, len);
}
