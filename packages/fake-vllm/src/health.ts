import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';

/**
 * The healthDelayMs fault: a saturated vLLM's /health can take seconds to answer. Each probe
 * waits until healthDelayMs after its arrival; when the delay changes, waiting probes re-time
 * against the new value, so clearing the fault answers them at once.
 */
export class HealthDelay {
  #changed = new AbortController();
  #waiting = 0;

  /** Probes now being delayed. */
  get waiting(): number {
    return this.#waiting;
  }

  /** Tells waiting probes that healthDelayMs changed. */
  changed(): void {
    const previous = this.#changed;
    this.#changed = new AbortController();
    previous.abort();
  }

  /** Resolves true once `delayMs()` has passed since the call, false if `signal` aborts first. */
  async wait(delayMs: () => number, signal: AbortSignal): Promise<boolean> {
    const arrivedAt = performance.now();
    this.#waiting++;
    try {
      for (;;) {
        if (signal.aborted) return false;
        const remainingMs = arrivedAt + delayMs() - performance.now();
        if (remainingMs <= 0) return true;
        // Rejects when the client goes, the engine stops or the delay changes; the loop tells which.
        await sleep(remainingMs, undefined, { signal: AbortSignal.any([signal, this.#changed.signal]) }).catch(() => {});
      }
    } finally {
      this.#waiting--;
    }
  }
}
