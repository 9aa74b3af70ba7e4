import { z } from 'zod';

/**
 * The request bodies of the two completion endpoints, as far as the fake reads them. Unknown
 * fields (temperature, top_p, stop, ...) pass, as vLLM accepts them; the fields read are
 * checked like vLLM's pydantic models would.
 */

const required = (kind: string) => ({
  error: (issue: { input: unknown }) => (issue.input === undefined ? 'Field required' : `Input should be ${kind}`),
});

const optionalInt = z.number().int().nullable().optional();

const common = {
  model: z.string(required('a valid string')),
  max_tokens: optionalInt,
  n: optionalInt,
  stream: z.boolean().nullable().optional(),
  stream_options: z
    .looseObject({
      include_usage: z.boolean().nullable().optional(),
      continuous_usage_stats: z.boolean().nullable().optional(),
    })
    .nullable()
    .optional(),
  /** vLLM's extra sampling parameters: generate past the natural end / at least this many tokens. */
  ignore_eos: z.boolean().nullable().optional(),
  min_tokens: z.number().int().min(0).nullable().optional(),
  /** vLLM >= 0.10.2: also answer the prompt's and each choice's token ids. */
  return_token_ids: z.boolean().nullable().optional(),
};

const contentPart = z.looseObject({ type: z.string(), text: z.string().optional() });

const message = z.looseObject({
  role: z.string(required('a valid string')),
  content: z.union([z.string(), z.array(contentPart), z.null()]).optional(),
});

export const chatRequestSchema = z.looseObject({
  ...common,
  messages: z.array(message, required('a valid list')).min(1),
  max_completion_tokens: optionalInt,
  /** vLLM's chat template switches; continue_final_message is how a broken answer is resumed. */
  add_generation_prompt: z.boolean().nullable().optional(),
  continue_final_message: z.boolean().nullable().optional(),
});

export const completionRequestSchema = z.looseObject({
  ...common,
  /** One prompt (text or token ids) or a batch of them; each gets its own n choices. */
  prompt: z.union(
    [z.string(), z.array(z.string()), z.array(z.number().int()), z.array(z.array(z.number().int()))],
    required('a string or a list'),
  ),
});

export type ChatRequest = z.output<typeof chatRequestSchema>;
export type CompletionRequest = z.output<typeof completionRequestSchema>;
export type ChatMessage = z.output<typeof message>;
