/** Why generation may be held: a hang (the whole server is stuck) or a stall (the engine is deadlocked). */
export type HoldReason = 'hang' | 'stall';

/**
 * Where a generation waits between its steps while something holds the engine. Closed while
 * any reason holds it; opening wakes every waiter. A waiter whose signal aborts leaves at once.
 */
export class Gate {
  readonly #reasons = new Set<HoldReason>();
  readonly #waiters = new Set<() => void>();

  get open(): boolean {
    return this.#reasons.size === 0;
  }

  set(reason: HoldReason, holds: boolean): void {
    if (holds) this.#reasons.add(reason);
    else this.#reasons.delete(reason);
    if (!this.open) return;
    const waiters = [...this.#waiters];
    this.#waiters.clear();
    for (const wake of waiters) wake();
  }

  /** Resolves at once when open, else when opened; rejects with the signal's reason on abort. */
  wait(signal: AbortSignal): Promise<void> {
    signal.throwIfAborted();
    if (this.open) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const onAbort = (): void => {
        this.#waiters.delete(wake);
        reject(signal.reason);
      };
      const wake = (): void => {
        signal.removeEventListener('abort', onAbort);
        resolve();
      };
      this.#waiters.add(wake);
      signal.addEventListener('abort', onAbort, { once: true });
    });
  }
}
