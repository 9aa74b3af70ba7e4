import { asRecord, type CompletionRequest, type Progress, tokenLimit } from './completion.js';

/** What one upstream SSE event did to the client's stream. */
export type EventOutcome =
  | { kind: 'continue' }
  /** The upstream answer ended with every choice finished: the client's stream is complete. */
  | { kind: 'done' }
  /** The upstream ended or failed without finishing: continue elsewhere or fail the client. */
  | { kind: 'break'; reason: BreakReason; detail: string };

export type BreakReason = 'engine-error' | 'truncated' | 'bad-event';

interface ChoiceState {
  finished: boolean;
  toolCall: boolean;
}

/**
 * The client's view of one streamed completion across every attempt that serves it. It reads
 * each upstream SSE event and writes what the client should see: one id, created and model
 * throughout, no second role delta, usage only as the client asked (summed over attempts), one
 * `[DONE]` — and it tells a finished answer from one that merely stopped.
 */
export class StreamSession {
  readonly #request: CompletionRequest;
  readonly #out: string[] = [];
  readonly #choices = new Map<number, ChoiceState>();
  #identity: { id: unknown; created: unknown; model: unknown } | null = null;
  #attempt = 0;
  #text = '';
  #tokenIds: number[] | null = [];
  /** Tokens of earlier attempts, and of this one (from usage when the engine reports it). */
  #carried = 0;
  #attemptTokens = 0;
  #attemptUsageSeen = false;
  #promptTokens: number | null = null;
  #finalUsage: Record<string, unknown> | null = null;
  #objectName = 'chat.completion.chunk';
  /** True once anything the client must not see twice (a token, a finish) was produced. */
  #committed = false;

  constructor(request: CompletionRequest) {
    this.#request = request;
  }

  get committed(): boolean {
    return this.#committed;
  }

  get attempt(): number {
    return this.#attempt;
  }

