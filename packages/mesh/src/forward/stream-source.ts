import type { Stream } from '@libp2p/interface';
import type { Uint8ArrayList } from 'uint8arraylist';

/** Above this many unread bytes the stream is paused, so a slow reader slows the sender (yamux window). */
export const READ_HIGH_WATER_BYTES = 1024 * 1024;
const READ_LOW_WATER_BYTES = READ_HIGH_WATER_BYTES / 4;

/**
 * The stream's incoming bytes as an async iterable that respects backpressure: unlike
 * `messageStreamToDuplex`, it pauses the stream while the consumer lags. Ends when the remote
 * closes its writable end; throws when the stream is aborted or reset.
 */
export async function* readStream(stream: Stream): AsyncGenerator<Uint8Array | Uint8ArrayList> {
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
  stream.addEventListener('message', onMessage);
  stream.addEventListener('remoteCloseWrite', onEnd);
  stream.addEventListener('close', onClose);
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
    stream.removeEventListener('close', onClose);
  }
}
