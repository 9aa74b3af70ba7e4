import type { Stream } from '@libp2p/interface';
import * as lp from 'it-length-prefixed';

/** Bytes gathered into one stream write: a small request or response leaves in one frame. */
const WRITE_BATCH_BYTES = 64 * 1024;

/**
 * Length-prefixes `frames` and writes them, batching small frames into one write (each write is
 * a yamux frame, a noise and a pnet encryption and a syscall) and waiting whenever the stream
 * asks to drain, so a slow reader slows the writer.
 */
export async function writeFrames(stream: Stream, frames: Iterable<Uint8Array> | AsyncIterable<Uint8Array>): Promise<void> {
  let batch: Uint8Array[] = [];
  let size = 0;
  const flush = async (): Promise<void> => {
    if (batch.length === 0) return;
    const data = batch.length === 1 ? batch[0]! : concat(batch, size);
    batch = [];
    size = 0;
    if (!stream.send(data)) await waitForDrain(stream);
  };
  for await (const frame of frames) {
    const encoded = lp.encode.single(frame).subarray();
    batch.push(encoded);
    size += encoded.byteLength;
    if (size >= WRITE_BATCH_BYTES) await flush();
  }
  await flush();
}

/** Writes one frame at once (a streamed chunk must not wait for company). */
export async function writeFrame(stream: Stream, frame: Uint8Array): Promise<void> {
  if (!stream.send(lp.encode.single(frame).subarray())) await waitForDrain(stream);
}

/**
 * Resolves on the stream's next 'drain' event, rejects if it closes first. Not `stream.onDrain()`:
 * in @libp2p/utils 7.4 its promise is made once and never reset, so after the first drain it
 * resolves at once and a writer would no longer wait for a slow reader.
 */
export function waitForDrain(stream: Stream): Promise<void> {
  return new Promise((resolve, reject) => {
    const done = () => {
      stream.removeEventListener('drain', onDrain);
      stream.removeEventListener('close', onClose);
    };
    const onDrain = () => {
      done();
      resolve();
    };
    const onClose = (evt: Event) => {
      done();
      reject((evt as Event & { error?: Error }).error ?? new Error('the stream closed while waiting to drain'));
    };
    stream.addEventListener('drain', onDrain);
    stream.addEventListener('close', onClose);
  });
}

/** Joins chunks whose total size is known into one buffer. */
export function concat(parts: Uint8Array[], size: number): Uint8Array {
  const out = new Uint8Array(size);
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.byteLength;
  }
  return out;
}
