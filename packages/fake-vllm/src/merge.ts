type Settled<T> = { at: number; result: IteratorResult<T, void> } | { at: number; error: unknown };

/**
 * Interleaves async iterators in the order their values arrive, each tagged with the index of
 * its source: how vLLM streams the choices of one request. Ends when every source has ended;
 * the first failure ends it with that error. Sources are not returned on the way out: their
 * owner aborts them, because returning a generator that waits on a queue would wait forever.
 */
export async function* mergeTagged<T>(sources: AsyncIterator<T, void>[]): AsyncGenerator<[number, T], void, undefined> {
  const pending = new Map<number, Promise<Settled<T>>>();
  const pull = (at: number): void => {
    const source = sources[at];
    if (source === undefined) return;
    // Never rejects, so a source failing while another is awaited is not an unhandled rejection.
    pending.set(
      at,
      source.next().then(
        (result) => ({ at, result }),
        (error: unknown) => ({ at, error }),
      ),
    );
  };
  sources.forEach((_, at) => pull(at));
  while (pending.size > 0) {
    const settled = await Promise.race(pending.values());
    if ('error' in settled) throw settled.error;
    if (settled.result.done === true) {
      pending.delete(settled.at);
      continue;
    }
    pull(settled.at);
    yield [settled.at, settled.result.value];
  }
}
