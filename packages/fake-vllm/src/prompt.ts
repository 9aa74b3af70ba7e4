import { badRequest } from './errors.js';
import type { ChatMessage, CompletionRequest } from './request-schemas.js';
import { countWords, decodeTokenIds, encodeText } from './text.js';

/** One prompt as the engine sees it. */
export interface RenderedPrompt {
  /** The text the model continues: the fake's tokens depend on it alone (and the seed). */
  context: string;
  tokenIds: number[];
  /** Tokens of the answer already in a final assistant message that is being continued. */
  answeredTokens: number;
}

export interface ChatTemplateOptions {
  addGenerationPrompt: boolean;
  continueFinalMessage: boolean;
}

/**
 * A stand-in for a chat template: `<|role|>\n{content}\n` per message, then `<|assistant|>\n`
 * for the answer. Continuing the final message leaves off its newline and the generation
 * prompt, so `<|assistant|>\n` + a partial answer renders byte for byte like the context the
 * uninterrupted answer had at that point — as vLLM's continue_final_message does.
 */
export function renderChat(messages: ChatMessage[], options: ChatTemplateOptions): RenderedPrompt {
  let context = '';
  messages.forEach((m, i) => {
    const open = options.continueFinalMessage && i === messages.length - 1;
    context += `<|${m.role}|>\n${messageText(m.content)}${open ? '' : '\n'}`;
  });
  if (options.addGenerationPrompt) context += '<|assistant|>\n';
  const last = messages.at(-1);
  const answeredTokens =
    options.continueFinalMessage && last?.role === 'assistant' ? countWords(messageText(last.content)) : 0;
  return { context, tokenIds: encodeText(context), answeredTokens };
}

function messageText(content: ChatMessage['content']): string {
  if (typeof content === 'string') return content;
  if (Array.isArray(content)) return content.map((part) => part.text ?? '').join('');
  return '';
}

/** The prompts of a legacy completion request: one, or a batch (texts or token-id lists). */
export function renderPrompts(prompt: CompletionRequest['prompt']): RenderedPrompt[] {
  if (typeof prompt === 'string') return [fromText(prompt)];
  if (prompt.length === 0) throw badRequest('body.prompt: the prompt is empty.');
  if (isIds(prompt)) return [fromIds(prompt)];
  return (prompt as (string | number[])[]).map((p) => (typeof p === 'string' ? fromText(p) : fromIds(p)));
}

const isIds = (prompt: unknown[]): prompt is number[] => typeof prompt[0] === 'number';

function fromText(text: string): RenderedPrompt {
  const tokenIds = encodeText(text);
  if (tokenIds.length === 0) throw badRequest('The decoder prompt cannot be empty');
  return { context: text, tokenIds, answeredTokens: 0 };
}

/** Token ids are decoded, so prompt ids + generated ids continue exactly like the same text. */
function fromIds(ids: number[]): RenderedPrompt {
  if (ids.length === 0) throw badRequest('The decoder prompt cannot be empty');
  return { context: decodeTokenIds(ids), tokenIds: [...ids], answeredTokens: 0 };
}
