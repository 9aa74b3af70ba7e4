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

/** Builds every body of one response; id and created are fixed at construction. */
export class ResponseFormat {
  readonly #job: CompletionJob;
  readonly id: string;
  readonly created: number;

  constructor(job: CompletionJob, nowMs: number) {
    this.#job = job;
    this.id = `${job.kind === 'chat' ? 'chatcmpl' : 'cmpl'}-${randomBytes(16).toString('hex')}`;
    this.created = Math.floor(nowMs / 1_000);
  }

  #head(object: string): { id: string; object: string; created: number; model: string } {
    return { id: this.id, object, created: this.created, model: this.#job.model };
  }

  /** The non-streamed response. */
  whole(text: string, completionTokens: number, finishReason: FinishReason): object {
    const u = usage(this.#job.promptTokens, completionTokens);
    if (this.#job.kind === 'chat') {
      return {
        ...this.#head('chat.completion'),
        choices: [
          {
            index: 0,
            message: { role: 'assistant', content: text, refusal: null, tool_calls: [], reasoning_content: null },
            logprobs: null,
            finish_reason: finishReason,
            stop_reason: null,
          },
        ],
        usage: u,
        prompt_logprobs: null,
      };
    }
    return {
      ...this.#head('text_completion'),
      choices: [{ index: 0, text, logprobs: null, finish_reason: finishReason, stop_reason: null, prompt_logprobs: null }],
      usage: u,
    };
  }

  /** Chat streams open with the assistant role and empty content; completions have no such chunk. */
  roleChunk(): object | null {
    if (this.#job.kind !== 'chat') return null;
    return {
      ...this.#head('chat.completion.chunk'),
      choices: [{ index: 0, delta: { role: 'assistant', content: '' }, logprobs: null, finish_reason: null }],
    };
  }

  /** One token; vLLM puts the finish reason on the chunk of the last token. */
  tokenChunk(text: string, finishReason: FinishReason | null): object {
    const end = finishReason === null ? { finish_reason: null } : { finish_reason: finishReason, stop_reason: null };
    if (this.#job.kind === 'chat') {
      return { ...this.#head('chat.completion.chunk'), choices: [{ index: 0, delta: { content: text }, logprobs: null, ...end }] };
    }
    return { ...this.#head('text_completion'), choices: [{ index: 0, text, logprobs: null, ...end }] };
  }

  /** With stream_options.include_usage: a last chunk with no choices and the usage. */
  usageChunk(completionTokens: number): object {
    const object = this.#job.kind === 'chat' ? 'chat.completion.chunk' : 'text_completion';
    return { ...this.#head(object), choices: [], usage: usage(this.#job.promptTokens, completionTokens) };
  }
}

export const sseData = (payload: object | string): string =>
  `data: ${typeof payload === 'string' ? payload : JSON.stringify(payload)}\n\n`;
export const SSE_DONE = sseData('[DONE]');
