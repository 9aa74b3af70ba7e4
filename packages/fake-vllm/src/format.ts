import { randomBytes } from 'node:crypto';
import type { CompletionJob, FinishReason } from './plan.js';

/**
 * The JSON vLLM's OpenAI server answers, field for field: whole responses and stream chunks
 * for chat (`chat.completion[.chunk]`) and legacy completions (`text_completion`).
 */

export interface Usage {
  prompt_tokens: number;
  total_tokens: number;
  completion_tokens: number;
  prompt_tokens_details: null;
}

export function usage(promptTokens: number, completionTokens: number): Usage {
  return {
    prompt_tokens: promptTokens,
    total_tokens: promptTokens + completionTokens,
    completion_tokens: completionTokens,
    prompt_tokens_details: null,
  };
}

/** One finished choice of a non-streamed response. */
export interface ChoiceResult {
  index: number;
  text: string;
  tokenIds: number[];
  finishReason: FinishReason;
}

/**
 * Builds every body of one response; id and created are fixed at construction. With
 * return_token_ids, vLLM puts `token_ids` on each choice and `prompt_token_ids` at the top of
 * a chat response (on each first role chunk when streamed) but on each choice of a legacy
 * completion (on the first chunk of each choice when streamed); so does this.
 */
export class ResponseFormat {
  readonly #job: CompletionJob;
  readonly id: string;
  readonly created: number;
  /** Prompt tokens of the whole request: each prompt counts once, however many choices it has. */
  readonly promptTokens: number;

  constructor(job: CompletionJob, nowMs: number) {
    this.#job = job;
    this.id = `${job.kind === 'chat' ? 'chatcmpl' : 'cmpl'}-${randomBytes(16).toString('hex')}`;
    this.created = Math.floor(nowMs / 1_000);
    this.promptTokens = job.prompts.reduce((sum, p) => sum + p.promptTokenIds.length, 0);
  }

  #head(object: string): { id: string; object: string; created: number; model: string } {
    return { id: this.id, object, created: this.created, model: this.#job.model };
  }

  /** The prompt ids of choice `index`, when asked for. */
  #promptIds(index: number): { prompt_token_ids?: number[] } {
    if (!this.#job.returnTokenIds) return {};
    return { prompt_token_ids: this.#job.prompts[Math.floor(index / this.#job.n)]?.promptTokenIds ?? [] };
  }

  #tokenIds(ids: number[]): { token_ids?: number[] } {
    return this.#job.returnTokenIds ? { token_ids: ids } : {};
  }

  /** The non-streamed response; `choices` in index order. */
  whole(choices: ChoiceResult[]): object {
    const completionTokens = choices.reduce((sum, c) => sum + c.tokenIds.length, 0);
    const u = usage(this.promptTokens, completionTokens);
    if (this.#job.kind === 'chat') {
      return {
        ...this.#head('chat.completion'),
        choices: choices.map((c) => ({
          index: c.index,
          message: { role: 'assistant', content: c.text, refusal: null, tool_calls: [], reasoning_content: null },
          logprobs: null,
          finish_reason: c.finishReason,
          stop_reason: null,
          ...this.#tokenIds(c.tokenIds),
        })),
        usage: u,
        prompt_logprobs: null,
        ...this.#promptIds(0),
      };
    }
    return {
      ...this.#head('text_completion'),
      choices: choices.map((c) => ({
        index: c.index,
        text: c.text,
        logprobs: null,
        finish_reason: c.finishReason,
        stop_reason: null,
        prompt_logprobs: null,
        ...this.#promptIds(c.index),
        ...this.#tokenIds(c.tokenIds),
      })),
      usage: u,
    };
  }

  /** Chat streams open each choice with the assistant role and empty content; completions have no such chunk. */
  roleChunk(index: number): object | null {
    if (this.#job.kind !== 'chat') return null;
    return {
      ...this.#head('chat.completion.chunk'),
      choices: [{ index, delta: { role: 'assistant', content: '' }, logprobs: null, finish_reason: null }],
      ...this.#promptIds(index),
    };
  }

  /** One step of choice `index`; vLLM puts the finish reason on the chunk of the last token. */
  tokenChunk(index: number, text: string, tokenIds: number[], finishReason: FinishReason | null, firstOfChoice: boolean): object {
    const end = finishReason === null ? { finish_reason: null } : { finish_reason: finishReason, stop_reason: null };
    if (this.#job.kind === 'chat') {
      const choice = { index, delta: { content: text }, logprobs: null, ...end, ...this.#tokenIds(tokenIds) };
      return { ...this.#head('chat.completion.chunk'), choices: [choice] };
    }
    const prompt = firstOfChoice ? this.#promptIds(index) : {};
    return { ...this.#head('text_completion'), choices: [{ index, text, logprobs: null, ...end, ...prompt, ...this.#tokenIds(tokenIds) }] };
  }

  /** With stream_options.include_usage: a last chunk with no choices and the usage of all choices. */
  usageChunk(completionTokens: number): object {
    const object = this.#job.kind === 'chat' ? 'chat.completion.chunk' : 'text_completion';
    return { ...this.#head(object), choices: [], usage: usage(this.promptTokens, completionTokens) };
  }
}

export const sseData = (payload: object | string): string =>
  `data: ${typeof payload === 'string' ? payload : JSON.stringify(payload)}\n\n`;
export const SSE_DONE = sseData('[DONE]');
