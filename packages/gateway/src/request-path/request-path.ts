import { type Logger, type Rng, UpstreamCode, UpstreamError } from '@synkti/interface';
import type { RequestHead } from '@synkti/protocol';
import { agentLeaving, GatewayError } from '../errors.js';
import type { FleetSource } from '../fleet-source.js';
import type { AgentMetrics } from '../metrics.js';
import { type Attempt, type AttemptDeps, once, openAttempt, passThroughBody, type RequestTarget, upstreamFailed } from './attempt.js';
import type { BodySource } from './body-source.js';
import type { CompletionRequest } from './completion.js';
import { FIRST_TOKEN_TIMEOUT_MS, MAX_ATTEMPTS_BEFORE_COMMIT, MAX_BUFFERED_PLAIN_BYTES, MAX_IN_FLIGHT, MIGRATION_LIMIT, PEER_INHIBIT_MS, RESPONSE_TIMEOUT_MS, STREAM_STALL_TIMEOUT_MS } from './constants.js';
import { relayStream } from './stream-relay.js';

export interface RequestPathLimits {
  migrationLimit: number;
  firstTokenTimeoutMs: number;
  responseTimeoutMs: number;
  streamStallTimeoutMs: number;
  peerInhibitMs: number;
  /** Client requests in flight through this agent at most (see MAX_IN_FLIGHT). */
  maxInFlight: number;
}

export const DEFAULT_REQUEST_PATH_LIMITS: RequestPathLimits = {
  migrationLimit: MIGRATION_LIMIT,
  firstTokenTimeoutMs: FIRST_TOKEN_TIMEOUT_MS,
  responseTimeoutMs: RESPONSE_TIMEOUT_MS,
  streamStallTimeoutMs: STREAM_STALL_TIMEOUT_MS,
  peerInhibitMs: PEER_INHIBIT_MS,
  maxInFlight: MAX_IN_FLIGHT,
};

export interface RequestPathInit {
  fleet: FleetSource;
  target: RequestTarget;
  rng: Rng;
  logger: Logger;
  affinityLoadFactor: number;
  /** Seconds a client should wait before retrying when no peer can serve. */
  retryAfterS: number;
  limits?: Partial<RequestPathLimits>;
  metrics?: AgentMetrics;
  /** Told the completion tokens of each relayed stream when it ends (the dashboard's tokens per second). */
  onStreamTokens?: (tokens: number) => void;
  /** Milliseconds clock for inhibition; defaults to performance.now. */
  now?: () => number;
}

export interface PathRequest {
  model: string;
  head: RequestHead;
  body: Uint8Array;
  /** Set for /v1/chat/completions and /v1/completions: what migration needs to know. */
  completion?: CompletionRequest;
  signal: AbortSignal;
  affinityKey?: string | undefined;
  /** Sequences the request runs in the engine (`n` × batched prompts), counted in flight per peer; default 1. */
  sequences?: number;
}

/** A response the client can be given: its head is settled and its first bytes are on hand. */
export interface Served {
  peerId: string;
  status: number;
  headers: Record<string, string>;
  /** Bytes when the whole answer is on hand (a non-streamed answer up to MAX_BUFFERED_PLAIN_BYTES). */
  body: BodySource | Uint8Array;
  attempts: number;
}

/**
 * The request path, one capability: it picks the target (this node's engine or a peer), and
 * owns deadlines, retries before anything reached the client, migration of broken streams,
 * peer inhibition and in-flight accounting (which returns to zero after any outcome).
 */
export class RequestPath {
  readonly limits: RequestPathLimits;
  readonly #init: RequestPathInit;
  readonly #inFlight = new Map<string, number>();
  readonly #open = new Map<string, Set<AbortController>>();
  readonly #inhibitedUntil = new Map<string, number>();
  readonly #log: Logger;
  readonly #now: () => number;
  #streams = 0;
  /** Why this agent is ending every response it relays (set once, by endAll). */
  #leaving: string | null = null;

  constructor(init: RequestPathInit) {
    this.#init = init;
    this.limits = { ...DEFAULT_REQUEST_PATH_LIMITS, ...init.limits };
    this.#log = init.logger.child({ component: 'gateway:request-path' });
    this.#now = init.now ?? (() => performance.now());
  }

  /** Requests this agent has in flight to each peer (itself included). */
  inFlight(): ReadonlyMap<string, number> {
    return this.#inFlight;
  }

  /**
   * Membership says `peerId` is gone (dead: silent past deadAfter): every attempt open to it is
   * abandoned now rather than at its own deadline (up to responseTimeoutMs for a non-streamed
   * request): one without a first byte is retried on another peer, a stream is migrated.
   * Returns how many were abandoned.
   */
  peerLost(peerId: string, why: string): number {
    const open = this.#open.get(peerId);
    if (open === undefined) return 0;
    const err = new UpstreamError(UpstreamCode.PEER_LOST, `${peerId} is ${why}`, { retryable: true });
    const controllers = [...open];
    for (const c of controllers) c.abort(err);
    this.#log.warn({ peer: peerId, why, requests: controllers.length }, 'peer lost: its requests go elsewhere');
    this.#onPeerFailed(peerId, err);
    return controllers.length;
  }

  /**
   * This agent is leaving with client responses still running (its drain's relay deadline
   * passed): each ends as a response that cannot go on ends — a stream with an SSE error event
   * and an aborted connection, a non-streamed answer already under way with an aborted
   * connection, one with nothing sent yet with a retryable 503 — rather than being cut by the
   * server's close as if it had finished, or retried on a peer. Returns the attempts it aborted.
   */
  endAll(why: string): number {
    this.#leaving = why;
    const err = new UpstreamError(UpstreamCode.AGENT_LEAVING, why, { retryable: false, phase: 'after-head' });
    let ended = 0;
    for (const open of this.#open.values()) {
      for (const c of [...open]) {
        c.abort(err);
        ended++;
      }
    }
    if (ended > 0) this.#log.error({ why, attempts: ended }, 'ending every response still relayed: this agent is leaving');
    return ended;
  }

