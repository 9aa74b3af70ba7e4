import type { Connection, Stream } from '@libp2p/interface';
import { messageStreamToDuplex } from '@libp2p/utils';
import type { Logger } from '@synkti/interface';
import { FORWARD_PROTOCOL, FrameType, type ForwardResponse, MAX_FORWARD_REQUEST_BYTES, MAX_FRAME_BYTES, type RequestHead } from '@synkti/protocol';
import { pipe } from 'it-pipe';
import * as lp from 'it-length-prefixed';
import type { MeshLibp2p } from '../node.js';
import { ForwardError } from './errors.js';
import { dataFrames, decodeFrame, errorFrame, responseHeadFrame } from './frames.js';
import { readStream } from './stream-source.js';

export interface InboundForward {
  head: RequestHead;
  body: Uint8Array;
  /** Aborted when the requester cancels (its stream resets). */
  signal: AbortSignal;
  remotePeer: string;
}

/** Serves a forwarded request; throw a ForwardError to refuse it before any response. */
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
  const { sink } = messageStreamToDuplex(stream);
  let requestId: string | undefined;
  const progress = { headSent: false };
  try {
    const request = await readRequest(stream);
    requestId = request.head.requestId;
    const response = await serve({ ...request, signal: cancel.signal, remotePeer });
    await pipe(responseFrames(response, progress), (source) => lp.encode(source), sink);
  } catch (err) {
    if (cancel.signal.aborted) {
      log.debug({ requestId, remotePeer }, 'forwarded request cancelled by the requester');
      return;
    }
    const forwardError = err instanceof ForwardError ? err : new ForwardError('FORWARD_SERVE_FAILED', (err as Error).message, true, { cause: err });
    if (stream.writeStatus === 'writable' && !progress.headSent) {
      log.warn({ err, requestId, remotePeer }, 'refused a forwarded request');
      await pipe([errorFrame({ code: forwardError.code, message: forwardError.message, retryable: forwardError.retryable })], (s) => lp.encode(s), sink).catch(() => undefined);
    } else {
      log.warn({ err, requestId, remotePeer }, 'forwarded response failed mid-body');
      stream.abort(forwardError);
    }
  }
}

async function readRequest(stream: Stream): Promise<{ head: RequestHead; body: Uint8Array }> {
  let head: RequestHead | undefined;
  const chunks: Uint8Array[] = [];
  let size = 0;
  for await (const raw of pipe(readStream(stream), (source) => lp.decode(source, { maxDataLength: MAX_FRAME_BYTES }))) {
    const frame = decodeFrame(raw);
    if (head === undefined) {
      if (frame.type !== FrameType.REQUEST_HEAD) throw new ForwardError('FORWARD_BAD_FRAME', 'the first frame must be a request head', false);
      head = frame.head;
    } else if (frame.type === FrameType.DATA) {
      size += frame.data.byteLength;
      if (size > MAX_FORWARD_REQUEST_BYTES) throw new ForwardError('FORWARD_BODY_TOO_LARGE', `request body over ${MAX_FORWARD_REQUEST_BYTES} bytes`, false);
      chunks.push(frame.data);
    } else {
      throw new ForwardError('FORWARD_BAD_FRAME', `unexpected frame type ${frame.type} in a request`, false);
    }
  }
  if (head === undefined) throw new ForwardError('FORWARD_BAD_FRAME', 'stream closed before a request head', false);
  return { head, body: concat(chunks, size) };
}

async function* responseFrames(response: ForwardResponse, progress: { headSent: boolean }): AsyncGenerator<Uint8Array> {
  progress.headSent = true;
  yield responseHeadFrame({ status: response.status, headers: response.headers });
  for await (const chunk of response.body) yield* dataFrames(chunk);
}

function concat(chunks: Uint8Array[], size: number): Uint8Array {
  if (chunks.length === 1) return chunks[0]!;
  const out = new Uint8Array(size);
  let offset = 0;
  for (const chunk of chunks) {
    out.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return out;
}
