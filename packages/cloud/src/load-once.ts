/**
 * `load`, run on the first call and its promise shared by every later one — unless it failed:
 * a failed load is forgotten, so the next call tries again. For the AWS SDK modules, which cost
 * tens of MiB and are imported only by an agent that talks to AWS.
 */
export function loadOnce<T>(load: () => Promise<T>): () => Promise<T> {
  let pending: Promise<T> | undefined;
  return () => {
    pending ??= load().catch((err: unknown) => {
      pending = undefined;
      throw err;
    });
    return pending;
  };
}
