/** Restart backoff settings; see constants.ts for the defaults and why. */
export interface BackoffOptions {
  initialMs: number;
  maxMs: number;
  /** Fraction of the delay added or removed at random, 0..1. */
  jitterRatio: number;
}

/**
 * The delay before restart number `failures` (1 for the first failure): `initialMs` doubling
 * per failure, capped at `maxMs`, held at the cap in a crash loop, then jittered by
 * ±`jitterRatio` using `u` (a uniform sample in [0, 1)) and clamped to the cap. Pure.
 */
export function backoffDelayMs(failures: number, crashLoop: boolean, options: BackoffOptions, u: number): number {
  const exponent = Math.max(0, Math.min(failures - 1, 30));
  const base = crashLoop ? options.maxMs : Math.min(options.maxMs, options.initialMs * 2 ** exponent);
  const jittered = base * (1 + options.jitterRatio * (2 * u - 1));
  return Math.round(Math.max(0, Math.min(options.maxMs, jittered)));
}