  /** What the client has, for a continuation. */
  progress(): Progress {
    return { text: this.#text, tokenIds: this.#tokenIds, tokens: this.#carried + this.#attemptTokens };
  }

  /** Why this stream cannot be continued now; null when it can. */
  notContinuable(): string | null {
    if (this.#request.notMigratable !== null) return this.#request.notMigratable;
    for (const c of this.#choices.values()) if (c.toolCall) return 'a tool call was being streamed';
    return null;
  }

  /** Tokens left before the client's limit; null without a limit. */
  remainingTokens(): number | null {
    const limit = tokenLimit(this.#request);
    return limit === null ? null : limit - this.progress().tokens;
  }

  /** A new attempt starts (a continuation): its tokens add to what was carried. */
  beginAttempt(): void {
    if (this.#committed) this.#attempt++;
    this.#carried += this.#attemptTokens;
    this.#attemptTokens = 0;
    this.#attemptUsageSeen = false;
    this.#finalUsage = null;
  }

  hasOutput(): boolean {
    return this.#out.length > 0;
  }

  /** Events written for the client so far, taken or not. */
  get emitted(): number {
    return this.#emitted;
  }

  #emitted = 0;

  /** Bytes for the client produced since the last call. */
  takeOutput(): string {
    const text = this.#out.join('');
    this.#out.length = 0;
    return text;
  }

  onEvent(data: string): EventOutcome {
    if (data === '[DONE]') return this.#onDone();
    let chunk: Record<string, unknown>;
    try {
      chunk = JSON.parse(data) as Record<string, unknown>;
    } catch {
      return { kind: 'break', reason: 'bad-event', detail: 'the engine sent an event that is not JSON' };
    }
    if (chunk['error'] !== undefined) return { kind: 'break', reason: 'engine-error', detail: errorMessage(chunk['error']) };
    this.#readUsage(chunk);
    const choices = Array.isArray(chunk['choices']) ? (chunk['choices'] as unknown[]) : [];
    if (choices.length === 0 && chunk['usage'] !== undefined && chunk['usage'] !== null) {
      // The end-of-stream usage chunk: held until the answer is known to be complete.
      this.#finalUsage = chunk;
      return { kind: 'continue' };
    }
    const kept = choices.map((c) => this.#readChoice(asRecord(c) ?? {})).filter((c): c is Record<string, unknown> => c !== null);
    if (this.#identity === null) this.#identity = { id: chunk['id'], created: chunk['created'], model: chunk['model'] };
    if (typeof chunk['object'] === 'string') this.#objectName = chunk['object'];
    if (kept.length === 0) return { kind: 'continue' };
    this.#emit(this.#clientChunk(chunk, kept));
    return { kind: 'continue' };
  }

  /** The engine's stream ended (no `[DONE]` yet): a clean end only after every choice finished. */
  onUpstreamEnd(): Extract<EventOutcome, { kind: 'break' }> {
    return { kind: 'break', reason: 'truncated', detail: 'the upstream stream ended before the answer finished' };
  }

  /**
   * The client's limit was reached exactly when the upstream broke: end the answer here, as
   * the engine would have, with finish_reason `length`.
   */
  finishAtLimit(): void {
    this.#emit(this.#clientChunk({}, [{ index: 0, ...(this.#request.kind === 'chat' ? { delta: {} } : { text: '' }), logprobs: null, finish_reason: 'length' }]));
    this.#choices.set(0, { finished: true, toolCall: false });
    this.#onDone();
  }

  #onDone(): EventOutcome {
    const all = [...this.#choices.values()];
    if (all.length === 0 || all.some((c) => !c.finished)) return { kind: 'break', reason: 'truncated', detail: 'the upstream sent [DONE] before the answer finished' };
    if (this.#request.clientUsage.include) this.#emit(this.#usageChunk());
    this.#out.push('data: [DONE]\n\n');
    return { kind: 'done' };
  }

  #readUsage(chunk: Record<string, unknown>): void {
    const usage = asRecord(chunk['usage']);
    if (usage === undefined) return;
    if (this.#attempt === 0 && typeof usage['prompt_tokens'] === 'number') this.#promptTokens ??= usage['prompt_tokens'];
    if (typeof usage['completion_tokens'] === 'number') {
      this.#attemptTokens = usage['completion_tokens'];
      this.#attemptUsageSeen = true;
    }
  }

  /** Tracks one choice and returns it as the client should see it (null: nothing to show). */
  #readChoice(choice: Record<string, unknown>): Record<string, unknown> | null {
    const index = typeof choice['index'] === 'number' ? choice['index'] : 0;
    const state = this.#choices.get(index) ?? { finished: false, toolCall: false };
    this.#choices.set(index, state);
    const delta = asRecord(choice['delta']);
    const text = this.#request.kind === 'chat' ? delta?.['content'] : choice['text'];
    if (delta?.['tool_calls'] !== undefined && delta['tool_calls'] !== null) state.toolCall = true;
    if (choice['finish_reason'] !== null && choice['finish_reason'] !== undefined) state.finished = true;
    const ids = choice['token_ids'];
    if (index === 0) {
      if (typeof text === 'string') this.#text += text;
      if (Array.isArray(ids) && this.#tokenIds !== null) this.#tokenIds.push(...(ids as number[]));
      else if (typeof text === 'string' && text !== '') this.#tokenIds = null;
      if (!this.#attemptUsageSeen && typeof text === 'string' && text !== '') this.#attemptTokens += Array.isArray(ids) ? ids.length : 1;
    }
    const hasToken = (typeof text === 'string' && text !== '') || state.toolCall || state.finished;
    if (hasToken) this.#committed = true;
    if (this.#attempt === 0) return choice;
    // A continuation: its role delta and prompt ids were the client's long ago.
    const out = { ...choice };
    delete out['prompt_token_ids'];
    if (delta !== undefined && delta['role'] !== undefined) {
      const rest = { ...delta };
      delete rest['role'];
      out['delta'] = rest;
      if (!hasToken && Object.keys(rest).every((k) => k === 'content' && rest[k] === '')) return null;
    }
    return out;
  }

  #clientChunk(chunk: Record<string, unknown>, choices: Record<string, unknown>[]): Record<string, unknown> {
    const out: Record<string, unknown> = { ...chunk, ...this.#identity, object: this.#objectName, choices };
    if (this.#request.clientUsage.continuous) out['usage'] = this.#usage();
    else delete out['usage'];
    if (this.#attempt > 0) delete out['prompt_token_ids'];
    return out;
  }

  #usageChunk(): Record<string, unknown> {
    const base = this.#finalUsage ?? {};
    return { ...base, ...this.#identity, object: this.#objectName, choices: [], usage: this.#usage() };
  }

  #usage(): Record<string, unknown> {
    const completion = this.#carried + this.#attemptTokens;
    const reported = asRecord(this.#finalUsage?.['usage']);
    // Without per-chunk usage from the first attempt, the continuation's prompt includes the carried text.
    const prompt = this.#promptTokens ?? (typeof reported?.['prompt_tokens'] === 'number' ? Math.max(0, reported['prompt_tokens'] - this.#carried) : 0);
    return { prompt_tokens: prompt, completion_tokens: completion, total_tokens: prompt + completion };
  }

  #emit(chunk: Record<string, unknown>): void {
    this.#emitted++;
    this.#out.push(`data: ${JSON.stringify(chunk)}\n\n`);
  }
}

function errorMessage(error: unknown): string {
  const message = asRecord(error)?.['message'];
  return typeof message === 'string' ? message : JSON.stringify(error).slice(0, 500);
}
