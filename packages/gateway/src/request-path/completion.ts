/**
 * What the request path needs to know of a completion request: whether a broken stream of it
 * may be continued on another peer, and how to build that continuation (Dynamo's request
 * migration, expressed with vLLM's `continue_final_message`).
 */

export type CompletionKind = 'chat' | 'text';

export interface CompletionRequest {
  kind: CompletionKind;
  /** The parsed JSON body, never mutated. */
  body: Record<string, unknown>;
  stream: boolean;
  /** Why a broken stream of this request cannot be continued; null when it can. */
  notMigratable: string | null;
  clientUsage: { include: boolean; continuous: boolean };
}

/** vLLM's guided-decoding fields: a continuation could not honour the grammar state. */
const GUIDED_FIELDS = ['guided_json', 'guided_regex', 'guided_choice', 'guided_grammar', 'guided_decoding_backend', 'structured_outputs'] as const;

export function describeCompletion(kind: CompletionKind, body: Record<string, unknown>): CompletionRequest {
  const options = asRecord(body['stream_options']);
  return {
    kind,
    body,
    stream: body['stream'] === true,
    notMigratable: whyNotMigratable(kind, body),
    clientUsage: { include: options?.['include_usage'] === true, continuous: options?.['continuous_usage_stats'] === true },
  };
}

function whyNotMigratable(kind: CompletionKind, body: Record<string, unknown>): string | null {
  if (body['stream'] !== true) return 'not streamed';
  if (typeof body['n'] === 'number' && body['n'] > 1) return 'n > 1';
  if (typeof body['best_of'] === 'number' && body['best_of'] > 1) return 'best_of > 1';
  const format = asRecord(body['response_format'])?.['type'];
  if (format === 'json_schema' || format === 'json_object' || format === 'structural_tag') return `response_format ${String(format)}`;
  for (const field of GUIDED_FIELDS) if (body[field] !== undefined && body[field] !== null) return `guided decoding (${field})`;
  if (body['logprobs'] !== undefined && body['logprobs'] !== null && body['logprobs'] !== false) return 'logprobs';
  if (body['top_logprobs'] !== undefined && body['top_logprobs'] !== null) return 'logprobs';
  if (body['echo'] === true) return 'echo';
  if (kind === 'text') {
    const prompt = body['prompt'];
    if (Array.isArray(prompt) && prompt.length !== 1 && typeof prompt[0] !== 'number') return 'batched prompts';
  }
  return null;
}

/**
 * The body of the first attempt of a migratable stream: the same request, asking the engine for
 * usage on every chunk so the entry agent knows exactly how many tokens it has sent (the client
 * sees usage only as it asked for it).
 */
export function firstAttemptBody(request: CompletionRequest): Record<string, unknown> {
  if (request.notMigratable !== null) return request.body;
  return { ...request.body, stream_options: { ...asRecord(request.body['stream_options']), include_usage: true, continuous_usage_stats: true } };
}

export interface Progress {
  /** The text of choice 0 the client has received. */
  text: string;
  /** Token ids of choice 0, when the engine reported every one of them. */
  tokenIds: number[] | null;
  /** Completion tokens the client has received. */
  tokens: number;
}

export class NotContinuableError extends Error {}

/**
 * The request that continues a broken stream on another peer: chat gets the text so far as a
 * final assistant message, continued without a new generation prompt; completions get the
 * text (or token ids) appended to the prompt. Token limits shrink by what was already sent.
 */
export function continuationBody(request: CompletionRequest, progress: Progress): Record<string, unknown> {
  const body: Record<string, unknown> = { ...firstAttemptBody(request) };
  if (request.kind === 'chat') {
    const messages = Array.isArray(body['messages']) ? (body['messages'] as unknown[]) : [];
    body['messages'] = [...messages, { role: 'assistant', content: progress.text }];
    body['continue_final_message'] = true;
    body['add_generation_prompt'] = false;
  } else {
    body['prompt'] = continuedPrompt(body['prompt'], progress);
  }
  for (const field of ['max_tokens', 'max_completion_tokens'] as const) {
    const limit = body[field];
    if (typeof limit === 'number') body[field] = Math.max(1, limit - progress.tokens);
  }
  if (typeof body['min_tokens'] === 'number') body['min_tokens'] = Math.max(0, body['min_tokens'] - progress.tokens);
  return body;
}

function continuedPrompt(prompt: unknown, progress: Progress): unknown {
  if (typeof prompt === 'string') return prompt + progress.text;
  if (Array.isArray(prompt) && prompt.length === 1 && typeof prompt[0] === 'string') return [prompt[0] + progress.text];
  if (Array.isArray(prompt) && prompt.every((t) => typeof t === 'number')) {
    if (progress.tokenIds === null) throw new NotContinuableError('a token-id prompt needs the token ids of the output, which the engine did not report');
    return [...(prompt as number[]), ...progress.tokenIds];
  }
  throw new NotContinuableError('the prompt has a shape that cannot be continued');
}

/** The completion-token limit the client set, if any. */
export function tokenLimit(request: CompletionRequest): number | null {
  const limit = request.body['max_completion_tokens'] ?? request.body['max_tokens'];
  return typeof limit === 'number' ? limit : null;
}

export function asRecord(value: unknown): Record<string, unknown> | undefined {
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
}
