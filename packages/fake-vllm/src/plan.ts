import { badRequest, HttpError } from './errors.js';
import type { FakeVllmConfig } from './options.js';
import { type RenderedPrompt, renderChat, renderPrompts } from './prompt.js';
import { type ChatRequest, type CompletionRequest, chatRequestSchema, completionRequestSchema } from './request-schemas.js';
import { describeZodError } from './zod-message.js';

export type EndpointKind = 'chat' | 'text';
export type FinishReason = 'stop' | 'length';

/** One prompt of a request and how its answer ends; each of its n choices answers the same. */
export interface PromptJob {
  context: string;
  promptTokenIds: number[];
  outputTokens: number;
  finishReason: FinishReason;
}

/** Everything a completion endpoint needs to answer one valid request. */
export interface CompletionJob {
  kind: EndpointKind;
  model: string;
  stream: boolean;
  includeUsage: boolean;
  returnTokenIds: boolean;
  /**
   * Choices per prompt; choice `p * n + i` is choice i of prompt p, as in vLLM. The fake
   * decodes greedily whatever the temperature, so every choice of a prompt has the same text
   * (as vLLM at temperature 0); they stream interleaved as separate sequences.
   */
  n: number;
  prompts: PromptJob[];
}

/** One choice of a job, in index order. */
export interface ChoiceJob extends PromptJob {
  index: number;
}

type PlanConfig = Pick<FakeVllmConfig, 'models' | 'maxModelLen' | 'maxTokensDefault' | 'answerTokens'>;

/**
 * Validates a parsed JSON body the way vLLM does (400 for a bad body, 404 for an unknown
 * model, 400 past the context window) and decides each answer: its length and why it ends.
 */
export function planJob(kind: EndpointKind, body: unknown, config: PlanConfig): CompletionJob {
  const parsed = (kind === 'chat' ? chatRequestSchema : completionRequestSchema).safeParse(body);
  if (!parsed.success) throw badRequest(describeZodError(parsed.error, 'body'));
  const req = parsed.data as ChatRequest | CompletionRequest;
  const chat = kind === 'chat' ? (req as ChatRequest) : null;
  if (!config.models.includes(req.model)) {
    throw new HttpError(404, 'NotFoundError', `The model \`${req.model}\` does not exist.`);
  }
  const n = req.n ?? 1;
  if (n < 1) throw badRequest(`n must be at least 1, got ${n}.`);
  if (req.stream_options != null && req.stream !== true) {
    throw badRequest('Stream options can only be defined when `stream=True`.');
  }
  const rendered = chat !== null ? [renderChatRequest(chat)] : renderPrompts((req as CompletionRequest).prompt);
  const requested = chat?.max_completion_tokens ?? req.max_tokens ?? null;
  return {
    kind,
    model: req.model,
    stream: req.stream === true,
    includeUsage: req.stream_options?.include_usage === true,
    returnTokenIds: req.return_token_ids === true,
    n,
    prompts: rendered.map((prompt) => planPrompt(prompt, req, requested, kind, config)),
  };
}

/** Every choice of a job, in the order of their indices. */
export function choicesOf(job: CompletionJob): ChoiceJob[] {
  return job.prompts.flatMap((prompt, p) => Array.from({ length: job.n }, (_, i) => ({ ...prompt, index: p * job.n + i })));
}

function renderChatRequest(chat: ChatRequest): RenderedPrompt {
  const continueFinalMessage = chat.continue_final_message === true;
  // vLLM's default add_generation_prompt is true, so continuing needs an explicit false.
  const addGenerationPrompt = chat.add_generation_prompt ?? true;
  if (continueFinalMessage && addGenerationPrompt) {
    throw badRequest('Cannot set both `continue_final_message` and `add_generation_prompt` to True.');
  }
  return renderChat(chat.messages, { addGenerationPrompt, continueFinalMessage });
}

function planPrompt(
  prompt: RenderedPrompt,
  req: ChatRequest | CompletionRequest,
  requested: number | null,
  kind: EndpointKind,
  config: PlanConfig,
): PromptJob {
  const maxTokens = resolveMaxTokens(prompt.tokenIds.length, requested, kind, config);
  const minTokens = req.min_tokens ?? 0;
  if (minTokens > maxTokens) {
    throw badRequest(`min_tokens must be less than or equal to max_tokens=${maxTokens}, got ${minTokens}.`);
  }
  // The answer ends naturally (EOS) answerTokens into the assistant message — counting the
  // part a continued final message already holds — unless ignore_eos asks for the limit.
  const natural =
    req.ignore_eos === true ? Number.POSITIVE_INFINITY : Math.max(config.answerTokens - prompt.answeredTokens, minTokens, 0);
  return {
    context: prompt.context,
    promptTokenIds: prompt.tokenIds,
    outputTokens: Math.min(natural, maxTokens),
    finishReason: natural >= maxTokens ? 'length' : 'stop',
  };
}

/**
 * vLLM's max_tokens: as requested if the context has room; otherwise what is left of the
 * context for chat, and 16 (maxTokensDefault) capped by that room for legacy completions.
 */
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
  const room = config.maxModelLen - promptTokens;
  if (requested !== null) return requested;
  return kind === 'chat' ? room : Math.min(config.maxTokensDefault, room);
}
