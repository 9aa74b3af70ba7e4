import type { Connection, Stream } from '@libp2p/interface';
import type { Logger } from '@synkti/interface';
import { FORWARD_PROTOCOL, FrameType, type ForwardResponse, MAX_FORWARD_REQUEST_BYTES, MAX_FRAME_BYTES, type RequestHead } from '@synkti/protocol';
import { pipe } from 'it-pipe';
import * as lp from 'it-length-prefixed';
import { concat, writeFrame, writeFrames } from './writer.js';
import type { MeshLibp2p } from '../node.js';
import { UpstreamCode, UpstreamError } from '@synkti/interface';
import { dataFrames, decodeFrame, errorFrame, handoverFrame, responseHeadFrame } from './frames.js';
import { readStream } from './stream-source.js';

export interface InboundForward {
  head: RequestHead;
  body: Uint8Array;
  /** Aborted when the requester cancels (its stream resets). */
  signal: AbortSignal;
  remotePeer: string;
}

/**
 * Serves a forwarded request; throw an UpstreamError to refuse it before any response. A body that
 * throws an UpstreamError with code HANDOVER ends the stream with a hand-over frame.
 */
export type ForwardServe = (request: InboundForward) => Promise<ForwardResponse>;

export interface ForwardHandlerOptions {
  /** Concurrent inbound forward streams per connection; beyond it libp2p resets new streams. */
  maxInboundStreams: number;
  logger: Logger;
}

export async function handleForwardProtocol(node: MeshLibp2p, serve: ForwardServe, options: ForwardHandlerOptions): Promise<void> {
  const log = options.logger.child({ component: 'mesh:forward' });
  await node.handle(FORWARD_PROTOCOL, (stream: Stream, connection: Connection) => serveStream(stream, connection.remotePeer.toString(), serve, log), {
    maxInboundStreams: options.maxInboundStreams,
    // The registrar checks a dialler's outbound count against its own registration.
    maxOutboundStreams: options.maxInboundStreams,
    // Streams in flight are bounded by maxInboundStreams; a long generation must not be cut.
    runOnLimitedConnection: false,
  });
}

async function serveStream(stream: Stream, remotePeer: string, serve: ForwardServe, log: Logger): Promise<void> {
  const cancel = new AbortController();
  stream.addEventListener('close', (evt) => {
    if ((evt as Event & { error?: Error }).error !== undefined) cancel.abort(new Error('requester cancelled'));
  });
  let requestId: string | undefined;
  const progress = { headSent: false };
  try {
    const request = await readRequest(stream);
    if (request === undefined) {
      // A pooled stream the requester closed unused: nothing was asked, nothing to answer.
      await stream.close().catch(() => undefined);
      return;
    }
    requestId = request.head.requestId;
    const response = await serve({ ...request, signal: cancel.signal, remotePeer });
    await writeResponse(stream, response, progress);
    await stream.close();
  } catch (err) {
    if (cancel.signal.aborted) {
      log.debug({ requestId, remotePeer }, 'forwarded request cancelled by the requester');
      return;
    }
    const upstreamError = err instanceof UpstreamError ? err : new UpstreamError('FORWARD_SERVE_FAILED', (err as Error).message, { retryable: true, cause: err });
    const body = { code: upstreamError.code, message: upstreamError.message, retryable: upstreamError.retryable };
    if (stream.writeStatus === 'writable' && !progress.headSent) {
      log.warn({ err, requestId, remotePeer }, 'refused a forwarded request');
      await writeFrames(stream, [errorFrame(body)])
        .then(() => stream.close())
        .catch(() => undefined);
    } else if (stream.writeStatus === 'writable' && upstreamError.code === UpstreamCode.HANDOVER) {
      log.info({ requestId, remotePeer }, 'handed a running stream back to its entry agent');
      await writeFrames(stream, [handoverFrame(body)])
        .then(() => stream.close())
        .catch(() => stream.abort(upstreamError));
    } else {
      log.warn({ err, requestId, remotePeer }, 'forwarded response failed mid-body');
      stream.abort(upstreamError);
    }
  }
}

async function readRequest(stream: Stream): Promise<{ head: RequestHead; body: Uint8Array } | undefined> {
  let head: RequestHead | undefined;
  const chunks: Uint8Array[] = [];
  let size = 0;
  for await (const raw of pipe(readStream(stream), (source) => lp.decode(source, { maxDataLength: MAX_FRAME_BYTES }))) {
    const frame = decodeFrame(raw);
    if (head === undefined) {
      if (frame.type !== FrameType.REQUEST_HEAD) throw new UpstreamError('FORWARD_BAD_FRAME', 'the first frame must be a request head', { retryable: false });
      head = frame.head;
    } else if (frame.type === FrameType.DATA) {
      size += frame.data.byteLength;
      if (size > MAX_FORWARD_REQUEST_BYTES) throw new UpstreamError('FORWARD_BODY_TOO_LARGE', `request body over ${MAX_FORWARD_REQUEST_BYTES} bytes`, { retryable: false });
      chunks.push(frame.data);
    } else {
      throw new UpstreamError('FORWARD_BAD_FRAME', `unexpected frame type ${frame.type} in a request`, { retryable: false });
    }
  }
  if (head === undefined) return undefined;
  return { head, body: concat(chunks, size) };
}

/**
 * The head goes out with the first body chunk (one write instead of two); the engine sends its
 * headers with the first token anyway. Later chunks go out as they come, never held back.
 */
async function writeResponse(stream: Stream, response: ForwardResponse, progress: { headSent: boolean }): Promise<void> {
  const head = responseHeadFrame({ status: response.status, headers: response.headers });
  const iterator = response.body[Symbol.asyncIterator]();
  const first = await iterator.next();
  progress.headSent = true;
  await writeFrames(stream, first.done === true ? [head] : [head, ...dataFrames(first.value)]);
  if (first.done === true) return;
  for (;;) {
    const next = await iterator.next();
    if (next.done === true) return;
    for (const frame of dataFrames(next.value)) await writeFrame(stream, frame);
  }
}
