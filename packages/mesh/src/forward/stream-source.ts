import type { Stream } from '@libp2p/interface';
import type { Uint8ArrayList } from 'uint8arraylist';

/** Above this many unread bytes the stream is paused, so a slow reader slows the sender (yamux window). */
export const READ_HIGH_WATER_BYTES = 1024 * 1024;
const READ_LOW_WATER_BYTES = READ_HIGH_WATER_BYTES / 4;

/**
 * The stream's incoming bytes as an async iterable that respects backpressure: unlike
 * `messageStreamToDuplex`, it pauses the stream while the consumer lags. Ends when the remote
 * closes its writable end; throws when the stream is aborted or reset, or when `signal` aborts
 * (a deadline that must hold even when the stream itself can no longer be aborted).
 */
export async function* readStream(stream: Stream, signal?: AbortSignal): AsyncGenerator<Uint8Array | Uint8ArrayList> {
  const queue: (Uint8Array | Uint8ArrayList)[] = [];
  let queued = 0;
  let ended = false;
  let failure: Error | undefined;
  let wake: (() => void) | undefined;
  const notify = () => {
    wake?.();
    wake = undefined;
  };
  const onMessage = (evt: { data: Uint8Array | Uint8ArrayList }) => {
    queue.push(evt.data);
    queued += evt.data.byteLength;
    if (queued > READ_HIGH_WATER_BYTES) stream.pause();
    notify();
  };
  const onEnd = () => {
    ended = true;
    notify();
  };
  const onClose = (evt: Event) => {
    const error = (evt as Event & { error?: Error }).error;
    if (error !== undefined) failure = error;
    ended = true;
    notify();
  };
  const onAbort = () => {
    failure ??= signal?.reason instanceof Error ? signal.reason : new Error('read aborted');
    notify();
  };
  stream.addEventListener('message', onMessage);
  stream.addEventListener('remoteCloseWrite', onEnd);
  // 'end' comes once buffered bytes were handed out after the remote closed: the end of a stream
  // whose close arrived before this reader listened (its 'remoteCloseWrite' went to nobody).
  stream.addEventListener('end', onEnd);
  stream.addEventListener('close', onClose);
  signal?.addEventListener('abort', onAbort, { once: true });
  if (signal?.aborted === true) onAbort();
  // Closed before this reader listened, nothing left to hand out: no event will come.
  if (stream.remoteWriteStatus === 'closed' && stream.readBufferLength === 0) ended = true;
  if (stream.status === 'aborted' || stream.status === 'reset') failure ??= new Error(`stream ${stream.status} before it was read`);
  try {
    for (;;) {
      const next = queue.shift();
      if (next !== undefined) {
        queued -= next.byteLength;
        if (queued < READ_LOW_WATER_BYTES && stream.readStatus === 'paused') stream.resume();
        yield next;
        continue;
      }
      if (failure !== undefined) throw failure;
      if (ended) return;
      await new Promise<void>((resolve) => {
        wake = resolve;
      });
    }
  } finally {
    stream.removeEventListener('message', onMessage);
    stream.removeEventListener('remoteCloseWrite', onEnd);
    stream.removeEventListener('end', onEnd);
    stream.removeEventListener('close', onClose);
    signal?.removeEventListener('abort', onAbort);
  }
}
