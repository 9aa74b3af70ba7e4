import { Agent as HttpAgent, type IncomingMessage, request as httpRequest } from 'node:http';
import { UpstreamCode, UpstreamError } from '@synkti/interface';
import { FORWARDED_RESPONSE_HEADERS, type ForwardResponse, type RequestHead, SEQUENCES_HEADER } from '@synkti/protocol';
import { MAX_SEQUENCES_PER_REQUEST } from './body.js';

/** What the request path needs of the engine supervisor. */
export interface LocalEngine {
  readonly baseUrl: string;
  state(): string;
  /** Counts a request in flight by its sequences (drain waits for it); throws when the engine cannot take one. */
  beginRequest(sequences?: number): () => void;
}

export interface LocalEngineTargetInit {
  engine: () => LocalEngine | undefined;
  /** False once the node drains: new requests are refused (retryable), running ones go on. */
  accepting: () => boolean;
}

/** Keep-alive sockets to the engine at most: vLLM runs up to 1,024 sequences at once. */
export const MAX_ENGINE_SOCKETS = 1_024;
/** A 500 body read to tell a dying engine from a request the engine could not serve. */
const MAX_ERROR_BODY_BYTES = 64 * 1024;
/** What vLLM says when its engine core died (EngineDeadError, and the message it answers with). */
const ENGINE_DEAD = /EngineDeadError|EngineCore encountered an issue|engine (?:core )?(?:is )?dead/i;

interface Running {
  handOver(): void;
}

/**
 * Requests to this node's engine over `node:http` keep-alive, with no hidden timeouts: the
 * caller's signal (deadline, client gone) is the only limit, so a long generation is never cut
 * and re-run elsewhere. Tracks every running response so a draining node can hand them all over.
 */
export class LocalEngineTarget {
  readonly #init: LocalEngineTargetInit;
  readonly #agent = new HttpAgent({ keepAlive: true, maxSockets: MAX_ENGINE_SOCKETS });
  readonly #running = new Set<Running>();
  #origin: Origin | undefined;

  constructor(init: LocalEngineTargetInit) {
    this.#init = init;
  }

  /** Requests the engine is serving for this agent or its peers. */
  get running(): number {
    return this.#running.size;
  }

