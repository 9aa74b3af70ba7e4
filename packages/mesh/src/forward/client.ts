import type { Stream } from '@libp2p/interface';
import { UpstreamCode, UpstreamError } from '@synkti/interface';
import { FrameType, type ForwardResponse, MAX_FRAME_BYTES, type RequestHead } from '@synkti/protocol';
import { pipe } from 'it-pipe';
import * as lp from 'it-length-prefixed';
import { dataFrames, decodeFrame, type Frame, requestHeadFrame } from './frames.js';
import type { ForwardStreamPool } from './pool.js';
import { readStream } from './stream-source.js';
import { writeFrames } from './writer.js';

export interface ForwardOptions {
  signal?: AbortSignal;
}

const beforeHead = (code: string, message: string, cause?: unknown) => new UpstreamError(code, message, { retryable: true, phase: 'before-head', cause });

/**
 * Sends one request to `peerId` over a pooled stream and resolves once the response head
 * arrives; the body then streams as the remote engine produces it. Fails with a retryable
 * `before-head` UpstreamError when nothing of a response came back. A body that breaks (stream
 * reset, peer gone) or is handed over (the peer drains) throws an `after-head` UpstreamError,
 * never a clean end. Aborting `signal` resets the stream, which cancels the remote request.
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
    throw beforeHead('FORWARD_DIAL_FAILED', `cannot open a forward stream to ${peerId}: ${(err as Error).message}`, err);
  }
  const abort = () => stream.abort(new Error('request cancelled by the client'));
  signal?.addEventListener('abort', abort, { once: true });
  const done = () => signal?.removeEventListener('abort', abort);
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
    done();
    throw beforeHead('FORWARD_STREAM_FAILED', `forward stream to ${peerId} failed before a response: ${(err as Error).message}`, err);
  }
  if (first.done === true) {
    done();
    throw beforeHead('FORWARD_NO_RESPONSE', `${peerId} closed the forward stream without a response`);
  }
  const frame = decodeFrame(first.value as Uint8Array);
  if (frame.type === FrameType.ERROR) {
    done();
    stream.abort(new Error('done'));
    throw new UpstreamError(frame.error.code, `${peerId}: ${frame.error.message}`, { retryable: frame.error.retryable });
  }
  if (frame.type !== FrameType.RESPONSE_HEAD) {
    done();
    stream.abort(new Error('protocol error'));
    throw beforeHead('FORWARD_BAD_FRAME', `${peerId} sent frame type ${frame.type} before the response head`);
  }
  return { status: frame.head.status, headers: frame.head.headers, body: responseBody(frames, stream, peerId, done) };
}

function* requestFrames(head: RequestHead, body: Uint8Array): Generator<Uint8Array> {
  yield requestHeadFrame(head);
  if (body.byteLength > 0) yield* dataFrames(body);
}

async function* responseBody(frames: AsyncIterator<unknown>, stream: Stream, peerId: string, done: () => void): AsyncGenerator<Uint8Array> {
  let complete = false;
  try {
    for (;;) {
      let next: IteratorResult<unknown>;
      try {
        next = await frames.next();
      } catch (err) {
        throw new UpstreamError('FORWARD_STREAM_BROKEN', `forward stream from ${peerId} broke mid-response: ${(err as Error).message}`, { retryable: true, phase: 'after-head', cause: err });
      }
      if (next.done === true) break;
      const frame: Frame = decodeFrame(next.value as Uint8Array);
      if (frame.type === FrameType.DATA) {
        yield frame.data;
        continue;
      }
      if (frame.type === FrameType.HANDOVER) {
        complete = true;
        throw new UpstreamError(UpstreamCode.HANDOVER, `${peerId} handed the stream over: ${frame.error.message}`, { retryable: true, phase: 'after-head' });
      }
      throw new UpstreamError('FORWARD_BAD_FRAME', `unexpected frame type ${frame.type} in a response body from ${peerId}`, { retryable: true, phase: 'after-head' });
    }
    complete = true;
  } finally {
    done();
    // A consumer that stops early (the HTTP client went away) cancels the remote request.
    if (!complete) stream.abort(new Error('response abandoned'));
    else await stream.close().catch(() => undefined);
  }
}
