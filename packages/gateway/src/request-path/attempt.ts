import { chooseRoute } from '@synkti/fleet';
import { type Logger, type Rng, UpstreamCode, UpstreamError } from '@synkti/interface';
import { type ForwardResponse, type RequestHead, SEQUENCES_HEADER } from '@synkti/protocol';
import { GatewayError } from '../errors.js';
import type { BodySource } from './body-source.js';
import type { FleetSource } from '../fleet-source.js';

/** Where requests go: the agent's own engine or a peer over the mesh, behind one call. */
export interface RequestTarget {
  send(peerId: string, head: RequestHead, body: Uint8Array, signal: AbortSignal): Promise<ForwardResponse>;
}

/** The two targets an agent has: its own engine, and its peers' over the mesh. */
export interface RequestTargets {
  selfId: string;
  local: { send(head: RequestHead, body: Uint8Array, signal: AbortSignal): Promise<ForwardResponse> };
  peers: { forward(peerId: string, head: RequestHead, body: Uint8Array, options: { signal: AbortSignal }): Promise<ForwardResponse> };
}

/** The one place the request path chooses between this node's engine and a peer: by peer ID. */
export function requestTargetOf(targets: RequestTargets): RequestTarget {
  const { selfId, local, peers } = targets;
  return { send: (peerId, head, body, signal) => (peerId === selfId ? local.send(head, body, signal) : peers.forward(peerId, head, body, { signal })) };
}

/** Statuses that mean "this peer cannot take it now" and come before any body byte. */
const RETRYABLE_STATUSES = new Set([502, 503, 504]);

/** One try of a request on one peer, from its head to the end of its body. */
export class Attempt {
  readonly peerId: string;
  readonly response: ForwardResponse;
  readonly iterator: AsyncIterator<Uint8Array>;
  readonly #controller: AbortController;
  readonly #release: () => void;
  #deadline: ReturnType<typeof setTimeout> | undefined;
  #ended = false;
  /** Rejects the read in progress: a body that does not follow its signal still ends on abort. */
  #rejectRead: ((reason: unknown) => void) | undefined;
  #watchdog: ReturnType<typeof setTimeout> | undefined;
  #waitingSince: number | undefined;
  #stallMs = 0;

