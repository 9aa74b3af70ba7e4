import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { type Rng, seededRng } from '@synkti/interface';
import { HttpError } from './errors.js';
import { type Gauges, Metrics } from './metrics.js';
import { Scheduler } from './scheduler.js';
import { tokenText } from './text.js';

export interface EngineConfig {
  ttftMs: number;
  tokensPerS: number;
  maxNumSeqs: number;
  maxWaitingRequests: number;
  seed: number;
}

/** What one request asks the engine to produce. */
export interface GenerationPlan {
  promptTokens: number;
  outputTokens: number;
  textSeed: number;
  /** performance.now() at arrival, so time to first token includes queueing, as in vLLM. */
  arrivedAtMs: number;
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
  readonly #errorRng: Rng;
  readonly #hangWaiters = new Set<() => void>();
  #hung = false;

  constructor(config: EngineConfig) {
    this.#config = config;
    this.#scheduler = new Scheduler(config.maxNumSeqs, config.maxWaitingRequests);
    this.#errorRng = seededRng(config.seed);
  }

  gauges(): Gauges {
    const running = this.#scheduler.running;
    return { running, waiting: this.#scheduler.waiting, kvCacheUsage: Math.min(1, running / this.#config.maxNumSeqs) };
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
    return new Generation(this, plan, AbortSignal.any([signal, this.#shutdown.signal]));
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
 * One request's run through the engine. `tokens()` yields each output token's text when the
 * engine "produces" it; however iteration ends, the slot is released and the outcome counted.
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

  async *tokens(): AsyncGenerator<string, void, undefined> {
    const engine = this.#engine;
    const plan = this.#plan;
    let admitted = false;
    let outcome: keyof Outcomes | null = null;
    try {
      await engine.admit(this.signal);
      admitted = true;
      await engine.prefill(plan, this.signal);
      for (let i = 0; i < plan.outputTokens; i++) {
        await engine.decodeStep(this.signal);
        engine.metrics.generationTokens++;
        if (i === 0) engine.metrics.observeTtft((performance.now() - plan.arrivedAtMs) / 1_000);
        yield tokenText(plan.textSeed, i);
      }
      outcome = 'served';
    } catch (err) {
      if (err instanceof HttpError) outcome = 'failed';
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
