import { z } from 'zod';
import {
  ANSWER_TOKENS,
  DEFAULT_HOST,
  DEFAULT_MODEL,
  DEFAULT_PORT,
  FAKE_VLLM_VERSION,
  LOAD_MODE,
  LOAD_MS,
  MAX_MODEL_LEN,
  MAX_NUM_SEQS,
  MAX_TOKENS_DEFAULT,
  MAX_WAITING_REQUESTS,
  SEED,
  TOKENS_PER_S,
  TTFT_MS,
} from './constants.js';
import { FakeVllmError } from './errors.js';
import { faultsPatchSchema } from './faults.js';
import { describeZodError } from './zod-message.js';

/**
 * What a client sees while the model loads. 'closed': connection refused (a bare vLLM process);
 * 'accept-close': the connection is accepted, then closed without a response (vLLM behind
 * docker's port proxy); '503': an HTTP 503 on every route (llama.cpp's server, TGI).
 */
export const LOAD_MODES = ['closed', 'accept-close', '503'] as const;
export type LoadMode = (typeof LOAD_MODES)[number];

const count = (min: number) => z.number().int().min(min);

export const optionsSchema = z
  .object({
    /** Served model names; like vLLM's --served-model-name, the first one labels the metrics. */
    models: z.array(z.string().min(1)).min(1).default([DEFAULT_MODEL]),
    host: z.string().min(1).default(DEFAULT_HOST),
    /** 0 picks a free port. */
    port: count(0).max(65_535).default(DEFAULT_PORT),
    /** Time from start() until the model is "loaded". */
    loadMs: count(0).default(LOAD_MS),
    /** See LOAD_MODES; default 'closed': the port opens only when loaded, like a bare vLLM. */
    loadMode: z.enum(LOAD_MODES).default(LOAD_MODE),
    /** Prefill time per request, from getting a slot to the first token. */
    ttftMs: z.number().min(0).default(TTFT_MS),
    /** Decode speed per sequence; 0 means as fast as the event loop goes. */
    tokensPerS: z.number().min(0).default(TOKENS_PER_S),
    maxNumSeqs: count(1).default(MAX_NUM_SEQS),
    /** Requests allowed to wait beyond maxNumSeqs before a 503; null: unbounded, like vLLM. */
    maxWaitingRequests: count(0).nullable().default(MAX_WAITING_REQUESTS),
    /** Output limit of a legacy completion that names none (chat: the context left, like vLLM). */
    maxTokensDefault: count(1).default(MAX_TOKENS_DEFAULT),
    answerTokens: count(1).default(ANSWER_TOKENS),
    maxModelLen: count(1).default(MAX_MODEL_LEN),
    seed: z.number().int().default(SEED),
    /** What GET /version reports, e.g. the vLLM release a deployment pins. */
    engineVersion: z.string().min(1).default(FAKE_VLLM_VERSION),
    /** Faults in force from the start. */
    faults: faultsPatchSchema.default({}),
  })
  .strict();

/** What createFakeVllm accepts: every field optional. */
export type FakeVllmOptions = z.input<typeof optionsSchema>;
/** The options with every default filled in. */
export type FakeVllmConfig = z.output<typeof optionsSchema>;

export function parseOptions(input: unknown): FakeVllmConfig {
  const parsed = optionsSchema.safeParse(input ?? {});
  if (!parsed.success) throw new FakeVllmError('INVALID_OPTIONS', `invalid options: ${describeZodError(parsed.error)}`);
  return parsed.data;
}
