import type { Stream } from '@libp2p/interface';
import { FrameType, type ForwardResponse, MAX_FRAME_BYTES, type RequestHead } from '@synkti/protocol';
import { pipe } from 'it-pipe';
import * as lp from 'it-length-prefixed';
import { ForwardError } from './errors.js';
import { dataFrames, decodeFrame, type Frame, requestHeadFrame } from './frames.js';
import type { ForwardStreamPool } from './pool.js';
import { readStream } from './stream-source.js';
import { writeFrames } from './writer.js';

export interface ForwardOptions {
  signal?: AbortSignal;
}

/**
 * Sends one request to `peerId` over a new stream and resolves once the response head arrives;
 * the body then streams as the remote engine produces it. Fails with a retryable ForwardError
 * when nothing of a response came back; aborting `signal` resets the stream, which cancels the
 * request on the remote engine.
 */
export async function forwardRequest(pool: ForwardStreamPool, peerId: string, head: RequestHead, body: Uint8Array, options: ForwardOptions = {}): Promise<ForwardResponse> {
  const signal = options.signal;
  signal?.throwIfAborted();
  let stream: Stream;
  try {
    // Always pass a signal: without one libp2p applies its 10 s negotiation timeout to a stream
    // that may live for a long generation. The request's lifetime is the caller's.
    stream = await pool.acquire(peerId, signal ?? new AbortController().signal);
  } catch (err) {
    throw new ForwardError('FORWARD_DIAL_FAILED', `cannot open a forward stream to ${peerId}: ${(err as Error).message}`, true, { cause: err });
  }
  const abort = () => stream.abort(new Error('request cancelled by the client'));
  signal?.addEventListener('abort', abort, { once: true });

  writeFrames(stream, requestFrames(head, body))
    .then(() => stream.close())
    .catch(() => {
      // A write failure surfaces to the reader as a reset stream; nothing more to do here.
    });

  const frames = pipe(readStream(stream), (source) => lp.decode(source, { maxDataLength: MAX_FRAME_BYTES }))[Symbol.asyncIterator]();
  let first: IteratorResult<unknown>;
  try {
    first = await frames.next();
  } catch (err) {
    signal?.removeEventListener('abort', abort);
    throw new ForwardError('FORWARD_STREAM_FAILED', `forward stream to ${peerId} failed before a response: ${(err as Error).message}`, true, { cause: err });
  }
  if (first.done === true) {
    signal?.removeEventListener('abort', abort);
    throw new ForwardError('FORWARD_NO_RESPONSE', `${peerId} closed the forward stream without a response`, true);
  }
  const frame = decodeFrame(first.value as Uint8Array);
  if (frame.type === FrameType.ERROR) {
    signal?.removeEventListener('abort', abort);
    stream.abort(new Error('done'));
    throw new ForwardError(frame.error.code, `${peerId}: ${frame.error.message}`, frame.error.retryable);
  }
  if (frame.type !== FrameType.RESPONSE_HEAD) {
    stream.abort(new Error('protocol error'));
    throw new ForwardError('FORWARD_BAD_FRAME', `${peerId} sent frame type ${frame.type} before the response head`, true);
  }
  return {
    status: frame.head.status,
    headers: frame.head.headers,
    body: responseBody(frames, stream, () => signal?.removeEventListener('abort', abort)),
  };
}

function* requestFrames(head: RequestHead, body: Uint8Array): Generator<Uint8Array> {
  yield requestHeadFrame(head);
  if (body.byteLength > 0) yield* dataFrames(body);
}

async function* responseBody(frames: AsyncIterator<unknown>, stream: Stream, done: () => void): AsyncGenerator<Uint8Array> {
  let complete = false;
  try {
    for (;;) {
      const next = await frames.next();
      if (next.done === true) break;
      const frame: Frame = decodeFrame(next.value as Uint8Array);
      if (frame.type !== FrameType.DATA) throw new ForwardError('FORWARD_BAD_FRAME', `unexpected frame type ${frame.type} in a response body`, false);
      yield frame.data;
    }
    complete = true;
  } finally {
    done();
    // A consumer that stops early (the HTTP client went away) cancels the remote request.
    if (!complete) stream.abort(new Error('response abandoned by the client'));
    else await stream.close().catch(() => undefined);
  }
}
