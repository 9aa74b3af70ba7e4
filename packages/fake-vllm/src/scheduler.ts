import { HttpError } from './errors.js';

interface Waiter {
  grant: () => void;
}

/**
 * vLLM's admission in miniature: at most `maxNumSeqs` sequences run at once; the rest wait in
 * arrival order. A waiter whose signal aborts leaves the queue without taking a slot. While
 * held (a stalled engine schedules nothing) every newcomer waits, even with slots free.
 *
 * It never preempts: admission is by sequence count alone, with no KV-block budget that could
 * run out mid-decode, so `vllm:num_preemptions_total` stays 0.
 */
export class Scheduler {
  readonly #maxNumSeqs: number;
  readonly #maxWaiting: number;
  readonly #queue: Waiter[] = [];
  #running = 0;
  #held = false;

  constructor(maxNumSeqs: number, maxWaiting: number) {
    this.#maxNumSeqs = maxNumSeqs;
    this.#maxWaiting = maxWaiting;
  }

  get running(): number {
    return this.#running;
  }

  get waiting(): number {
    return this.#queue.length;
  }

  /** Whether `count` more sequences fit: in free slots, else in the waiting queue's room. */
  hasRoom(count: number): boolean {
    const free = this.#queue.length === 0 && !this.#held ? Math.max(0, this.#maxNumSeqs - this.#running) : 0;
    return this.#queue.length + Math.max(0, count - free) <= this.#maxWaiting;
  }

  /** Holds admission (newcomers wait) or resumes it, granting free slots in arrival order. */
  setHeld(held: boolean): void {
    this.#held = held;
    this.#grantFree();
  }

  /** Resolves once a slot is held; the caller must `release()` it exactly once. */
  acquire(signal: AbortSignal): Promise<void> {
    if (signal.aborted) return Promise.reject(signal.reason);
    if (!this.#held && this.#running < this.#maxNumSeqs && this.#queue.length === 0) {
      this.#running++;
      return Promise.resolve();
    }
    if (this.#queue.length >= this.#maxWaiting) {
      return Promise.reject(new HttpError(503, 'ServiceUnavailableError', 'The waiting queue is full.'));
    }
    return new Promise<void>((resolve, reject) => {
      const onAbort = (): void => {
        const at = this.#queue.indexOf(waiter);
        if (at >= 0) this.#queue.splice(at, 1);
        reject(signal.reason);
      };
      const waiter: Waiter = {
        grant: () => {
          signal.removeEventListener('abort', onAbort);
          this.#running++;
          resolve();
        },
      };
      signal.addEventListener('abort', onAbort, { once: true });
      this.#queue.push(waiter);
    });
  }

  release(): void {
    this.#running = Math.max(0, this.#running - 1);
    this.#grantFree();
  }

  #grantFree(): void {
    while (!this.#held && this.#running < this.#maxNumSeqs) {
      const next = this.#queue.shift();
      if (next === undefined) break;
      next.grant();
    }
  }
}
