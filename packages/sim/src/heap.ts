/**
 * A binary min-heap of events keyed by (time, sequence): ties run in insertion order, so a
 * run never depends on the heap's internal layout. Parallel arrays keep it allocation-light.
 */
export class EventHeap<T> {
  #time: number[] = [];
  #seq: number[] = [];
  #item: T[] = [];
  #next = 0;

  get size(): number {
    return this.#item.length;
  }

  push(time: number, item: T): void {
    this.#time.push(time);
    this.#seq.push(this.#next++);
    this.#item.push(item);
    this.#up(this.#item.length - 1);
  }

  peekTime(): number {
    return this.#time[0] ?? Number.POSITIVE_INFINITY;
  }

  /** Removes and returns the earliest event, or undefined when empty. */
  pop(): { time: number; item: T } | undefined {
    const n = this.#item.length;
    if (n === 0) return undefined;
    const out = { time: this.#time[0]!, item: this.#item[0]! };
    const lastT = this.#time.pop()!;
    const lastS = this.#seq.pop()!;
    const lastI = this.#item.pop()!;
    if (n > 1) {
      this.#time[0] = lastT;
      this.#seq[0] = lastS;
      this.#item[0] = lastI;
      this.#down(0);
    }
    return out;
  }

  #less(a: number, b: number): boolean {
    const ta = this.#time[a]!;
    const tb = this.#time[b]!;
    return ta < tb || (ta === tb && this.#seq[a]! < this.#seq[b]!);
  }

  #swap(a: number, b: number): void {
    [this.#time[a], this.#time[b]] = [this.#time[b]!, this.#time[a]!];
    [this.#seq[a], this.#seq[b]] = [this.#seq[b]!, this.#seq[a]!];
    [this.#item[a], this.#item[b]] = [this.#item[b]!, this.#item[a]!];
  }

  #up(i: number): void {
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!this.#less(i, parent)) return;
      this.#swap(i, parent);
      i = parent;
    }
  }

  #down(i: number): void {
    const n = this.#item.length;
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let m = i;
      if (l < n && this.#less(l, m)) m = l;
      if (r < n && this.#less(r, m)) m = r;
      if (m === i) return;
      this.#swap(i, m);
      i = m;
    }
  }
}
