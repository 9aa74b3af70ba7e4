import { setImmediate as nextMacrotask } from 'node:timers/promises';
import type { Generation } from './engine.js';
import { type ResponseFormat, SSE_DONE, sseData } from './format.js';
import type { CompletionJob } from './plan.js';

export interface StreamDeps {
  /** Cut the response after this many tokens (a fault); null: never. */
  dropAfterTokens: number | null;
  /** Destroys the client's socket: how a dying engine "cuts" a stream. */
  destroySocket: () => void;
}

const encoder = new TextEncoder();
const encode = (payload: object | string): Uint8Array => encoder.encode(typeof payload === 'string' ? payload : sseData(payload));

/** Settles never: after a cut or an abort the consumer cancels the stream, so no more pulls come. */
const forever = (): Promise<void> => new Promise(() => {});

/**
 * The SSE body of a streamed completion, pulled one token at a time so the client's pace and
 * disconnects reach the engine: `data: {chunk}\n\n` per token, the finish reason on the last
 * token's chunk, an optional usage chunk, then `data: [DONE]\n\n`.
 */
export function sseBody(
  job: CompletionJob,
  format: ResponseFormat,
  generation: Generation,
  tokens: AsyncIterator<string, void>,
  first: string,
  deps: StreamDeps,
): ReadableStream<Uint8Array> {
  let sent = 0;
  let pending: string | null = first;

  const cut = async (): Promise<void> => {
    generation.markDropped();
    // Let the chunks already written leave the process before the socket dies.
    await nextMacrotask();
    deps.destroySocket();
    await tokens.return?.();
  };

  return new ReadableStream<Uint8Array>({
    start(controller) {
      const role = format.roleChunk();
      if (role !== null) controller.enqueue(encode(role));
    },
    async pull(controller) {
      if (deps.dropAfterTokens !== null && sent >= deps.dropAfterTokens) {
        await cut();
        return forever();
      }
      let text = pending;
      pending = null;
      if (text === null) {
        try {
          const next = await tokens.next();
          text = next.done === true ? null : next.value;
        } catch (err) {
          if (generation.signal.aborted) return forever();
          controller.error(err);
          return;
        }
      }
      if (text !== null) {
        const last = sent + 1 >= job.outputTokens;
        controller.enqueue(encode(format.tokenChunk(text, last ? job.finishReason : null)));
        sent++;
        if (!last) return;
      }
      // One more step lets the generation finish and count itself served.
      await tokens.next().catch(() => undefined);
      if (job.includeUsage) controller.enqueue(encode(format.usageChunk(sent)));
      controller.enqueue(encode(SSE_DONE));
      controller.close();
    },
    async cancel() {
      await tokens.return?.();
    },
  });
}
