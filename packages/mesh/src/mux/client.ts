import type { Stream } from '@libp2p/interface';
import { UpstreamCode, UpstreamError } from '@synkti/interface';
import { type ForwardResponse, isForwardErrorBody, isResponseHead, MUX_MAX_REQUESTS_PER_STREAM, MuxFrame, type RequestHead } from '@synkti/protocol';
import { creditPayload, InboundData, jsonPayload, type MuxFrameIn, MuxWriter, parsePayload, readCredit, readFrames, SendCredit, sendData } from './wire.js';

interface Pending {
  id: number;
  /** Settles once the response head (or a refusal) arrives. */
  head: { resolve: (r: ForwardResponse) => void; reject: (e: Error) => void } | undefined;
  inbound: InboundData;
  credit: SendCredit;
  done: boolean;
}

const beforeHead = (code: string, message: string, cause?: unknown) => new UpstreamError(code, message, { retryable: true, phase: 'before-head', cause });
const broken = (message: string, cause?: unknown) => new UpstreamError('FORWARD_STREAM_BROKEN', message, { retryable: true, phase: 'after-head', cause });

/**
 * The requesting end of one mux stream to one peer: every request to that peer goes over it,
 * numbered, with per-request credit both ways. When the stream breaks, the requests on it fail
 * (before their head: retryable; after it: a broken stream, which migration continues) and the
 * session is done; the next request opens a new one.
 */
export class MuxClientSession {
  readonly #stream: Stream;
  readonly #peerId: string;
  readonly #writer: MuxWriter;
  readonly #pending = new Map<number, Pending>();
  #nextId = 1;
  #closed: Error | undefined;

