import { badRequest, HttpError } from './errors.js';
import type { FakeVllmConfig } from './options.js';
import {
  type ChatMessage,
  type ChatRequest,
  type CompletionRequest,
  chatRequestSchema,
  completionRequestSchema,
} from './request-schemas.js';
import { countTokens, hashText } from './text.js';
import { describeZodError } from './zod-message.js';

export type EndpointKind = 'chat' | 'text';
export type FinishReason = 'stop' | 'length';

/** Everything a completion endpoint needs to answer one valid request. */
export interface CompletionJob {
  kind: EndpointKind;
  model: string;
  stream: boolean;
  includeUsage: boolean;
  promptTokens: number;
  outputTokens: number;
  finishReason: FinishReason;
  textSeed: number;
}

type PlanConfig = Pick<FakeVllmConfig, 'models' | 'maxModelLen' | 'maxTokensDefault' | 'answerTokens' | 'seed'>;

/**
 * Validates a parsed JSON body the way vLLM does (400 for a bad body, 404 for an unknown
 * model, 400 past the context window) and decides the answer: its length and why it ends.
 */
export function planJob(kind: EndpointKind, body: unknown, config: PlanConfig): CompletionJob {
  const parsed = (kind === 'chat' ? chatRequestSchema : completionRequestSchema).safeParse(body);
  if (!parsed.success) throw badRequest(describeZodError(parsed.error, 'body'));
  const req = parsed.data as ChatRequest | CompletionRequest;
  const chat = kind === 'chat' ? (req as ChatRequest) : null;
  if (!config.models.includes(req.model)) {
    throw new HttpError(404, 'NotFoundError', `The model \`${req.model}\` does not exist.`);
  }
  if (req.n != null && req.n !== 1) throw badRequest('n: the fake engine answers one choice per request (n=1).');
  if (req.stream_options != null && req.stream !== true) {
    throw badRequest('Stream options can only be defined when `stream=True`.');
  }
  const prompt = chat !== null ? renderChat(chat.messages) : renderPrompt(req as CompletionRequest);
  const requested = chat?.max_completion_tokens ?? req.max_tokens ?? null;
  const maxTokens = resolveMaxTokens(prompt.tokens, requested, kind, config);
  // The answer ends naturally (EOS) after answerTokens, unless ignore_eos asks for the limit.
  const natural = req.ignore_eos === true ? Number.POSITIVE_INFINITY : Math.max(config.answerTokens, req.min_tokens ?? 0);
  return {
    kind,
    model: req.model,
    stream: req.stream === true,
    includeUsage: req.stream_options?.include_usage === true,
    promptTokens: prompt.tokens,
    outputTokens: Math.min(natural, maxTokens),
    finishReason: natural >= maxTokens ? 'length' : 'stop',
    textSeed: hashText(prompt.text, config.seed),
  };
}

function resolveMaxTokens(promptTokens: number, requested: number | null, kind: EndpointKind, config: PlanConfig): number {
  const where = kind === 'chat' ? 'messages' : 'prompt';
  if (requested !== null && requested < 1) throw badRequest(`max_tokens must be at least 1, got ${requested}.`);
  const wanted = requested ?? 0;
  if (promptTokens + wanted > config.maxModelLen || promptTokens >= config.maxModelLen) {
    throw badRequest(
      `This model's maximum context length is ${config.maxModelLen} tokens. However, you requested ` +
        `${promptTokens + wanted} tokens (${promptTokens} in the ${where}, ${wanted} in the completion). ` +
        `Please reduce the length of the ${where} or completion.`,
    );
  }
  return requested ?? Math.min(config.maxTokensDefault, config.maxModelLen - promptTokens);
}

/** A stand-in for a chat template: role markers around each message, then the assistant's turn. */
function renderChat(messages: ChatMessage[]): { text: string; tokens: number } {
  let text = '';
  for (const m of messages) text += `<|${m.role}|>\n${messageText(m.content)}\n`;
  text += '<|assistant|>\n';
  return { text, tokens: countTokens(text) };
}

function messageText(content: ChatMessage['content']): string {
  if (typeof content === 'string') return content;
  if (Array.isArray(content)) return content.map((part) => part.text ?? '').join('');
  return '';
}

function renderPrompt(req: CompletionRequest): { text: string; tokens: number } {
  const { prompt } = req;
  if (typeof prompt === 'string') return { text: prompt, tokens: Math.max(1, countTokens(prompt)) };
  if (prompt.length === 0) throw badRequest('body.prompt: the prompt is empty.');
  if (typeof prompt[0] === 'number') return { text: prompt.join(','), tokens: prompt.length };
  if (prompt.length > 1) throw badRequest('prompt: the fake engine answers one prompt per request.');
  const text = String(prompt[0]);
  return { text, tokens: Math.max(1, countTokens(text)) };
}
