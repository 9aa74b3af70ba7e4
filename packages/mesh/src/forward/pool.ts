import type { Stream } from '@libp2p/interface';
import { peerIdFromString } from '@libp2p/peer-id';
import type { Clock } from '@synkti/interface';
import { FORWARD_PROTOCOL } from '@synkti/protocol';
import type { MeshLibp2p } from '../node.js';

/** Negotiated streams kept ready per peer: covers a burst while the pool refills. */
export const IDLE_STREAMS_PER_PEER = 4;
/** A ready stream unused this long is closed (yamux aborts idle streams after 120 s anyway). */
export const IDLE_STREAM_MAX_MS = 60_000;
/** Budget for opening a stream in the background. */
const OPEN_TIMEOUT_MS = 10_000;

interface Ready {
  stream: Stream;
  openedAt: number;
}

/**
 * Ready, already-negotiated forward streams per peer. libp2p 3 negotiates every new stream with
 * a full multistream round trip (its optimistic `negotiateFully: false` is not implemented for
 * new streams), which costs more than the whole forwarding budget. The pool does that round trip
 * ahead of time, off the request path; each stream still carries exactly one request, so
 * cancellation (abort the stream) and backpressure (yamux's per-stream window) stay per request.
 */
export class ForwardStreamPool {
  readonly #node: MeshLibp2p;
  readonly #clock: Clock;
  readonly #ready = new Map<string, Ready[]>();
  readonly #opening = new Map<string, number>();
  #closed = false;

  constructor(node: MeshLibp2p, clock: Clock) {
    this.#node = node;
    this.#clock = clock;
  }

  /** A ready stream to `peerId`, or a freshly negotiated one; either way the pool refills. */
  async acquire(peerId: string, signal: AbortSignal): Promise<Stream> {
    const ready = this.#ready.get(peerId);
    let stream: Stream | undefined;
    while (ready !== undefined && ready.length > 0 && stream === undefined) {
      const next = ready.shift()!;
      if (usable(next.stream) && this.#clock.now() - next.openedAt < IDLE_STREAM_MAX_MS) stream = next.stream;
      else closeQuietly(next.stream);
    }
    this.#refill(peerId);
    return stream ?? this.#open(peerId, signal);
  }

  close(): void {
    this.#closed = true;
    for (const ready of this.#ready.values()) for (const r of ready) closeQuietly(r.stream);
    this.#ready.clear();
  }

  #refill(peerId: string): void {
    const have = (this.#ready.get(peerId)?.length ?? 0) + (this.#opening.get(peerId) ?? 0);
    for (let i = have; i < IDLE_STREAMS_PER_PEER && !this.#closed; i++) {
      this.#opening.set(peerId, (this.#opening.get(peerId) ?? 0) + 1);
      this.#open(peerId, AbortSignal.timeout(OPEN_TIMEOUT_MS))
        .then((stream) => {
          if (this.#closed) return closeQuietly(stream);
          const list = this.#ready.get(peerId) ?? [];
          list.push({ stream, openedAt: this.#clock.now() });
          this.#ready.set(peerId, list);
        })
        .catch(() => {
          // The peer is unreachable; the next request dials it directly and reports the error.
        })
        .finally(() => {
          const n = (this.#opening.get(peerId) ?? 1) - 1;
          if (n <= 0) this.#opening.delete(peerId);
          else this.#opening.set(peerId, n);
        });
    }
  }

  #open(peerId: string, signal: AbortSignal): Promise<Stream> {
    return this.#node.dialProtocol(peerIdFromString(peerId), FORWARD_PROTOCOL, { signal });
  }
}

function usable(stream: Stream): boolean {
  return stream.status === 'open' && stream.writeStatus === 'writable' && stream.remoteWriteStatus === 'writable' && stream.readStatus !== 'closed';
}

function closeQuietly(stream: Stream): void {
  stream.close().catch(() => stream.abort(new Error('idle forward stream closed')));
}
