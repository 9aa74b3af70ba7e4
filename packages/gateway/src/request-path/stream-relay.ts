import { type Logger, UpstreamCode, UpstreamError } from '@synkti/interface';
import { createParser, type EventSourceParser } from 'eventsource-parser';
import { agentLeaving, GatewayError } from '../errors.js';
import type { AgentMetrics } from '../metrics.js';
import { type Attempt, passThroughBody } from './attempt.js';
import type { BodyChunk, BodySource } from './body-source.js';
import { type CompletionRequest, continuationBody, firstAttemptBody, NotContinuableError } from './completion.js';
import { CONTINUATION_PEER_POLL_MS, CONTINUATION_PEER_WAIT_MS, MAX_ATTEMPTS_BEFORE_COMMIT, MAX_SSE_EVENT_BYTES } from './constants.js';
import type { RequestPathLimits } from './request-path.js';
import { StreamSession } from './stream-session.js';

export interface RelayInit {
  request: CompletionRequest;
  open: (body: Uint8Array) => Promise<Attempt>;
  /** Peers that failed this request, shared with `open`. */
  failed: Set<string>;
  limits: RequestPathLimits;
  log: Logger;
  requestId: string;
  metrics?: AgentMetrics | undefined;
  onPeerFailed: (peerId: string, err: unknown) => void;
  /** The client's own signal: a break after it aborted is no peer's fault. */
  clientSignal: AbortSignal;
  onFinish: () => void;
  onTokens?: ((tokens: number) => void) | undefined;
  /** Set when the entry agent itself is leaving: a break then ends the stream, never migrates it. */
  leaving?: () => string | null;
}

export interface RelayedStream {
  peerId: string;
  status: number;
  headers: Record<string, string>;
  body: BodySource;
}

type Break = { kind: 'break'; reason: string; detail: string; err?: unknown };
type Step = { kind: 'output' } | { kind: 'done' } | Break;

const encoder = new TextEncoder();
/** Time for the final error event to reach the client's socket before the connection is aborted. */
const ERROR_EVENT_FLUSH_MS = 100;
const json = (body: Record<string, unknown>) => encoder.encode(JSON.stringify(body));

/**
 * A streamed completion, relayed to the client across as many attempts as it takes. Nothing is
 * sent before the first token: until then a failed attempt is retried as if new. After that a
 * break (peer lost, engine error, hand-over, stall, an end without a finish) continues the
 * answer on another peer; when it cannot, the client gets an SSE error event and an aborted
 * connection — never a clean end.
 */
export async function relayStream(init: RelayInit): Promise<RelayedStream> {
  const relay = new Relay(init);
  const first = await relay.start();
  return { peerId: first.peerId, status: first.response.status, headers: first.response.headers, body: relay.body() };
}

class Relay {
  readonly #init: RelayInit;
  #session: StreamSession;
  #attempt: Attempt | undefined;
  #parser: EventSourceParser;
  #decoder = new TextDecoder();
  readonly #events: string[] = [];
  #migrations = 0;
  #lastTokenAt = 0;
  #errorEvent: string | null = null;
  #finished = false;

  constructor(init: RelayInit) {
    this.#init = init;
    this.#session = new StreamSession(init.request);
    this.#parser = this.#newParser();
  }