  /** Ends every running response with a hand-over, so its entry agent continues it elsewhere. */
  handOverAll(): number {
    const all = [...this.#running];
    for (const r of all) r.handOver();
    return all.length;
  }

  close(): void {
    this.#agent.destroy();
  }

  async send(head: RequestHead, body: Uint8Array, signal: AbortSignal): Promise<ForwardResponse> {
    const engine = this.#init.engine();
    if (engine === undefined) throw refused('NO_ENGINE', 'this agent runs no engine');
    if (!this.#init.accepting()) throw refused('NODE_DRAINING', 'this node is draining (shutdown, spot interruption or surplus)');
    let release: () => void;
    try {
      release = engine.beginRequest(sequencesOfHead(head));
    } catch (err) {
      throw refused('ENGINE_NOT_READY', `engine is ${engine.state()}`, err);
    }
    let res: IncomingMessage;
    try {
      // Parsed once per engine URL, not once per request.
      if (this.#origin?.baseUrl !== engine.baseUrl) this.#origin = originOf(engine.baseUrl);
      res = await send(this.#agent, this.#origin, head, body, signal);
    } catch (err) {
      release();
      throw new UpstreamError('ENGINE_UNREACHABLE', `engine request failed: ${(err as Error).message}`, { retryable: !signal.aborted, cause: err });
    }
    const headers: Record<string, string> = {};
    for (const name of FORWARDED_RESPONSE_HEADERS) {
      const value = res.headers[name];
      if (typeof value === 'string') headers[name] = value;
    }
    if (res.statusCode === 500) return this.#answerOf500(engine, res, headers, release);
    return { status: res.statusCode ?? 502, headers, body: this.#bodyOf(res, release) };
  }

  /** vLLM answers 500 to everything while its engine dies: that is a peer to avoid, not an answer. */
  async #answerOf500(engine: LocalEngine, res: IncomingMessage, headers: Record<string, string>, release: () => void): Promise<ForwardResponse> {
    let text = '';
    try {
      for await (const chunk of res as AsyncIterable<Buffer>) {
        if (text.length < MAX_ERROR_BODY_BYTES) text += chunk.toString('utf8');
      }
    } catch {
      // A broken error body from a dying engine says the same as a whole one.
    } finally {
      release();
    }
    if (engine.state() !== 'warm' || ENGINE_DEAD.test(text)) throw refused('ENGINE_DYING', `the engine is failing (${text.slice(0, 200)})`);
    const bytes = new TextEncoder().encode(text);
    return { status: 500, headers, body: (async function* () { yield bytes; })() };
  }

  async *#bodyOf(res: IncomingMessage, release: () => void): AsyncGenerator<Uint8Array> {
    let handedOver = false;
    const entry: Running = {
      handOver: () => {
        handedOver = true;
        res.destroy(new Error('handed over'));
      },
    };
    this.#running.add(entry);
    let complete = false;
    try {
      for await (const chunk of res as AsyncIterable<Uint8Array>) {
        yield chunk;
      }
      complete = !handedOver;
    } catch (err) {
      if (handedOver) throw new UpstreamError(UpstreamCode.HANDOVER, 'this node is leaving; continue the stream elsewhere', { retryable: true, phase: 'after-head', cause: err });
      throw new UpstreamError('ENGINE_STREAM_BROKEN', `the engine's response broke: ${(err as Error).message}`, { retryable: true, phase: 'after-head', cause: err });
    } finally {
      this.#running.delete(entry);
      release();
      // Ends the engine request if the consumer stopped early (the client went away).
      if (!complete) res.destroy();
    }
    if (handedOver) throw new UpstreamError(UpstreamCode.HANDOVER, 'this node is leaving; continue the stream elsewhere', { retryable: true, phase: 'after-head' });
  }
}

function refused(code: string, message: string, cause?: unknown): UpstreamError {
  return new UpstreamError(code, message, { retryable: true, phase: 'before-head', cause });
}

/**
 * Sends the request on a kept-alive connection. A server may close an idle connection just as
 * it is reused (llama-server closes after every streamed answer without saying so): a reused
 * socket that fails before any response byte never reached the engine's handler, so the request
 * is sent again, once, on a new connection. A fresh connection that fails is an error.
 */
async function send(agent: HttpAgent, origin: Origin, head: RequestHead, body: Uint8Array, signal: AbortSignal): Promise<IncomingMessage> {
  try {
    return await sendOnce(agent, origin, head, body, signal, false);
  } catch (err) {
    if (!(err instanceof StaleSocketError) || signal.aborted) throw err instanceof StaleSocketError ? err.cause : err;
    return sendOnce(agent, origin, head, body, signal, true);
  }
}

class StaleSocketError extends Error {}

/** The engine's base URL as node:http options. */
interface Origin {
  baseUrl: string;
  host: string;
  port: number;
  prefix: string;
}

function originOf(baseUrl: string): Origin {
  const url = new URL(baseUrl);
  return { baseUrl, host: url.hostname.replace(/^\[|\]$/g, ''), port: Number(url.port || 80), prefix: url.pathname.replace(/\/$/, '') };
}

function sendOnce(agent: HttpAgent, { host, port, prefix }: Origin, head: RequestHead, body: Uint8Array, signal: AbortSignal, fresh: boolean): Promise<IncomingMessage> {
  return new Promise<IncomingMessage>((resolve, reject) => {
    const headers: Record<string, string> = { ...head.headers, 'content-length': String(body.byteLength) };
    // Ours, between agents: the engine has no use for it.
    if (headers[SEQUENCES_HEADER] !== undefined) delete headers[SEQUENCES_HEADER];
    const req = httpRequest({ host, port, path: prefix + head.path, method: head.method, headers, signal, agent: fresh ? false : agent });
    req.once('response', resolve);
    req.once('error', (err: NodeJS.ErrnoException) => {
      const stale = req.reusedSocket && (err.code === 'ECONNRESET' || err.code === 'EPIPE');
      reject(stale ? new StaleSocketError('kept-alive socket closed by the engine', { cause: err }) : err);
    });
    req.end(body.byteLength > 0 ? body : undefined);
  });
}

/**
 * The sequences a request runs, as the entry agent counted them from its body (`n` × prompts)
 * and sent in SEQUENCES_HEADER, so the serving node need not parse the body again; 1 if absent.
 */
function sequencesOfHead(head: RequestHead): number {
  const raw = head.headers[SEQUENCES_HEADER];
  if (raw === undefined) return 1;
  const n = Number(raw);
  return Number.isInteger(n) && n > 0 ? Math.min(n, MAX_SEQUENCES_PER_REQUEST) : 1;
}
