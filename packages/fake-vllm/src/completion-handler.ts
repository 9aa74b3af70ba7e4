import { performance } from 'node:perf_hooks';
import type { HttpBindings } from '@hono/node-server';
import type { Context } from 'hono';
import type { Engine, Generation, GenerationPlan } from './engine.js';
import { badRequest, engineDeadError, HttpError } from './errors.js';
import type { Faults } from './faults.js';
import { type ChoiceResult, ResponseFormat } from './format.js';
import type { FakeVllmConfig } from './options.js';
import { type ChoiceJob, choicesOf, type EndpointKind, planJob } from './plan.js';
import { sseBody } from './sse.js';

export interface CompletionDeps {
  config: FakeVllmConfig;
  engine: Engine;
  faults: () => Readonly<Faults>;
}

export type AppEnv = { Bindings: HttpBindings };

/** Status for a request whose client went away: nobody reads it (nginx's convention). */
export const CLIENT_CLOSED_REQUEST = 499;

/**
 * `POST /v1/chat/completions` and `POST /v1/completions`. Like vLLM, a bad request is answered
 * with an error status before anything else, and a valid streamed one gets its 200 head at
 * once, before it queues and prefills: from then on, failures can only be told in the body.
 * Each choice of each prompt is one sequence in the engine, as with vLLM's parallel sampling.
 */
export function completionHandler(kind: EndpointKind, deps: CompletionDeps) {
  return async function completion(c: Context<AppEnv>): Promise<Response> {
    const arrivedAtMs = performance.now();
    const job = planJob(kind, await readJson(c), deps.config);
    const { engine } = deps;
    if (engine.dead) throw engineDeadError();
    const faults = deps.faults();
    if (engine.shouldFail(faults.errorRate)) {
      throw new HttpError(500, 'InternalServerError', 'Injected fault: the engine failed this request (errorRate).');
    }
    // One signal for every choice: a client gone, a cut or a failed choice stops them all.
    const cancel = new AbortController();
    const signal = AbortSignal.any([c.req.raw.signal, cancel.signal]);
    const choices = choicesOf(job);
    // Only with a configured cap (vLLM has none); checked here so the 503 comes before a head.
    if (!engine.hasRoom(choices.length)) {
      engine.outcomes.failed++;
      throw new HttpError(503, 'ServiceUnavailableError', 'The waiting queue is full.');
    }
    const generations = choices.map((choice) => engine.generate(planOf(choice, job.n, arrivedAtMs), signal));
    const format = new ResponseFormat(job, Date.now());
    if (job.stream) {
      const body = sseBody(job, format, generations, {
        dropAfterTokens: faults.dropStreamAfterTokens,
        destroySocket: () => c.env?.incoming?.socket?.destroy(),
        abort: () => cancel.abort(),
      });
      return new Response(body, {
        status: 200,
        headers: { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache' },
      });
    }
    let results: ChoiceResult[];
    try {
      results = await Promise.all(generations.map((g, i) => collect(g, choices[i]?.index ?? i)));
    } catch (err) {
      cancel.abort();
      const death = generations.find((g) => g.deathError !== null)?.deathError;
      if (death !== undefined) throw death;
      if (c.req.raw.signal.aborted) return new Response(null, { status: CLIENT_CLOSED_REQUEST });
      throw err;
    }
    return c.json(format.whole(results));
  };
}

function planOf(choice: ChoiceJob, n: number, arrivedAtMs: number): GenerationPlan {
  return {
    context: choice.context,
    // A prompt is prefilled once however many choices it has.
    promptTokenIds: choice.index % n === 0 ? choice.promptTokenIds : [],
    outputTokens: choice.outputTokens,
    finishReason: choice.finishReason,
    arrivedAtMs,
  };
}

async function collect(generation: Generation, index: number): Promise<ChoiceResult> {
  let text = '';
  const tokenIds: number[] = [];
  let finishReason: ChoiceResult['finishReason'] = 'stop';
  for await (const step of generation.tokens()) {
    text += step.text;
    if (step.id !== null) tokenIds.push(step.id);
    if (step.finishReason !== null) finishReason = step.finishReason;
  }
  return { index, text, tokenIds, finishReason };
}

/**
 * The body as JSON. vLLM answers a content type other than application/json, and a body that
 * does not parse, with a 400.
 */
async function readJson(c: Context<AppEnv>): Promise<unknown> {
  const mediaType = (c.req.header('content-type') ?? '').split(';', 1)[0]?.trim().toLowerCase();
  if (mediaType !== 'application/json') throw badRequest("Unsupported Media Type: Only 'application/json' is allowed");
  const raw = await c.req.text();
  try {
    return JSON.parse(raw);
  } catch {
    throw badRequest('body: JSON decode error');
  }
}