  #leavingError(): GatewayError {
    return agentLeaving(this.#leaving ?? 'leaving', this.#init.retryAfterS);
  }

  /** Client responses still being relayed by this agent (it must not exit while they run). */
  get activeResponses(): number {
    return this.#streams;
  }

  async serve(req: PathRequest): Promise<Served> {
    if (this.#streams >= this.limits.maxInFlight) {
      this.#init.metrics?.admissionRejected.inc();
      throw new GatewayError('OVERLOADED', 503, 'service_unavailable', `This agent is serving ${this.#streams} requests, its limit (maxInFlight); retry shortly or send to another agent.`, { retryAfterS: this.#init.retryAfterS });
    }
    const failed = new Set<string>();
    const tries = { count: 0 };
    const streamed = req.completion?.stream === true;
    const deadlineMs = streamed ? this.limits.firstTokenTimeoutMs : this.limits.responseTimeoutMs;
    const open = (body: Uint8Array): Promise<Attempt> =>
      this.#leaving !== null ? Promise.reject(this.#leavingError()) : openAttempt(this.#deps(), { model: req.model, head: req.head, body, clientSignal: req.signal, affinityKey: req.affinityKey, sequences: req.sequences ?? 1, failed, deadlineMs, tries }, failed);
    this.#streams++;
    const onFinish = once(() => this.#streams--);
    try {
      const served = streamed
        ? await relayStream({ request: req.completion!, open, failed, clientSignal: req.signal, limits: this.limits, log: this.#log, requestId: req.head.requestId, metrics: this.#init.metrics, onPeerFailed: (p, e) => this.#onPeerFailed(p, e), onFinish, onTokens: this.#init.onStreamTokens, leaving: () => this.#leaving })
        : await this.#servePlain(req, open, failed, onFinish);
      return { ...served, attempts: tries.count };
    } catch (err) {
      onFinish();
      throw err;
    }
  }

  /**
   * A non-streamed answer is read whole before anything reaches the client (up to
   * MAX_BUFFERED_PLAIN_BYTES; beyond, the rest is relayed as it comes): the client waits for all
   * of it anyway, a break before the end is retried on another peer instead of cutting the
   * client's connection, and the answer goes out in one write with its length.
   */
  async #servePlain(req: PathRequest, open: (body: Uint8Array) => Promise<Attempt>, failed: Set<string>, onFinish: () => void): Promise<Omit<Served, 'attempts'>> {
    let lastError: unknown;
    for (let i = 0; i < MAX_ATTEMPTS_BEFORE_COMMIT; i++) {
      const attempt = await open(req.body);
      const chunks: Uint8Array[] = [];
      let size = 0;
      let next: IteratorResult<Uint8Array>;
      try {
        next = await attempt.next(this.limits.responseTimeoutMs);
        attempt.clearDeadline();
        while (next.done !== true && size + next.value.byteLength <= MAX_BUFFERED_PLAIN_BYTES) {
          chunks.push(next.value);
          size += next.value.byteLength;
          next = await attempt.next(this.limits.responseTimeoutMs);
        }
      } catch (err) {
        attempt.abort(err);
        if (req.signal.aborted) throw err;
        // Nothing reached the client yet: a leaving agent answers 503 (retry on another agent).
        if (this.#leaving !== null) throw this.#leavingError();
        lastError = err;
        failed.add(attempt.peerId);
        this.#onPeerFailed(attempt.peerId, err);
        this.#log.warn({ err, requestId: req.head.requestId, peer: attempt.peerId }, 'response broke before it reached the client; trying the next peer');
        continue;
      }
      const answer = { peerId: attempt.peerId, status: attempt.response.status, headers: attempt.response.headers };
      if (next.done === true) {
        attempt.end();
        onFinish();
        return { ...answer, body: chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, size) };
      }
      return { ...answer, body: passThroughBody(attempt, [...chunks, next.value], { stallMs: this.limits.responseTimeoutMs, log: this.#log, requestId: req.head.requestId, onFinish }) };
    }
    throw upstreamFailed(MAX_ATTEMPTS_BEFORE_COMMIT, lastError);
  }

  #deps(): AttemptDeps {
    const i = this.#init;
    return {
      fleet: i.fleet,
      target: i.target,
      rng: i.rng,
      log: this.#log,
      affinityLoadFactor: i.affinityLoadFactor,
      retryAfterS: i.retryAfterS,
      inFlight: this.#inFlight,
      open: this.#open,
      isInhibited: (peerId) => (this.#inhibitedUntil.get(peerId) ?? 0) > this.#now(),
      onPeerFailed: (peerId, err) => this.#onPeerFailed(peerId, err),
    };
  }

  #onPeerFailed(peerId: string, err: unknown): void {
    // A hand-over is a peer leaving in order: gossip already steers new work away from it.
    if (err instanceof UpstreamError && err.code === UpstreamCode.HANDOVER) return;
    const now = this.#now();
    this.#inhibitedUntil.set(peerId, now + this.limits.peerInhibitMs);
    // Bounded: expired entries go whenever a failure is recorded.
    for (const [p, until] of this.#inhibitedUntil) if (until <= now) this.#inhibitedUntil.delete(p);
  }
}



export type { RequestTarget };
