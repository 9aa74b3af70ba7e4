import { performance } from 'node:perf_hooks';
import type { HttpBindings } from '@hono/node-server';
import type { Context } from 'hono';
import type { Engine } from './engine.js';
import { badRequest, HttpError } from './errors.js';
import type { Faults } from './faults.js';
import { ResponseFormat } from './format.js';
import type { FakeVllmConfig } from './options.js';
import { type EndpointKind, planJob } from './plan.js';
import { sseBody } from './sse.js';

export interface CompletionDeps {
  config: FakeVllmConfig;
  engine: Engine;
  faults: () => Readonly<Faults>;
}

export type AppEnv = { Bindings: HttpBindings };

/** Status for a request whose client went away: nobody reads it (nginx's convention). */
const CLIENT_CLOSED_REQUEST = 499;

/**
 * `POST /v1/chat/completions` and `POST /v1/completions`. Like vLLM, nothing is sent before
 * the first token: a queued or prefilling request can still fail with a clean error status.
 */
export function completionHandler(kind: EndpointKind, deps: CompletionDeps) {
  return async function completion(c: Context<AppEnv>): Promise<Response> {
    const arrivedAtMs = performance.now();
    const job = planJob(kind, await readJson(c), deps.config);
    const faults = deps.faults();
    if (deps.engine.shouldFail(faults.errorRate)) {
      throw new HttpError(500, 'InternalServerError', 'Injected fault: the engine failed this request (errorRate).');
    }
    const generation = deps.engine.generate(
      { promptTokens: job.promptTokens, outputTokens: job.outputTokens, textSeed: job.textSeed, arrivedAtMs },
      c.req.raw.signal,
    );
    const tokens = generation.tokens();
    const format = new ResponseFormat(job, Date.now());
    let text = '';
    let count = 0;
    try {
      const first = await tokens.next();
      if (first.done === true) throw new HttpError(500, 'InternalServerError', 'The engine produced no token.');
      if (job.stream) {
        const body = sseBody(job, format, generation, tokens, first.value, {
          dropAfterTokens: faults.dropStreamAfterTokens,
          destroySocket: () => c.env?.incoming?.socket?.destroy(),
        });
        return new Response(body, {
          status: 200,
          headers: { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache' },
        });
      }
      text = first.value;
      count = 1;
      for await (const token of tokens) {
        text += token;
        count++;
      }
    } catch (err) {
      if (generation.signal.aborted) return new Response(null, { status: CLIENT_CLOSED_REQUEST });
      throw err;
    }
    return c.json(format.whole(text, count, job.finishReason));
  };
}

/** The body as JSON; vLLM answers a body that does not parse with a 400. */
async function readJson(c: Context<AppEnv>): Promise<unknown> {
  const raw = await c.req.text();
  try {
    return JSON.parse(raw);
  } catch {
    throw badRequest('body: JSON decode error');
  }
}
