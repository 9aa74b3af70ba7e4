import { setTimeout as sleep } from 'node:timers/promises';
import { type Rng, seededRng } from '@synkti/interface';
import { engineDeadError } from './errors.js';
import { Gate } from './gate.js';
import { Generation, type GenerationPlan } from './generation.js';
import { type Gauges, Metrics } from './metrics.js';
import type { FinishReason } from './plan.js';
import { PrefixCache } from './prefix-cache.js';
import { Scheduler } from './scheduler.js';

export { Generation, type GenerationPlan } from './generation.js';

export interface EngineConfig {
  ttftMs: number;
  tokensPerS: number;
  maxNumSeqs: number;
  /** null: unbounded, like vLLM. */
  maxWaitingRequests: number | null;
  seed: number;
}

/** One decode step's output; the last carries the finish reason. `id` is null for a bare EOS. */
export interface Step {
  text: string;
  id: number | null;
  finishReason: FinishReason | null;
}

/** How requests ended, for `stats()`; counted once per generation. */
export interface Outcomes {
  served: number;
  cancelled: number;
  dropped: number;
  failed: number;
}

/**
 * The model executor of one engine "process": admits requests through the scheduler, paces
 * tokens by TTFT and decode speed, and counts how each request ended. Everything in flight
 * aborts when the engine shuts down (stop or crash), as when a process dies.
 */
export class Engine {
  readonly metrics = new Metrics();
  readonly outcomes: Outcomes = { served: 0, cancelled: 0, dropped: 0, failed: 0 };
  readonly #config: EngineConfig;
  readonly #scheduler: Scheduler;
  readonly #shutdown = new AbortController();
  readonly #death = new AbortController();
  readonly #onDeath: () => void;
  readonly #errorRng: Rng;
  /** Closed while hung or stalled: every generation waits here before its next step. */
  readonly #gate = new Gate();
  readonly #prefixCache = new PrefixCache();
  /** Die once generationTokens reaches this (the dieAfterTokens fault); null: never. */
  #dieAtTokens: number | null = null;

  constructor(config: EngineConfig, hooks: { onDeath?: () => void } = {}) {
    this.#config = config;
    this.#scheduler = new Scheduler(config.maxNumSeqs, config.maxWaitingRequests ?? Number.POSITIVE_INFINITY);
    this.#errorRng = seededRng(config.seed);
    this.#onDeath = hooks.onDeath ?? (() => {});
  }

  get seed(): number {
    return this.#config.seed;
  }

  /** Like vLLM after EngineDeadError: nothing generates any more; the server exits soon. */
  get dead(): boolean {
    return this.#death.signal.aborted;
  }

  /** Every generation in flight fails with vLLM's engine-dead error; later ones are refused. */
  die(): void {
    if (this.dead) return;
    this.#dieAtTokens = null;
    this.#death.abort(engineDeadError());
    this.#onDeath();
  }

  /** Die right after `count` more tokens have been generated (engine-wide); null cancels. */
  dieAfterTokens(count: number | null): void {
    this.#dieAtTokens = count === null ? null : this.metrics.generationTokens + count;
    if (count === 0) this.die();
  }

  gauges(): Gauges {
    const running = this.#scheduler.running;
    return { running, waiting: this.#scheduler.waiting, kvCacheUsage: Math.min(1, running / this.#config.maxNumSeqs) };
  }

  /** Whether `count` more sequences can be admitted or queued (only a configured queue cap says no). */
  hasRoom(count: number): boolean {
    return this.#scheduler.hasRoom(count);
  }

  /** One draw of the seeded RNG per request, so which requests fail depends only on the seed. */
  shouldFail(errorRate: number): boolean {
    const fail = this.#errorRng() < errorRate;
    if (fail) this.outcomes.failed++;
    return fail;
  }

  /** While hung, generation stalls before each step; healing lets it continue. */
  setHung(hung: boolean): void {
    this.#gate.set('hang', hung);
  }

  /**
   * A deadlocked engine: no step of any generation runs (prefill or decode), and the scheduler
   * admits nothing, so newcomers wait; healing resumes all of it where it stopped.
   */
  setStalled(stalled: boolean): void {
    this.#gate.set('stall', stalled);
    this.#scheduler.setHeld(stalled);
  }

  /** Aborts when the engine shuts down (stop or crash): whatever waits on the engine gives up. */
  get stopped(): AbortSignal {
    return this.#shutdown.signal;
  }

  shutdown(reason: Error): void {
    this.#shutdown.abort(reason);
  }

  generate(plan: GenerationPlan, signal: AbortSignal): Generation {
    return new Generation(this, plan, AbortSignal.any([signal, this.#shutdown.signal, this.#death.signal]));
  }

  /** The token just yielded still reaches its client; every later step fails. */
  countToken(): void {
    this.metrics.generationTokens++;
    if (this.#dieAtTokens !== null && this.metrics.generationTokens >= this.#dieAtTokens) this.die();
  }

  /** @internal the steps a Generation takes; kept here because they touch engine state. */
  async admit(signal: AbortSignal): Promise<void> {
    await this.#scheduler.acquire(signal);
  }

  release(): void {
    this.#scheduler.release();
  }

  async prefill(plan: GenerationPlan, signal: AbortSignal): Promise<void> {
    await this.#gate.wait(signal);
    await pause(this.#config.ttftMs, signal);
    await this.#gate.wait(signal);
    const ids = plan.promptTokenIds;
    this.metrics.promptTokens += ids.length;
    if (ids.length === 0) return;
    this.metrics.prefixCacheQueries += ids.length;
    this.metrics.prefixCacheHits += this.#prefixCache.lookup(ids);
  }

  async decodeStep(signal: AbortSignal): Promise<void> {
    const { tokensPerS } = this.#config;
    if (tokensPerS > 0) await pause(1_000 / tokensPerS, signal);
    await this.#gate.wait(signal);
  }
}

/** Waits `ms` unless aborted; 0 still yields to the event loop so aborts are seen. */
function pause(ms: number, signal: AbortSignal): Promise<void> {
  return sleep(ms, undefined, { signal });
}