  constructor(peerId: string, response: ForwardResponse, controller: AbortController, release: () => void, deadline: ReturnType<typeof setTimeout> | undefined) {
    this.peerId = peerId;
    this.response = response;
    this.iterator = response.body[Symbol.asyncIterator]();
    this.#controller = controller;
    this.#release = release;
    this.#deadline = deadline;
    // One listener per attempt, not per read: racing each read against a long-lived promise
    // would pile a reaction on it per token.
    controller.signal.addEventListener('abort', () => this.#rejectRead?.(controller.signal.reason), { once: true });
  }

  get signal(): AbortSignal {
    return this.#controller.signal;
  }

  /** The first token came in time: the deadline no longer applies. */
  clearDeadline(): void {
    clearTimeout(this.#deadline);
    this.#deadline = undefined;
  }

  /**
   * The next body chunk, or a stall error when none comes within `stallMs`. One watchdog timer
   * per attempt, re-armed only when it fires, rather than a timer set and cleared per chunk: a
   * long stream reads thousands of chunks, and only waiting for upstream counts toward a stall.
   */
  async next(stallMs: number): Promise<IteratorResult<Uint8Array>> {
    if (this.#controller.signal.aborted) throw this.#failure(this.#controller.signal.reason);
    this.#waitingSince = performance.now();
    this.#stallMs = stallMs;
    if (this.#watchdog === undefined) this.#watchdog = setTimeout(() => this.#checkStall(), stallMs);
    try {
      return await new Promise<IteratorResult<Uint8Array>>((resolve, reject) => {
        this.#rejectRead = reject;
        this.iterator.next().then(resolve, reject);
      });
    } catch (err) {
      throw this.#failure(err);
    } finally {
      this.#rejectRead = undefined;
      this.#waitingSince = undefined;
    }
  }

  /** The abort's reason when the attempt was aborted (stall, deadline, peer lost), else `err`. */
  #failure(err: unknown): unknown {
    const reason: unknown = this.#controller.signal.reason;
    return reason instanceof UpstreamError ? reason : err;
  }

  #checkStall(): void {
    this.#watchdog = undefined;
    if (this.#waitingSince === undefined || this.#ended) return; // not waiting: armed again at the next read
    const waited = performance.now() - this.#waitingSince;
    if (waited < this.#stallMs) {
      this.#watchdog = setTimeout(() => this.#checkStall(), this.#stallMs - waited);
      return;
    }
    this.abort(new UpstreamError(UpstreamCode.STREAM_STALLED, `${this.peerId} sent nothing for ${this.#stallMs} ms`, { retryable: true, phase: 'after-head' }));
  }

  abort(reason: unknown): void {
    if (!this.#controller.signal.aborted) this.#controller.abort(reason);
    this.end();
  }

  /** Releases this attempt's in-flight count; safe to call more than once. */
  end(): void {
    if (this.#ended) return;
    this.#ended = true;
    this.clearDeadline();
    clearTimeout(this.#watchdog);
    this.#watchdog = undefined;
    this.#release();
    if (!this.#controller.signal.aborted) void this.iterator.return?.(undefined)?.catch(() => undefined);
  }
}

export interface OpenOptions {
  model: string;
  head: RequestHead;
  body: Uint8Array;
  clientSignal: AbortSignal;
  affinityKey?: string | undefined;
  /** What the request weighs in the in-flight count: the sequences it runs (`n` × prompts). */
  sequences: number;
  /** Peers that failed this request: never tried again for it. */
  failed: ReadonlySet<string>;
  /** Deadline for the attempt's head and first token (cleared by the caller). */
  deadlineMs: number;
  /** Numbers every try of this request, so each reaches the engine under its own x-request-id. */
  tries: { count: number };
}

export interface AttemptDeps {
  fleet: FleetSource;
  target: RequestTarget;
  rng: Rng;
  log: Logger;
  affinityLoadFactor: number;
  retryAfterS: number;
  inFlight: Map<string, number>;
  /** The open attempts to each peer, so a peer declared dead can have its attempts abandoned at once. */
  open: Map<string, Set<AbortController>>;
  isInhibited: (peerId: string) => boolean;
  onPeerFailed: (peerId: string, err: unknown) => void;
}

/**
 * Opens an attempt on the best peer that has not failed this request: tries candidates in the
 * routing order until one answers with a head that is not a refusal. Throws a GatewayError when
 * none does.
 */
export async function openAttempt(deps: AttemptDeps, o: OpenOptions, failedNow: Set<string>): Promise<Attempt> {
  const peers = deps.fleet.peers();
  const exclude = new Set([...o.failed, ...peers.filter((p) => deps.isInhibited(p.peerId)).map((p) => p.peerId)]);
  let route = chooseRoute(peers, { model: o.model, inFlight: deps.inFlight, affinityKey: o.affinityKey, affinityLoadFactor: deps.affinityLoadFactor, exclude }, deps.rng);
  // Inhibition is a preference: with nobody else left, an inhibited peer is better than none.
  if (route.length === 0) route = chooseRoute(peers, { model: o.model, inFlight: deps.inFlight, affinityKey: o.affinityKey, affinityLoadFactor: deps.affinityLoadFactor, exclude: o.failed }, deps.rng);
  if (route.length === 0) throw noPeer(deps, o.model, o.failed.size > 0);
  let lastError: unknown;
  for (const candidate of route) {
    o.clientSignal.throwIfAborted();
    const peerId = candidate.peerId;
    adjust(deps.inFlight, peerId, +o.sequences);
    const release = once(() => adjust(deps.inFlight, peerId, -o.sequences));
    const controller = new AbortController();
    const onClientAbort = () => controller.abort(o.clientSignal.reason);
    o.clientSignal.addEventListener('abort', onClientAbort, { once: true });
    const opened = deps.open.get(peerId) ?? new Set<AbortController>();
    deps.open.set(peerId, opened.add(controller));
    const cleanup = () => {
      release();
      o.clientSignal.removeEventListener('abort', onClientAbort);
      opened.delete(controller);
      if (opened.size === 0 && deps.open.get(peerId) === opened) deps.open.delete(peerId);
    };
    const deadline = setTimeout(() => controller.abort(new UpstreamError(UpstreamCode.FIRST_TOKEN_TIMEOUT, `${peerId} gave no first token within ${o.deadlineMs} ms`, { retryable: true })), o.deadlineMs);
    const headers: Record<string, string> = { ...o.head.headers, 'x-request-id': `${o.head.requestId}-${++o.tries.count}` };
    if (o.sequences > 1) headers[SEQUENCES_HEADER] = String(o.sequences);
    const head = { ...o.head, headers };
    try {
      const response = await deps.target.send(peerId, head, o.body, controller.signal);
      if (RETRYABLE_STATUSES.has(response.status)) {
        lastError = new UpstreamError('PEER_REFUSED', `${peerId} answered ${response.status}`, { retryable: true });
        deps.log.warn({ requestId: o.head.requestId, peer: peerId, status: response.status }, 'peer refused the request; trying the next');
        clearTimeout(deadline);
        cleanup();
        void drain(response.body);
        deps.onPeerFailed(peerId, lastError);
        failedNow.add(peerId);
        continue;
      }
      return new Attempt(peerId, response, controller, cleanup, deadline);
    } catch (err) {
      clearTimeout(deadline);
      cleanup();
      if (o.clientSignal.aborted) throw err;
      lastError = controller.signal.reason instanceof UpstreamError ? controller.signal.reason : err;
      failedNow.add(peerId);
      deps.onPeerFailed(peerId, lastError);
      // Targets fail with UpstreamError; anything else is a bug, not a reason to load another peer.
      const retryable = lastError instanceof UpstreamError && lastError.retryable;
      deps.log.warn({ err: lastError, requestId: o.head.requestId, peer: peerId }, retryable ? 'attempt failed before a response; trying the next peer' : 'attempt failed');
      if (!retryable) break;
    }
  }
  throw upstreamFailed(route.length, lastError);
}

export function upstreamFailed(tried: number, cause: unknown): GatewayError {
  return new GatewayError('UPSTREAM_FAILED', 502, 'server_error', `The request failed on ${tried} peer(s): ${(cause as Error | undefined)?.message ?? 'unknown error'}`, { cause });
}

function noPeer(deps: AttemptDeps, model: string, afterFailures: boolean): GatewayError {
  const peers = deps.fleet.peers();
  const known = peers.some((p) => p.status !== 'dead' && p.state.engine.models.includes(model));
  if (!known && !afterFailures) return new GatewayError('MODEL_NOT_FOUND', 404, 'not_found_error', `The model \`${model}\` does not exist.`, { param: 'model' });
  return new GatewayError('NO_HEALTHY_PEER', 503, 'service_unavailable', `No healthy peer serves \`${model}\` right now; retry shortly.`, { retryAfterS: deps.retryAfterS });
}

function adjust(inFlight: Map<string, number>, peerId: string, delta: number): void {
  const next = (inFlight.get(peerId) ?? 0) + delta;
  if (next <= 0) inFlight.delete(peerId);
  else inFlight.set(peerId, next);
}

/** `fn`, callable any number of times, run at most once: releases that must not count twice. */
export function once(fn: () => void): () => void {
  let done = false;
  return () => {
    if (!done) fn();
    done = true;
  };
}

async function drain(body: AsyncIterable<Uint8Array>): Promise<void> {
  try {
    for await (const _ of body) {
      // discard: the refusal's body is not the client's
    }
  } catch {
    // the peer already refused; a broken refusal body changes nothing
  }
}

/**
 * An upstream body relayed as it is (the rest of a large non-streamed answer after the `held`
 * chunks already read, or an engine's error answer to a stream): a break after bytes went out
 * can only abort the client's connection.
 */
export function passThroughBody(attempt: Attempt, held: Uint8Array[], o: { stallMs: number; log: Logger; requestId: string; onFinish: () => void }): BodySource {
  let pending = held.length > 0 ? Buffer.concat(held) : undefined;
  let finished = false;
  const end = (err?: unknown) => {
    if (finished) return;
    finished = true;
    if (err === undefined) attempt.end();
    else attempt.abort(err);
    o.onFinish();
  };
  return {
    async read() {
      if (pending !== undefined) {
        const bytes = pending;
        pending = undefined;
        return { bytes, last: false };
      }
      try {
        const next = await attempt.next(o.stallMs);
        if (next.done !== true) return { bytes: next.value, last: false };
        end();
        return { bytes: undefined, last: true };
      } catch (err) {
        if (finished) return { bytes: undefined, last: true }; // cancelled: the client is gone
        o.log.warn({ err, requestId: o.requestId, peer: attempt.peerId }, 'response broke after bytes reached the client; aborting the connection');
        end(err);
        throw err;
      }
    },
    cancel(reason) {
      end(reason ?? new Error('client went away'));
    },
  };
}
