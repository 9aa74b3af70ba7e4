/**
 * Counts the sequences the gateway is running on this engine (a request weighs its `n` ×
 * prompts), and tells the drain when the count reaches zero. Release functions are idempotent,
 * so a double release cannot go negative.
 */
export class InFlight {
  #count = 0;
  #onIdle: (() => void) | null = null;

  get count(): number {
    return this.#count;
  }

  begin(weight = 1): () => void {
    this.#count += weight;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.#count -= weight;
      if (this.#count === 0 && this.#onIdle !== null) {
        const fn = this.#onIdle;
        this.#onIdle = null;
        fn();
      }
    };
  }

  /** Calls `fn` once, as soon as no request is in flight (at once when none is). */
  whenIdle(fn: () => void): void {
    if (this.#count === 0) fn();
    else this.#onIdle = fn;
  }

  cancelIdleWait(): void {
    this.#onIdle = null;
  }
}
