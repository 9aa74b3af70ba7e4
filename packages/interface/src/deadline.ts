/**
 * A signal that aborts `ms` from now (its reason a `TimeoutError` DOMException, as
 * `AbortSignal.timeout` gives) or when `parent` aborts (with the parent's reason).
 *
 * Not `AbortSignal.any([parent, AbortSignal.timeout(ms)])`: on Node 20 the combined signal holds
 * its sources weakly, the timeout signal is collected at the next GC, and the combined signal
 * then never aborts — a probe or request meant to give up after a few seconds waits forever
 * (seen in CI: engine health probes that stopped; reproduced with `node --expose-gc`). Here the
 * timer holds the controller until it fires, and the parent listener is removed when it does.
 */
export function deadlineSignal(ms: number, parent?: AbortSignal): AbortSignal {
  return deadline(ms, parent).signal;
}

/**
 * `fn` under a deadline signal that is let go as soon as `fn` settles: its timer cleared and its
 * listener on `parent` removed. Without that, every call left a listener on the long-lived parent
 * until its deadline passed, and probes a second apart with multi-second deadlines piled them up.
 */
export async function withDeadline<T>(ms: number, parent: AbortSignal | undefined, fn: (signal: AbortSignal) => Promise<T>): Promise<T> {
  const d = deadline(ms, parent);
  try {
    return await fn(d.signal);
  } finally {
    d.dispose();
  }
}

function deadline(ms: number, parent?: AbortSignal): { signal: AbortSignal; dispose: () => void } {
  const controller = new AbortController();
  if (parent?.aborted === true) {
    controller.abort(parent.reason);
    return { signal: controller.signal, dispose: () => undefined };
  }
  const onParent = () => {
    clearTimeout(timer);
    controller.abort(parent!.reason);
  };
  const timer = setTimeout(() => {
    parent?.removeEventListener('abort', onParent);
    controller.abort(new DOMException('The operation was aborted due to timeout', 'TimeoutError'));
  }, ms);
  // A pending deadline never keeps the process alive.
  (timer as { unref?: () => void }).unref?.();
  parent?.addEventListener('abort', onParent, { once: true });
  return {
    signal: controller.signal,
    dispose: () => {
      clearTimeout(timer);
      parent?.removeEventListener('abort', onParent);
    },
  };
}

/**
 * `promise`, or a rejection with the signal's reason once `signal` aborts first; the listener is
 * removed either way. For work that must not be handed the signal itself (it would cancel
 * something that should run on, such as a ping whose late answer is still expected).
 */
export function raceSignal<T>(promise: Promise<T>, signal?: AbortSignal): Promise<T> {
  if (signal === undefined) return promise;
  if (signal.aborted) return Promise.reject(signal.reason);
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(
      (value) => {
        signal.removeEventListener('abort', onAbort);
        resolve(value);
      },
      (err: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(err);
      },
    );
  });
}
