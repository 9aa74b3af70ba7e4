import type { Stream } from '@libp2p/interface';
import { MAX_DATA_FRAME_BYTES, MAX_FRAME_BYTES, MUX_FRAME_HEADER_BYTES, MUX_INITIAL_CREDIT_BYTES, MuxFrame } from '@synkti/protocol';
import { pipe } from 'it-pipe';
import * as lp from 'it-length-prefixed';
import { Uint8ArrayList } from 'uint8arraylist';
import { readStream } from '../forward/stream-source.js';
import { waitForDrain } from '../forward/writer.js';

/** Bytes queued for the stream before senders of DATA wait (control frames never wait). */
export const MUX_WRITE_HIGH_WATER_BYTES = 256 * 1024;

export interface MuxFrameIn {
  type: number;
  id: number;
  payload: Uint8Array;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

export const jsonPayload = (value: unknown): Uint8Array => encoder.encode(JSON.stringify(value));

/** The payload as JSON, or undefined when it is not JSON. */
export function parsePayload(payload: Uint8Array): unknown {
  try {
    return JSON.parse(decoder.decode(payload));
  } catch {
    return undefined;
  }
}

export function creditPayload(bytes: number): Uint8Array {
  const out = new Uint8Array(4);
  new DataView(out.buffer).setUint32(0, bytes);
  return out;
}

export const readCredit = (payload: Uint8Array): number => (payload.byteLength === 4 ? new DataView(payload.buffer, payload.byteOffset, 4).getUint32(0) : 0);

/**
 * Frames out to one stream. Frames pushed in the same turn of the event loop leave in one write
 * (one yamux frame, one encryption, one syscall), payloads appended without a copy. While the stream asks to
 * drain, frames queue; DATA senders wait for room (`room()`), control frames never wait.
 */
export class MuxWriter {
  readonly #stream: Stream;
  readonly #onError: (err: Error) => void;
  #queue = new Uint8ArrayList();
  #scheduled = false;
  #draining = false;
  #closed = false;
  #waiters: (() => void)[] = [];

  constructor(stream: Stream, onError: (err: Error) => void) {
    this.#stream = stream;
    this.#onError = onError;
  }

