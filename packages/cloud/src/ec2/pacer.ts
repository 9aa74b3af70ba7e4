import type { Clock } from '@synkti/interface';
import type { Sleep } from './retry.js';

/**
 * Spaces calls to at most `perSecond` (bursts of up to `burst`) on an injected clock: the
 * generic cell rate algorithm, so each caller learns its wait at once and no caller spins.
 * RunInstances has a small, account-wide request bucket; a spot wave's launches queue here
 * rather than being throttled by EC2 and abandoning their walks.
 */
export class Pacer {
  readonly #intervalMs: number;
  readonly #burst: number;
  readonly #clock: Clock;
  readonly #sleep: Sleep;
  /** Theoretical arrival time of the next call (GCRA's TAT). */
  #next = Number.NEGATIVE_INFINITY;

  constructor(perSecond: number, burst: number, clock: Clock, sleep: Sleep) {
    this.#intervalMs = 1_000 / perSecond;
    this.#burst = Math.max(1, Math.floor(burst));
    this.#clock = clock;
    this.#sleep = sleep;
  }

  /** Resolves when the call may go (rejects if `signal` aborts first). */
  async take(signal?: AbortSignal): Promise<void> {
    const now = this.#clock.now();
    const tat = Math.max(this.#next, now);
    const waitMs = tat - now - (this.#burst - 1) * this.#intervalMs;
    this.#next = tat + this.#intervalMs;
    if (waitMs > 0) await this.#sleep(waitMs, signal);
  }
}