  constructor(stream: Stream, peerId: string) {
    this.#stream = stream;
    this.#peerId = peerId;
    this.#writer = new MuxWriter(stream, (err) => this.#close(err));
    void readFrames(stream, (f) => this.#onFrame(f), (err) => this.#close(err ?? new Error('the peer closed the mux stream')));
  }

  get open(): boolean {
    return this.#closed === undefined;
  }

  get requests(): number {
    return this.#pending.size;
  }

  request(head: RequestHead, body: Uint8Array, signal?: AbortSignal): Promise<ForwardResponse> {
    if (signal?.aborted === true) return Promise.reject(signal.reason as Error);
    if (this.#closed !== undefined) return Promise.reject(beforeHead('FORWARD_STREAM_FAILED', `mux stream to ${this.#peerId} is closed: ${this.#closed.message}`, this.#closed));
    if (this.#pending.size >= MUX_MAX_REQUESTS_PER_STREAM) return Promise.reject(beforeHead('FORWARD_BUSY', `${MUX_MAX_REQUESTS_PER_STREAM} requests already in flight to ${this.#peerId}`));
    let id = this.#nextId;
    // After a wrap-around, skip ids still in use (at most MUX_MAX_REQUESTS_PER_STREAM are).
    while (this.#pending.has(id)) id = id >= 0xffffffff ? 1 : id + 1;
    this.#nextId = id >= 0xffffffff ? 1 : id + 1;
    const p: Pending = { id, head: undefined, inbound: new InboundData((n) => this.#writer.push(MuxFrame.CREDIT, id, creditPayload(n))), credit: new SendCredit(), done: false };
    this.#pending.set(id, p);
    const response = new Promise<ForwardResponse>((resolve, reject) => (p.head = { resolve, reject }));
    const onAbort = () => this.#cancel(p, (signal?.reason as Error | undefined) ?? new Error('request cancelled by the client'));
    signal?.addEventListener('abort', onAbort, { once: true });
    const unlisten = () => signal?.removeEventListener('abort', onAbort);
    response.catch(unlisten);
    this.#writer.push(MuxFrame.REQ_HEAD, id, jsonPayload(head));
    sendData(this.#writer, id, p.credit, body.byteLength > 0 ? [body] : [], () => p.done)
      .then(() => {
        if (!p.done) this.#writer.push(MuxFrame.END, id);
      })
      .catch(() => {
        // The stream broke or the request ended first: the reader side reports it.
      });
    return response.then((r) => ({ ...r, body: this.#body(p, r.body as AsyncGenerator<Uint8Array>, unlisten) }));
  }

  close(): void {
    this.#close(new Error('mux session closed'));
    this.#stream.close().catch(() => this.#stream.abort(new Error('mux session closed')));
  }

  #onFrame(f: MuxFrameIn): void {
    const p = this.#pending.get(f.id);
    if (p === undefined) return; // a request given up: late frames are dropped
    switch (f.type) {
      case MuxFrame.RES_HEAD: {
        const head = parsePayload(f.payload);
        if (p.head === undefined) return this.#cancel(p, broken(`${this.#peerId} sent a second response head`));
        if (!isResponseHead(head)) return this.#cancel(p, beforeHead('FORWARD_BAD_FRAME', `${this.#peerId} sent a bad response head`));
        const settle = p.head;
        p.head = undefined;
        settle.resolve({ status: head.status, headers: head.headers, body: p.inbound.read() });
        return;
      }
      case MuxFrame.DATA:
        if (!p.inbound.push(f.payload)) this.#cancel(p, broken(`${this.#peerId} sent past its credit`));
        return;
      case MuxFrame.END:
        // An end before any head is a protocol error, never an empty answer.
        if (p.head !== undefined) return this.#cancel(p, beforeHead('FORWARD_BAD_FRAME', `${this.#peerId} ended a request without a response head`));
        p.done = true;
        p.credit.end();
        p.inbound.end();
        this.#pending.delete(p.id);
        return;
      case MuxFrame.ERROR: {
        const e = parsePayload(f.payload);
        if (p.head === undefined) return this.#cancel(p, broken(`${this.#peerId} sent an error after the response head${isForwardErrorBody(e) ? `: ${e.message}` : ''}`));
        const err = isForwardErrorBody(e) ? new UpstreamError(e.code, `${this.#peerId}: ${e.message}`, { retryable: e.retryable, phase: 'before-head' }) : beforeHead('FORWARD_BAD_FRAME', `${this.#peerId} sent a bad error frame`);
        return this.#fail(p, err);
      }
      case MuxFrame.HANDOVER: {
        const e = parsePayload(f.payload);
        return this.#fail(p, new UpstreamError(UpstreamCode.HANDOVER, `${this.#peerId} handed the stream over: ${isForwardErrorBody(e) ? e.message : 'draining'}`, { retryable: true, phase: 'after-head' }));
      }
      case MuxFrame.CANCEL:
        return this.#fail(p, p.head !== undefined ? beforeHead('FORWARD_NO_RESPONSE', `${this.#peerId} cancelled the request before a response`) : broken(`forward stream from ${this.#peerId} broke mid-response`));
      case MuxFrame.CREDIT:
        p.credit.add(readCredit(f.payload));
        return;
      default:
        return this.#cancel(p, p.head !== undefined ? beforeHead('FORWARD_BAD_FRAME', `${this.#peerId} sent unknown mux frame type ${f.type}`) : broken(`${this.#peerId} sent unknown mux frame type ${f.type}`));
    }
  }

  /**
   * The response body as the consumer reads it. A consumer that stops early cancels the remote
   * request — also one that never started reading (a generator's `finally` would not run then).
   */
  #body(p: Pending, body: AsyncGenerator<Uint8Array>, unlisten: () => void): AsyncIterableIterator<Uint8Array> {
    let settled = false;
    const settle = (complete: boolean) => {
      if (settled) return;
      settled = true;
      unlisten();
      if (!complete) this.#cancel(p, broken('response abandoned'));
    };
    const iterator: AsyncIterableIterator<Uint8Array> = {
      next: async () => {
        try {
          const r = await body.next();
          if (r.done === true) settle(true);
          return r;
        } catch (err) {
          settle(true); // failed already: nothing left to cancel
          throw err;
        }
      },
      return: async () => {
        settle(false);
        await body.return(undefined);
        return { done: true, value: undefined };
      },
      [Symbol.asyncIterator]: () => iterator,
    };
    return iterator;
  }

  /** This end gives the request up: the peer is told, and its reader sees `err`. */
  #cancel(p: Pending, err: Error): void {
    if (p.done) return;
    this.#writer.push(MuxFrame.CANCEL, p.id);
    this.#fail(p, err);
  }

  #fail(p: Pending, err: Error): void {
    p.done = true;
    this.#pending.delete(p.id);
    p.credit.fail(err);
    if (p.head !== undefined) {
      const settle = p.head;
      p.head = undefined;
      settle.reject(err);
    } else p.inbound.fail(err);
  }

  #close(err: Error): void {
    if (this.#closed !== undefined) return;
    this.#closed = err;
    this.#writer.close();
    // Never half-open: the peer learns at once, and the connection's mux stream slot is freed.
    if (this.#stream.status === 'open') this.#stream.abort(err);
    for (const p of [...this.#pending.values()]) this.#fail(p, p.head !== undefined ? beforeHead('FORWARD_STREAM_FAILED', `mux stream to ${this.#peerId} failed before a response: ${err.message}`, err) : broken(`forward stream from ${this.#peerId} broke mid-response: ${err.message}`, err));
  }
}
