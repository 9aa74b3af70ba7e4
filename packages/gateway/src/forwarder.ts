import { chooseRoute } from '@synkti/fleet';
import type { Logger, Rng } from '@synkti/interface';
import type { ForwardResponse, RequestHead } from '@synkti/protocol';
import { GatewayError } from './errors.js';
import type { FleetSource } from './fleet-source.js';

/** Where requests go: the agent sends to its own engine directly and to peers over the mesh. */
export interface RequestTarget {
  send(peerId: string, head: RequestHead, body: Uint8Array, signal: AbortSignal): Promise<ForwardResponse>;
}

export interface ForwardJob {
  model: string;
  head: RequestHead;
  body: Uint8Array;
  signal: AbortSignal;
  affinityKey?: string | undefined;
}

export interface Served {
  peerId: string;
  attempts: number;
  response: ForwardResponse;
}

export interface ForwarderInit {
  fleet: FleetSource;
  target: RequestTarget;
  rng: Rng;
  logger: Logger;
  affinityLoadFactor: number;
  /** Seconds a client should wait before retrying when no peer can serve. */
  retryAfterS: number;
}

/** Statuses that mean "this peer cannot take it now" and come before any body byte. */
const RETRYABLE_STATUSES = new Set([502, 503, 504]);

/**
 * Picks peers with the pure routing choice and tries them in order: a failure before the first
 * response byte moves on to the next candidate (at most two retries); once a head has been
 * accepted the response is the client's, whatever happens to it.
 */
export class Forwarder {
  readonly #init: ForwarderInit;
  readonly #inFlight = new Map<string, number>();
  readonly #log: Logger;

  constructor(init: ForwarderInit) {
    this.#init = init;
    this.#log = init.logger.child({ component: 'gateway:forward' });
  }

  inFlight(): ReadonlyMap<string, number> {
    return this.#inFlight;
  }

  async forward(job: ForwardJob): Promise<Served> {
    const peers = this.#init.fleet.peers();
    const route = chooseRoute(peers, { model: job.model, inFlight: this.#inFlight, affinityKey: job.affinityKey, affinityLoadFactor: this.#init.affinityLoadFactor }, this.#init.rng);
    if (route.length === 0) throw this.#noPeer(job.model, peers);
    let lastError: unknown;
    for (const [index, candidate] of route.entries()) {
      job.signal.throwIfAborted();
      this.#adjust(candidate.peerId, +1);
      let released = false;
      const release = () => {
        if (!released) this.#adjust(candidate.peerId, -1);
        released = true;
      };
      try {
        const response = await this.#init.target.send(candidate.peerId, job.head, job.body, job.signal);
        if (RETRYABLE_STATUSES.has(response.status) && index < route.length - 1) {
          lastError = new Error(`peer answered ${response.status}`);
          this.#log.info({ requestId: job.head.requestId, peer: candidate.peerId, status: response.status }, 'peer refused; trying the next');
          release();
          void drain(response.body);
          continue;
        }
        return { peerId: candidate.peerId, attempts: index + 1, response: { ...response, body: tracked(response.body, release) } };
      } catch (err) {
        release();
        if (job.signal.aborted) throw err;
        lastError = err;
        const retryable = (err as { retryable?: unknown }).retryable === true || !(err instanceof GatewayError);
        this.#log.warn({ err, requestId: job.head.requestId, peer: candidate.peerId, attempt: index + 1 }, retryable ? 'forward failed before a response; trying the next peer' : 'forward failed');
        if (!retryable) break;
      }
    }
    throw new GatewayError('UPSTREAM_FAILED', 502, 'server_error', `The request failed on ${route.length} peer(s): ${(lastError as Error | undefined)?.message ?? 'unknown error'}`, { cause: lastError });
  }

  #noPeer(model: string, peers: ReturnType<FleetSource['peers']>): GatewayError {
    const known = peers.some((p) => p.status !== 'dead' && p.state.engine.models.includes(model));
    if (!known) return new GatewayError('MODEL_NOT_FOUND', 404, 'not_found_error', `The model \`${model}\` does not exist.`, { param: 'model' });
    return new GatewayError('NO_HEALTHY_PEER', 503, 'service_unavailable', `No healthy peer serves \`${model}\` right now; retry shortly.`, { retryAfterS: this.#init.retryAfterS });
  }

  #adjust(peerId: string, delta: number): void {
    const next = (this.#inFlight.get(peerId) ?? 0) + delta;
    if (next <= 0) this.#inFlight.delete(peerId);
    else this.#inFlight.set(peerId, next);
  }
}

async function* tracked(body: AsyncIterable<Uint8Array>, done: () => void): AsyncGenerator<Uint8Array> {
  try {
    yield* body;
  } finally {
    done();
  }
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
