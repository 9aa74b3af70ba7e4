import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { type Rng, seededRng } from '@synkti/interface';
import { engineDeadError, HttpError } from './errors.js';
import { type Gauges, Metrics } from './metrics.js';
import type { FinishReason } from './plan.js';
import { Scheduler } from './scheduler.js';
import { tokensAfter } from './text.js';

export interface EngineConfig {
  ttftMs: number;
  tokensPerS: number;
  maxNumSeqs: number;
  /** null: unbounded, like vLLM. */
  maxWaitingRequests: number | null;
  seed: number;
}

/** What one sequence (one choice of one prompt) asks the engine to produce. */
export interface GenerationPlan {
  /** The text the model continues; the tokens are a function of it and the seed. */
  context: string;
  /** Counted into vllm:prompt_tokens_total at prefill (0 for a prompt's extra choices). */
  promptTokens: number;
  /** 0: the answer ends at once (EOS), as when a continued answer was already complete. */
  outputTokens: number;
  finishReason: FinishReason;
  /** performance.now() at arrival, so time to first token includes queueing, as in vLLM. */
  arrivedAtMs: number;
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
  readonly #hangWaiters = new Set<() => void>();
  #hung = false;
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

  /** While hung, generation stalls before each token; healing lets it continue. */
  setHung(hung: boolean): void {
    this.#hung = hung;
    if (hung) return;
    for (const wake of this.#hangWaiters) wake();
    this.#hangWaiters.clear();
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
    await pause(this.#config.ttftMs, signal);
    this.metrics.promptTokens += plan.promptTokens;
  }

  async decodeStep(signal: AbortSignal): Promise<void> {
    const { tokensPerS } = this.#config;
    if (tokensPerS > 0) await pause(1_000 / tokensPerS, signal);
    await this.#whileHung(signal);
  }

  #whileHung(signal: AbortSignal): Promise<void> {
    signal.throwIfAborted();
    if (!this.#hung) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const onAbort = (): void => {
        this.#hangWaiters.delete(wake);
        reject(signal.reason);
      };
      const wake = (): void => {
        signal.removeEventListener('abort', onAbort);
        resolve();
      };
      this.#hangWaiters.add(wake);
      signal.addEventListener('abort', onAbort, { once: true });
    });
  }
}

/**
 * One sequence's run through the engine. `tokens()` yields each step when the engine
 * "produces" it; however iteration ends, the slot is released and the outcome counted.
 */
export class Generation {
  readonly #engine: Engine;
  readonly #plan: GenerationPlan;
  readonly signal: AbortSignal;
  #dropRequested = false;

  constructor(engine: Engine, plan: GenerationPlan, signal: AbortSignal) {
    this.#engine = engine;
    this.#plan = plan;
    this.signal = signal;
  }

  /** The stream is being cut on purpose (a fault): count it as dropped, not cancelled. */
  markDropped(): void {
    this.#dropRequested = true;
  }

  /** The engine's death, if that is what ended this generation. */
  get deathError(): HttpError | null {
    const reason: unknown = this.signal.reason;
    return this.signal.aborted && this.#engine.dead && reason instanceof HttpError ? reason : null;
  }

  async *tokens(): AsyncGenerator<Step, void, undefined> {
    const engine = this.#engine;
    const plan = this.#plan;
    let admitted = false;
    let outcome: keyof Outcomes | null = null;
    try {
      await engine.admit(this.signal);
      admitted = true;
      await engine.prefill(plan, this.signal);
      const words = tokensAfter(plan.context, engine.seed);
      // An answer of no tokens still takes one step: the EOS that ends it.
      const steps = Math.max(1, plan.outputTokens);
      for (let i = 0; i < steps; i++) {
        await engine.decodeStep(this.signal);
        if (i === 0) engine.metrics.observeTtft((performance.now() - plan.arrivedAtMs) / 1_000);
        const finishReason = i === steps - 1 ? plan.finishReason : null;
        if (plan.outputTokens === 0) {
          yield { text: '', id: null, finishReason };
          continue;
        }
        const token = words.next().value;
        engine.countToken();
        yield { ...token, finishReason };
      }
      outcome = 'served';
    } catch (err) {
      // Aborts surface as AbortErrors that wrap the reason: look at the signal too.
      if (err instanceof HttpError || this.deathError !== null) outcome = 'failed';
      throw err;
    } finally {
      if (admitted) engine.release();
      engine.outcomes[outcome ?? (this.#dropRequested ? 'dropped' : 'cancelled')]++;
    }
  }
}

/** Waits `ms` unless aborted; 0 still yields to the event loop so aborts are seen. */
function pause(ms: number, signal: AbortSignal): Promise<void> {
  return sleep(ms, undefined, { signal });
}
