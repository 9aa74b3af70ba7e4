import { setImmediate as nextMacrotask } from 'node:timers/promises';
import type { Generation, Step } from './engine.js';
import { HttpError, streamErrorEvent } from './errors.js';
import { type ResponseFormat, SSE_DONE, sseData } from './format.js';
import { mergeTagged } from './merge.js';
import type { CompletionJob } from './plan.js';

export interface StreamDeps {
  /** Cut the response after this many tokens (a fault); null: never. */
  dropAfterTokens: number | null;
  /** Destroys the client's socket: how a dying engine "cuts" a stream. */
  destroySocket: () => void;
  /** Aborts every generation of the request (they share one signal). */
  abort: () => void;
}

const encoder = new TextEncoder();
const encode = (payload: object | string): Uint8Array => encoder.encode(typeof payload === 'string' ? payload : sseData(payload));

/** Settles never: after a cut or an abort the consumer cancels the stream, so no more pulls come. */
const forever = (): Promise<void> => new Promise(() => {});

/**
 * The SSE body of a streamed completion. Nothing is enqueued before the first token, so the
 * 200 head goes out alone at once (@hono/node-server flushes the head of a body that has no
 * data yet) — vLLM too sends its head before queueing and prefill. Then: each choice's role
 * chunk (chat) with the first token, `data: {chunk}` per token with the choices interleaved
 * as they come, the finish reason on each choice's last chunk, an optional usage chunk, and
 * `data: [DONE]`. If the engine dies, vLLM's error event and `[DONE]` end the body cleanly.
 */
export function sseBody(job: CompletionJob, format: ResponseFormat, generations: Generation[], deps: StreamDeps): ReadableStream<Uint8Array> {
  const steps = mergeTagged(generations.map((g) => g.tokens()));
  const started = new Set<number>();
  let sent = 0;

  const cut = async (): Promise<void> => {
    for (const g of generations) g.markDropped();
    // Let the chunks already written leave the process before the socket dies.
    await nextMacrotask();
    deps.destroySocket();
    deps.abort();
  };

  const chunksOf = (index: number, step: Step): Uint8Array[] => {
    const out: Uint8Array[] = [];
    if (started.size === 0) {
      for (let i = 0; i < generations.length; i++) {
        const role = format.roleChunk(i);
        if (role !== null) out.push(encode(role));
      }
    }
    const first = !started.has(index);
    started.add(index);
    const ids = step.id === null ? [] : [step.id];
    out.push(encode(format.tokenChunk(index, step.text, ids, step.finishReason, first)));
    return out;
  };

  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      if (deps.dropAfterTokens !== null && sent >= deps.dropAfterTokens) {
        await cut();
        return forever();
      }
      let next: IteratorResult<[number, Step], void>;
      try {
        next = await steps.next();
      } catch (err) {
        const death = generations.find((g) => g.deathError !== null)?.deathError ?? null;
        // A client gone or the engine shut down: nobody reads, the socket goes.
        const gone = death === null && generations.some((g) => g.signal.aborted);
        deps.abort();
        if (gone) return forever();
        const shown = death ?? (err instanceof HttpError ? err : null);
        if (shown === null) {
          controller.error(err);
          return;
        }
        // After the head, vLLM can only tell an error in the body: an error event, then [DONE].
        controller.enqueue(encoder.encode(streamErrorEvent(shown)));
        controller.enqueue(encode(SSE_DONE));
        controller.close();
        return;
      }
      if (next.done === true) {
        if (job.includeUsage) controller.enqueue(encode(format.usageChunk(sent)));
        controller.enqueue(encode(SSE_DONE));
        controller.close();
        return;
      }
      const [index, step] = next.value;
      for (const chunk of chunksOf(index, step)) controller.enqueue(chunk);
      if (step.id !== null) sent++;
    },
    cancel() {
      deps.abort();
    },
  });
}