  push(type: number, id: number, payload?: Uint8Array): void {
    if (this.#closed) return;
    const length = MUX_FRAME_HEADER_BYTES + (payload?.byteLength ?? 0);
    const prefix = varint(length);
    const header = new Uint8Array(prefix.byteLength + MUX_FRAME_HEADER_BYTES);
    header.set(prefix, 0);
    header[prefix.byteLength] = type;
    new DataView(header.buffer).setUint32(prefix.byteLength + 1, id);
    this.#queue.append(header);
    if (payload !== undefined && payload.byteLength > 0) this.#queue.append(payload);
    if (!this.#scheduled) {
      this.#scheduled = true;
      // After this turn's I/O callbacks, not this microtask: the tokens of many streams that the
      // engine's sockets delivered in one poll phase leave in one write.
      setImmediate(() => this.#flush());
    }
  }

  /** Resolves when DATA may be queued again (the stream is not draining and the queue is short). */
  room(): Promise<void> {
    if (this.#closed || (!this.#draining && this.#queue.byteLength < MUX_WRITE_HIGH_WATER_BYTES)) return Promise.resolve();
    return new Promise((resolve) => this.#waiters.push(resolve));
  }

  close(): void {
    this.#closed = true;
    this.#queue = new Uint8ArrayList();
    this.#wake();
  }

  #flush(): void {
    this.#scheduled = false;
    if (this.#draining || this.#closed || this.#queue.byteLength === 0) return;
    const data = this.#queue;
    this.#queue = new Uint8ArrayList();
    let accepted: boolean;
    try {
      accepted = this.#stream.send(data);
    } catch (err) {
      this.#onError(err as Error);
      return;
    }
    if (accepted) {
      this.#wake();
      return;
    }
    this.#draining = true;
    waitForDrain(this.#stream).then(
      () => {
        this.#draining = false;
        this.#flush();
        this.#wake();
      },
      (err: unknown) => this.#onError(err as Error),
    );
  }

  #wake(): void {
    if (!this.#closed && (this.#draining || this.#queue.byteLength >= MUX_WRITE_HIGH_WATER_BYTES)) return;
    const waiters = this.#waiters;
    this.#waiters = [];
    for (const w of waiters) w();
  }
}

/** Reads frames until the stream ends (`onEnd(undefined)`) or breaks (`onEnd(error)`). */
export async function readFrames(stream: Stream, onFrame: (frame: MuxFrameIn) => void, onEnd: (err: Error | undefined) => void): Promise<void> {
  try {
    for await (const raw of pipe(readStream(stream), (source) => lp.decode(source, { maxDataLength: MAX_FRAME_BYTES }))) {
      const bytes = raw.subarray();
      if (bytes.byteLength < MUX_FRAME_HEADER_BYTES) throw new Error('mux frame shorter than its header');
      onFrame({ type: bytes[0]!, id: new DataView(bytes.buffer, bytes.byteOffset + 1, 4).getUint32(0), payload: bytes.subarray(MUX_FRAME_HEADER_BYTES) });
    }
    onEnd(undefined);
  } catch (err) {
    onEnd(err as Error);
  }
}

const REQUEST_ENDED = new Error('request ended');

/**
 * What one request may still send: starts at the initial credit, grows with the reader's CREDIT
 * frames. `take` waits while none is left, so a slow reader holds back this request only.
 */
export class SendCredit {
  #available = MUX_INITIAL_CREDIT_BYTES;
  #waiter: (() => void) | undefined;
  #failed: Error | undefined;

  add(bytes: number): void {
    this.#available += bytes;
    this.#wake();
  }

  fail(err: Error): void {
    this.#failed ??= err;
    this.#wake();
  }

  /** The request ended: nothing more may be sent. One shared error, not a stack trace per request. */
  end(): void {
    this.fail(REQUEST_ENDED);
  }

  async take(max: number): Promise<number> {
    while (this.#available <= 0 && this.#failed === undefined) await new Promise<void>((resolve) => (this.#waiter = resolve));
    if (this.#failed !== undefined) throw this.#failed;
    const n = Math.min(max, this.#available);
    this.#available -= n;
    return n;
  }

  #wake(): void {
    const w = this.#waiter;
    this.#waiter = undefined;
    w?.();
  }
}

/** Sends `chunks` as DATA frames of at most MAX_DATA_FRAME_BYTES, each within the request's credit. */
export async function sendData(writer: MuxWriter, id: number, credit: SendCredit, chunks: Iterable<Uint8Array> | AsyncIterable<Uint8Array>, stopped: () => boolean): Promise<void> {
  for await (const chunk of chunks) {
    for (let offset = 0; offset < chunk.byteLength; ) {
      if (stopped()) return;
      const n = await credit.take(Math.min(MAX_DATA_FRAME_BYTES, chunk.byteLength - offset));
      await writer.room();
      if (stopped()) return;
      writer.push(MuxFrame.DATA, id, chunk.subarray(offset, offset + n));
      offset += n;
    }
  }
}

/**
 * Data received for one request, read by one consumer. Grants credit back as the consumer reads
 * (half the window at a time), and refuses a sender that overruns the credit it was given.
 */
export class InboundData {
  readonly #grant: (bytes: number) => void;
  #queue: Uint8Array[] = [];
  #queued = 0;
  #ended = false;
  #failure: Error | undefined;
  #wake: (() => void) | undefined;
  #unacknowledged = 0;

  constructor(grant: (bytes: number) => void) {
    this.#grant = grant;
  }

  /** False when the sender overran its credit (a protocol error: the request is to be cancelled). */
  push(data: Uint8Array): boolean {
    this.#queue.push(data);
    this.#queued += data.byteLength;
    this.#notify();
    return this.#queued <= MUX_INITIAL_CREDIT_BYTES;
  }

  end(): void {
    this.#ended = true;
    this.#notify();
  }

  fail(err: Error): void {
    this.#failure ??= err;
    this.#notify();
  }

  async *read(): AsyncGenerator<Uint8Array> {
    for (;;) {
      const next = this.#queue.shift();
      if (next !== undefined) {
        this.#queued -= next.byteLength;
        this.#unacknowledged += next.byteLength;
        if (this.#unacknowledged >= MUX_INITIAL_CREDIT_BYTES / 2) {
          this.#grant(this.#unacknowledged);
          this.#unacknowledged = 0;
        }
        yield next;
        continue;
      }
      if (this.#failure !== undefined) throw this.#failure;
      if (this.#ended) return;
      await new Promise<void>((resolve) => (this.#wake = resolve));
    }
  }

  #notify(): void {
    const w = this.#wake;
    this.#wake = undefined;
    w?.();
  }
}

function varint(n: number): Uint8Array {
  const out: number[] = [];
  while (n >= 0x80) {
    out.push((n & 0x7f) | 0x80);
    n = Math.floor(n / 0x80);
  }
  out.push(n);
  return Uint8Array.from(out);
}

