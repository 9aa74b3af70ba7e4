import type { Stream } from '@libp2p/interface';
import { type Logger, UpstreamCode, UpstreamError } from '@synkti/interface';
import { type ForwardErrorBody, isRequestHead, MAX_FORWARD_REQUEST_BYTES, MUX_INITIAL_CREDIT_BYTES, MuxFrame, type RequestHead } from '@synkti/protocol';
import type { ForwardServe } from '../forward/handler.js';
import { concat } from '../forward/writer.js';
import { creditPayload, jsonPayload, type MuxFrameIn, MuxWriter, parsePayload, readCredit, readFrames, SendCredit, sendData } from './wire.js';

interface Serving {
  id: number;
  head: RequestHead;
  chunks: Uint8Array[];
  size: number;
  /** Received and not yet acknowledged with CREDIT. */
  unacknowledged: number;
  cancel: AbortController;
  credit: SendCredit;
  /** Past the request's END: the engine has it. */
  running: boolean;
  done: boolean;
}

export interface MuxServeOptions {
  /** Requests served at once on one stream; more are refused before their head (retryable). */
  maxRequests: number;
  log: Logger;
}

/**
 * The serving end of one mux stream: buffers each request's body (bounded), calls `serve`, and
 * streams the response within the credit its requester grants. A CANCEL from the requester, or
 * the stream breaking, aborts the request's signal (which cancels it on the engine).
 */
export function serveMuxStream(stream: Stream, remotePeer: string, serve: ForwardServe, options: MuxServeOptions): void {
  const serving = new Map<number, Serving>();
  let closed = false;
  const writer = new MuxWriter(stream, (err) => closeAll(err));
  const refuse = (id: number, body: ForwardErrorBody) => writer.push(MuxFrame.ERROR, id, jsonPayload(body));

  const closeAll = (err: Error | undefined) => {
    if (closed) return;
    closed = true;
    writer.close();
    if (err !== undefined && stream.status === 'open') stream.abort(err);
    for (const s of serving.values()) {
      s.done = true;
      s.credit.fail(err ?? new Error('mux stream closed'));
      s.cancel.abort(new Error('requester gone'));
    }
    serving.clear();
  };

  const onFrame = (f: MuxFrameIn): void => {
    if (closed) return;
    const s = serving.get(f.id);
    switch (f.type) {
      case MuxFrame.REQ_HEAD: {
        if (s !== undefined) return refuse(f.id, { code: 'FORWARD_BAD_FRAME', message: `request ${f.id} is already running`, retryable: false });
        const head = parsePayload(f.payload);
        if (!isRequestHead(head)) return refuse(f.id, { code: 'FORWARD_BAD_FRAME', message: 'invalid request head', retryable: false });
        if (serving.size >= options.maxRequests) return refuse(f.id, { code: 'FORWARD_BUSY', message: `${options.maxRequests} forwarded requests already running here`, retryable: true });
        serving.set(f.id, { id: f.id, head, chunks: [], size: 0, unacknowledged: 0, cancel: new AbortController(), credit: new SendCredit(), running: false, done: false });
        return;
      }
      case MuxFrame.DATA: {
        if (s === undefined || s.running) return;
        s.size += f.payload.byteLength;
        if (s.size > MAX_FORWARD_REQUEST_BYTES) {
          end(s);
          writer.push(MuxFrame.ERROR, s.id, jsonPayload({ code: 'FORWARD_BODY_TOO_LARGE', message: `request body over ${MAX_FORWARD_REQUEST_BYTES} bytes`, retryable: false }));
          return;
        }
        s.chunks.push(f.payload);
        // The body is buffered here as it comes: acknowledge it at once, half a window at a time.
        s.unacknowledged += f.payload.byteLength;
        if (s.unacknowledged >= MUX_INITIAL_CREDIT_BYTES / 2) {
          writer.push(MuxFrame.CREDIT, s.id, creditPayload(s.unacknowledged));
          s.unacknowledged = 0;
        }
        return;
      }
      case MuxFrame.END:
        if (s !== undefined && !s.running) void run(s);
        return;
      case MuxFrame.CANCEL:
        if (s === undefined) return;
        end(s);
        s.cancel.abort(new Error('requester cancelled'));
        options.log.debug({ requestId: s.head.requestId, remotePeer }, 'forwarded request cancelled by the requester');
        return;
      case MuxFrame.CREDIT:
        s?.credit.add(readCredit(f.payload));
        return;
      default:
        if (s !== undefined) {
          end(s);
          s.cancel.abort(new Error('protocol error'));
          writer.push(MuxFrame.CANCEL, s.id);
        }
    }
  };

  const end = (s: Serving) => {
    s.done = true;
    serving.delete(s.id);
    s.credit.end();
  };

  const run = async (s: Serving): Promise<void> => {
    s.running = true;
    const body = concat(s.chunks, s.size);
    s.chunks = [];
    let headSent = false;
    try {
      const response = await serve({ head: s.head, body, signal: s.cancel.signal, remotePeer });
      // The head goes out with the first chunk (as on the one-stream protocol): a body that fails
      // before producing anything is still a refusal the requester may retry elsewhere.
      const chunks = response.body[Symbol.asyncIterator]();
      const first = await chunks.next();
      if (s.done) return;
      writer.push(MuxFrame.RES_HEAD, s.id, jsonPayload({ status: response.status, headers: response.headers }));
      headSent = true;
      const rest = { [Symbol.asyncIterator]: () => chunks };
      await sendData(writer, s.id, s.credit, first.done === true ? [] : [first.value], () => s.done);
      if (first.done !== true) await sendData(writer, s.id, s.credit, rest, () => s.done);
      if (!s.done) writer.push(MuxFrame.END, s.id);
    } catch (err) {
      if (s.done || s.cancel.signal.aborted) return;
      const e = err instanceof UpstreamError ? err : new UpstreamError('FORWARD_SERVE_FAILED', (err as Error).message, { retryable: true, cause: err });
      const payload = jsonPayload({ code: e.code, message: e.message, retryable: e.retryable });
      if (!headSent) {
        options.log.warn({ err, requestId: s.head.requestId, remotePeer }, 'refused a forwarded request');
        writer.push(MuxFrame.ERROR, s.id, payload);
      } else if (e.code === UpstreamCode.HANDOVER) {
        options.log.info({ requestId: s.head.requestId, remotePeer }, 'handed a running stream back to its entry agent');
        writer.push(MuxFrame.HANDOVER, s.id, payload);
      } else {
        options.log.warn({ err, requestId: s.head.requestId, remotePeer }, 'forwarded response failed mid-body');
        writer.push(MuxFrame.CANCEL, s.id);
      }
    } finally {
      if (!s.done) end(s);
    }
  };

  void readFrames(stream, onFrame, (err) => {
    closeAll(err);
    stream.close().catch(() => stream.abort(new Error('mux stream closed')));
  });
}
