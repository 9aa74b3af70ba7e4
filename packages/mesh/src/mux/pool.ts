import type { Stream } from '@libp2p/interface';
import { peerIdFromString } from '@libp2p/peer-id';
import { UpstreamError } from '@synkti/interface';
import { type ForwardResponse, MUX_PROTOCOL, type RequestHead } from '@synkti/protocol';
import type { MeshLibp2p } from '../node.js';
import { MuxClientSession } from './client.js';

/**
 * A peer that does not speak the mux protocol is asked again after this long: an older agent
 * mid-upgrade, or one dialled before it registered its handlers at start.
 */
const NO_MUX_RETRY_MS = 30_000;
/** Budget for opening a mux stream. */
const OPEN_TIMEOUT_MS = 10_000;

/** Thrown by `forward` when the peer does not speak mux: the caller uses the one-stream-per-request protocol. */
export class MuxUnsupportedError extends Error {
  readonly code = 'MUX_UNSUPPORTED';
}

/**
 * One mux session per peer, opened on the first request and replaced when its stream breaks.
 * Opening is shared: concurrent first requests to a peer wait for the same stream.
 */
export class MuxSessions {
  readonly #node: MeshLibp2p;
  readonly #now: () => number;
  readonly #sessions = new Map<string, MuxClientSession>();
  readonly #opening = new Map<string, Promise<MuxClientSession>>();
  readonly #noMuxUntil = new Map<string, number>();
  #closed = false;

  readonly #prepare: (peerId: string) => Promise<void>;

  /** `prepare` runs before a stream is dialled (the mesh puts the peer's gossiped addresses in the peer store). */
  constructor(node: MeshLibp2p, now: () => number, prepare: (peerId: string) => Promise<void> = () => Promise.resolve()) {
    this.#node = node;
    this.#now = now;
    this.#prepare = prepare;
  }

  /** Whether requests to `peerId` should go over mux (false while it is known not to speak it). */
  speaksMux(peerId: string): boolean {
    const until = this.#noMuxUntil.get(peerId);
    return until === undefined || until <= this.#now();
  }

  async forward(peerId: string, head: RequestHead, body: Uint8Array, signal?: AbortSignal): Promise<ForwardResponse> {
    const session = await this.#session(peerId, signal);
    // A session that closed between being found and being asked has sent nothing of this request: one fresh try.
    if (!session.open) return (await this.#session(peerId, signal)).request(head, body, signal);
    return session.request(head, body, signal);
  }

  close(): void {
    this.#closed = true;
    for (const s of this.#sessions.values()) s.close();
    this.#sessions.clear();
  }

  async #session(peerId: string, signal?: AbortSignal): Promise<MuxClientSession> {
    const known = this.#sessions.get(peerId);
    if (known?.open === true) return known;
    if (known !== undefined) this.#sessions.delete(peerId);
    let opening = this.#opening.get(peerId);
    if (opening === undefined) {
      opening = this.#open(peerId).finally(() => this.#opening.delete(peerId));
      this.#opening.set(peerId, opening);
    }
    if (signal === undefined) return opening;
    signal.throwIfAborted();
    let onAbort: (() => void) | undefined;
    const aborted = new Promise<never>((_, reject) => {
      onAbort = () => reject(signal.reason as Error);
      signal.addEventListener('abort', onAbort, { once: true });
    });
    try {
      return await Promise.race([opening, aborted]);
    } finally {
      signal.removeEventListener('abort', onAbort!);
    }
  }

  async #open(peerId: string): Promise<MuxClientSession> {
    if (this.#closed) throw new UpstreamError('FORWARD_DIAL_FAILED', 'the mesh is stopping', { retryable: true, phase: 'before-head' });
    let stream: Stream;
    try {
      await this.#prepare(peerId).catch(() => undefined);
      stream = await this.#node.dialProtocol(peerIdFromString(peerId), MUX_PROTOCOL, { signal: AbortSignal.timeout(OPEN_TIMEOUT_MS) });
    } catch (err) {
      if ((err as { name?: string }).name === 'UnsupportedProtocolError') {
        this.#noMuxUntil.set(peerId, this.#now() + NO_MUX_RETRY_MS);
        throw new MuxUnsupportedError(`${peerId} does not speak ${MUX_PROTOCOL}`);
      }
      throw new UpstreamError('FORWARD_DIAL_FAILED', `cannot open a mux stream to ${peerId}: ${(err as Error).message}`, { retryable: true, phase: 'before-head', cause: err });
    }
    const session = new MuxClientSession(stream, peerId);
    if (this.#closed) {
      session.close();
      throw new UpstreamError('FORWARD_DIAL_FAILED', 'the mesh is stopping', { retryable: true, phase: 'before-head' });
    }
    this.#sessions.set(peerId, session);
    return session;
  }
}
