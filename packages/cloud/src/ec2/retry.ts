import type { Clock, Rng } from '@synkti/interface';
import { deadlineSignal } from '@synkti/interface';
import { THROTTLING_CODES, awsErrorDetail, classifyAwsError } from './aws-errors.js';

export interface RetryPolicy {
  /** Attempts in all, the first one included. */
  maxAttempts: number;
  /** Ceiling of the first backoff; doubles each retry up to `maxMs`. */
  baseMs: number;
  maxMs: number;
  /** Timeout of one attempt. */
  attemptTimeoutMs: number;
  /** Throttling (see THROTTLING_CODES) gets its own, longer schedule; absent: the same as other faults. */
  throttle?: { maxAttempts: number; baseMs: number; maxMs: number };
}

/** Waits `ms`, or rejects with the signal's reason when it aborts first. */
export type Sleep = (ms: number, signal?: AbortSignal) => Promise<void>;

export interface RetryContext {
  policy: RetryPolicy;
  rng: Rng;
  sleep: Sleep;
  /** The caller's signal: aborting it stops at once, never retried. */
  signal?: AbortSignal | undefined;
  /** Called before each backoff wait (for logs and tests). */
  onRetry?: (info: { attempt: number; delayMs: number; err: unknown }) => void;
}

/** Full jitter (AWS Architecture Blog, "Exponential Backoff and Jitter"): uniform in [0, min(max, base·2^n)). */
export function backoffDelayMs(policy: RetryPolicy, retry: number, rng: Rng): number {
  const ceiling = Math.min(policy.maxMs, policy.baseMs * 2 ** retry);
  return Math.floor(rng() * ceiling);
}

/** A Sleep on an injected clock, so tests can drive backoff with a ManualClock. */
export function clockSleep(clock: Clock): Sleep {
  return (ms, signal) =>
    new Promise<void>((resolve, reject) => {
      if (signal?.aborted) {
        reject(signal.reason);
        return;
      }
      const onAbort = (): void => {
        clock.clearTimeout(handle);
        reject(signal?.reason);
      };
      const handle = clock.setTimeout(() => {
        signal?.removeEventListener('abort', onAbort);
        resolve();
      }, ms);
      signal?.addEventListener('abort', onAbort, { once: true });
    });
}

/**
 * Runs `op` until it succeeds, fails with an error that is not retryable (see
 * classifyAwsError: throttling, 5xx other than capacity, socket errors and attempt timeouts
 * are), or runs out of attempts. Each attempt gets its own timeout signal joined to the
 * caller's. Safe for EC2 because every call we make is idempotent (RunInstances by ClientToken).
 */
export async function withRetry<T>(op: (signal: AbortSignal) => Promise<T>, ctx: RetryContext): Promise<T> {
  const { policy } = ctx;
  // Throttled attempts and other failed attempts count against separate limits.
  let throttledRetries = 0;
  let otherRetries = 0;
  for (let attempt = 1; ; attempt++) {
    if (ctx.signal?.aborted) throw ctx.signal.reason;
    // Not AbortSignal.any with AbortSignal.timeout: on Node 20 that can lose its timeout to GC.
    const signal = deadlineSignal(policy.attemptTimeoutMs, ctx.signal);
    try {
      return await op(signal);
    } catch (err) {
      if (ctx.signal?.aborted) throw ctx.signal.reason;
      // The caller's own abort was rethrown above: an aborted attempt signal is its deadline.
      const timedOut = signal.aborted;
      const retryable = timedOut || classifyAwsError(err) === 'retryable';
      const throttled = !timedOut && policy.throttle !== undefined && THROTTLING_CODES.has(awsErrorDetail(err).awsCode);
      if (throttled) throttledRetries++;
      else otherRetries++;
      const schedule = throttled ? { ...policy, ...policy.throttle! } : policy;
      if (!retryable || (throttled ? throttledRetries : otherRetries) >= schedule.maxAttempts) throw err;
      const delayMs = backoffDelayMs(schedule, (throttled ? throttledRetries : otherRetries) - 1, ctx.rng);
      ctx.onRetry?.({ attempt, delayMs, err });
      await ctx.sleep(delayMs, ctx.signal);
    }
  }
}
