import { performance } from 'node:perf_hooks';
import type { Engine, Outcomes, Step } from './engine.js';
import { HttpError } from './errors.js';
import type { FinishReason } from './plan.js';
import { tokensAfter } from './text.js';

/** What one sequence (one choice of one prompt) asks the engine to produce. */
export interface GenerationPlan {
  /** The text the model continues; the tokens are a function of it and the seed. */
  context: string;
  /**
   * The prompt's token ids, prefilled into vllm:prompt_tokens_total and looked up in the prefix
   * cache; empty for a prompt's extra choices (a prompt is prefilled once however many it has).
   */
  promptTokenIds: readonly number[];
  /** 0: the answer ends at once (EOS), as when a continued answer was already complete. */
  outputTokens: number;
  finishReason: FinishReason;
  /** performance.now() at arrival, so time to first token includes queueing, as in vLLM. */
  arrivedAtMs: number;
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