  /** Opens attempts until one produced a first token; throws a GatewayError if none does. */
  async start(): Promise<Attempt> {
    let last: Break | undefined;
    const body = json(firstAttemptBody(this.#init.request));
    try {
      for (let i = 0; i < MAX_ATTEMPTS_BEFORE_COMMIT; i++) {
        const attempt = await this.#init.open(body);
        this.#use(attempt);
        if (attempt.response.status !== 200) return attempt;
        const step = await this.#untilToken();
        if (step.kind !== 'break') return attempt;
        // The client left before its first token: the break is our own abort, not the peer's.
        if (this.#clientGone()) {
          const gone = new Error('the client went away before the first token', { cause: this.#init.clientSignal.reason });
          attempt.abort(gone);
          throw gone;
        }
        // Nothing reached the client: forget this attempt and try another peer as if new —
        // unless this agent is leaving (a 503 the client may retry elsewhere).
        const leaving = this.#init.leaving?.() ?? null;
        if (leaving !== null) {
          attempt.abort(step.err ?? new Error(leaving));
          throw agentLeaving(leaving);
        }
        last = step;
        this.#failAttempt(step);
        this.#session = new StreamSession(this.#init.request);
        this.#observe(step.reason, 'retried');
        this.#init.log.warn({ requestId: this.#init.requestId, peer: attempt.peerId, reason: step.reason, detail: step.detail }, 'stream failed before its first token; retrying on another peer');
      }
    } catch (err) {
      this.#finish();
      throw err;
    }
    this.#finish();
    throw new GatewayError('UPSTREAM_FAILED', 502, 'server_error', `The stream failed before its first token on ${MAX_ATTEMPTS_BEFORE_COMMIT} peer(s): ${last?.detail ?? 'unknown error'}`, { cause: last?.err });
  }

  body(): BodySource {
    const attempt = this.#attempt!;
    // A non-200 answer (the engine rejected the request): the client gets it as it is.
    if (attempt.response.status !== 200) return passThroughBody(attempt, [], { stallMs: this.#init.limits.streamStallTimeoutMs, log: this.#init.log, requestId: this.#init.requestId, onFinish: () => this.#finish() });
    return {
      read: () => this.#read(),
      cancel: (reason) => {
        this.#attempt?.abort(reason);
        this.#finish();
      },
    };
  }

  async #read(): Promise<BodyChunk> {
    if (this.#finished) return { bytes: undefined, last: true };
    if (this.#errorEvent !== null) {
      // The error event went out with the previous read; now abort, so no SDK takes it for an end.
      // Destroying the socket drops what it has not flushed yet: give the event time to leave.
      await new Promise((resolve) => setTimeout(resolve, ERROR_EVENT_FLUSH_MS));
      this.#finish();
      throw new Error('upstream lost');
    }
    for (;;) {
      let step = this.#session.hasOutput() ? ({ kind: 'output' } as const) : await this.#step();
      if (step.kind === 'break') step = await this.#migrate(step);
      const out = this.#session.takeOutput() + (this.#errorEvent ?? '');
      if (out !== '') this.#lastTokenAt = performance.now();
      const bytes = out === '' ? undefined : encoder.encode(out);
      if (step.kind === 'done') {
        this.#finish();
        return { bytes, last: true };
      }
      if (bytes !== undefined) return { bytes, last: false };
    }
  }

  /** Reads upstream until there is output for the client or the attempt ended. */
  async #step(): Promise<Step> {
    const mark = this.#session.emitted;
    try {
      for (;;) {
        while (this.#events.length > 0) {
          const outcome = this.#session.onEvent(this.#events.shift()!);
          if (outcome.kind !== 'continue') return outcome;
        }
        if (this.#session.emitted > mark) return { kind: 'output' };
        const next = await this.#attempt!.next(this.#init.limits.streamStallTimeoutMs);
        if (next.done === true) {
          this.#parser.reset({ consume: true });
          if (this.#events.length === 0) return this.#session.onUpstreamEnd();
        } else this.#parser.feed(this.#decoder.decode(next.value, { stream: true }));
      }
    } catch (err) {
      const reason = reasonOf(err);
      if (reason === 'unexpected' && !this.#clientGone()) this.#init.log.error({ err, requestId: this.#init.requestId, peer: this.#attempt?.peerId }, 'stream broke with an error no target should throw; continuing it elsewhere');
      return { kind: 'break', reason, detail: (err as Error).message, err };
    }
  }

  /** Reads an attempt up to its first token (or its end), under the attempt's deadline. */
  async #untilToken(): Promise<Step> {
    const before = this.#session.progress().tokens;
    const wasCommitted = this.#session.committed;
    for (;;) {
      const step = await this.#step();
      const gotToken = wasCommitted ? this.#session.progress().tokens > before || step.kind === 'done' : this.#session.committed;
      if (step.kind === 'break' || gotToken) {
        if (gotToken) {
          this.#attempt!.clearDeadline();
          this.#lastTokenAt = performance.now();
        }
        return step;
      }
      if (step.kind === 'done') return { kind: 'break', reason: 'truncated', detail: 'the upstream finished without a token' };
      // Output before the first token (a role delta) stays queued for the client; keep reading.
    }
  }

  /** Continues the answer on another peer, or ends the client's stream with an error event. */
  async #migrate(first: Break): Promise<Step> {
    // The client went away: the break is our own abort, no fault of the peer's.
    if (this.#clientGone()) return { kind: 'done' };
    let brk = first;
    const lastTokenAt = this.#lastTokenAt;
    const brokenAt = performance.now();
    for (;;) {
      const from = this.#attempt?.peerId;
      // This agent leaving, or an error another peer cannot do better on: no continuation, and
      // no blame on the peer.
      const final = this.#finalReason(brk);
      if (final !== null) {
        this.#attempt?.abort(brk.err ?? new Error(final));
        return this.#fail(brk, final);
      }
      this.#failAttempt(brk);
      const refusal = this.#whyNot();
      if (refusal !== null) return this.#fail(brk, refusal);
      const remaining = this.#session.remainingTokens();
      if (remaining !== null && remaining <= 0) {
        this.#session.finishAtLimit();
        return { kind: 'done' };
      }
      this.#migrations++;
      const carried = this.#session.progress().tokens;
      this.#session.beginAttempt();
      let attempt: Attempt;
      try {
        attempt = await this.#openContinuation(brokenAt);
      } catch (err) {
        return this.#fail(brk, err instanceof NotContinuableError ? err.message : `no peer could continue it (${(err as Error).message})`);
      }
      if (this.#clientGone()) {
        // The client left while the continuation was being opened: it is nobody's now.
        attempt.abort(new Error('client went away'));
        return { kind: 'done' };
      }
      this.#use(attempt);
      const step = attempt.response.status === 200 ? await this.#untilToken() : { kind: 'break' as const, reason: 'engine-error', detail: `the continuation was answered with ${attempt.response.status}` };
      if (step.kind !== 'break') {
        const gapMs = this.#lastTokenAt - lastTokenAt;
        const detectMs = Math.round(brokenAt - lastTokenAt);
        this.#observe(brk.reason, 'continued', gapMs / 1_000);
        this.#init.log.info({ requestId: this.#init.requestId, fromPeer: from, toPeer: attempt.peerId, reason: brk.reason, tokensCarried: carried, gapMs: Math.round(gapMs), detectMs, migration: this.#migrations }, 'stream migrated');
        return step;
      }
      this.#observe(brk.reason, 'retried');
      brk = step;
    }
  }

  /**
   * Opens the continuation. When no peer looks healthy right now — a loaded fleet's views flap
   * to "suspect" as a node dies — it waits for one, up to CONTINUATION_PEER_WAIT_MS after the
   * break, rather than failing a stream that a second later could have gone on.
   */
  async #openContinuation(brokenAt: number): Promise<Attempt> {
    for (;;) {
      try {
        return await this.#init.open(json(continuationBody(this.#init.request, this.#session.progress())));
      } catch (err) {
        const waitable = err instanceof GatewayError && err.code === 'NO_HEALTHY_PEER' && !this.#clientGone();
        if (!waitable || performance.now() - brokenAt >= CONTINUATION_PEER_WAIT_MS) throw err;
        await new Promise((resolve) => setTimeout(resolve, CONTINUATION_PEER_POLL_MS));
      }
    }
  }

  /** Why `brk` must end the stream rather than be continued, or null. */
  #finalReason(brk: Break): string | null {
    const leaving = this.#init.leaving?.() ?? null;
    if (leaving !== null) return leaving;
    const err = brk.err;
    if (err instanceof UpstreamError && !err.retryable && err.phase === 'after-head') return `the upstream's error is final (${err.code})`;
    return null;
  }

  /** The client went away: its signal aborted, or it cancelled the body it was reading. */
  #clientGone(): boolean {
    return this.#finished || this.#init.clientSignal.aborted;
  }

  #whyNot(): string | null {
    const refusal = this.#session.notContinuable();
    if (refusal !== null) return refusal;
    if (this.#migrations >= this.#init.limits.migrationLimit) return `the migration limit (${this.#init.limits.migrationLimit}) was reached`;
    return null;
  }

  #fail(brk: Break, why: string): Step {
    this.#observe(brk.reason, 'failed');
    this.#init.log.error({ requestId: this.#init.requestId, reason: brk.reason, detail: brk.detail, notContinued: why, migrations: this.#migrations, tokensSent: this.#session.progress().tokens }, 'stream lost; the client gets an error event and an aborted connection');
    const error = { error: { message: `The stream was interrupted (${brk.detail}) and could not be continued: ${why}.`, type: 'server_error', param: null, code: 'upstream_lost' } };
    this.#errorEvent = `data: ${JSON.stringify(error)}\n\n`;
    return { kind: 'output' };
  }

  #use(attempt: Attempt): void {
    this.#attempt = attempt;
    this.#parser = this.#newParser();
    this.#decoder = new TextDecoder();
    this.#events.length = 0;
  }

  #failAttempt(brk: Break): void {
    const attempt = this.#attempt;
    if (attempt === undefined) return;
    const err = brk.err ?? new Error(brk.detail);
    attempt.abort(err);
    this.#init.failed.add(attempt.peerId);
    this.#init.onPeerFailed(attempt.peerId, err);
  }

  #observe(reason: string, outcome: 'continued' | 'retried' | 'failed', gapS?: number): void {
    const metrics = this.#init.metrics;
    if (metrics === undefined) return;
    metrics.migrations.inc({ reason, outcome });
    if (gapS !== undefined) metrics.migrationGapSeconds.observe(gapS);
  }

  #newParser(): EventSourceParser {
    return createParser({ onEvent: (event) => this.#events.push(event.data), maxBufferSize: MAX_SSE_EVENT_BYTES });
  }

  #finish(): void {
    if (this.#finished) return;
    this.#finished = true;
    this.#attempt?.end();
    this.#init.onTokens?.(this.#session.progress().tokens);
    this.#init.onFinish();
  }
}

/**
 * The migration metric's reason for a break. Every target fails with an UpstreamError; anything
 * else is a bug of ours on the way ('unexpected', logged with its stack by the caller) — the
 * stream is still continued, since the peer may well be fine.
 */
function reasonOf(err: unknown): string {
  if (!(err instanceof UpstreamError)) return 'unexpected';
  if (err.code === UpstreamCode.AGENT_LEAVING) return 'agent-leaving';
  if (!err.retryable && err.phase === 'after-head') return 'final';
  if (err.code === UpstreamCode.HANDOVER) return 'handover';
  if (err.code === UpstreamCode.STREAM_STALLED) return 'stalled';
  if (err.code === UpstreamCode.FIRST_TOKEN_TIMEOUT) return 'first-token-timeout';
  return 'peer-lost';
}
