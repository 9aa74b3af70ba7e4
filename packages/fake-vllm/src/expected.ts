import { type FakeVllmOptions, parseOptions } from './options.js';
import { choicesOf, type FinishReason, planJob } from './plan.js';
import { generateText } from './text.js';

/** One choice as a non-streamed response would hold it. */
export interface ExpectedChoice {
  index: number;
  text: string;
  /** The choice's token ids (what `token_ids` reports with return_token_ids). */
  tokenIds: number[];
  finishReason: FinishReason;
  /** The prompt's token ids (what `prompt_token_ids` reports with return_token_ids). */
  promptTokenIds: number[];
}

/**
 * What a fake engine with `options` answers to a request `body`, computed without a server:
 * the choices in index order. For tests of request migration: the answer a client sees after
 * a break and a continuation must equal this for the original request. Throws the HttpError
 * the server would answer for an invalid body.
 */
export function expectedCompletion(endpoint: 'chat' | 'completions', body: unknown, options?: FakeVllmOptions): ExpectedChoice[] {
  const config = parseOptions(options);
  const job = planJob(endpoint === 'chat' ? 'chat' : 'text', body, config);
  return choicesOf(job).map((choice) => {
    const { text, tokenIds } = generateText(choice.context, choice.outputTokens, config.seed);
    return { index: choice.index, text, tokenIds, finishReason: choice.finishReason, promptTokenIds: choice.promptTokenIds };
  });
}
