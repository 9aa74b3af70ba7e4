import { Hono } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { type AppEnv, CLIENT_CLOSED_REQUEST, type CompletionDeps, completionHandler } from './completion-handler.js';
import { MAX_BODY_BYTES } from './constants.js';
import { errorBody, HttpError } from './errors.js';
import { controlRoutes, type ControlPlane } from './control.js';
import type { HealthDelay } from './health.js';

export interface AppDeps extends CompletionDeps {
  /** False while the model is "loading": every vLLM route answers 503 (seen only in the '503' load mode). */
  isReady: () => boolean;
  control: ControlPlane;
  healthDelay: HealthDelay;
}

/** vLLM's HTTP surface, plus the fake's own control routes under `/_fake`. */
export function createApp(deps: AppDeps): Hono<AppEnv> {
  const { config, engine } = deps;
  const app = new Hono<AppEnv>();

  app.route('/_fake', controlRoutes(deps.control));

  app.use('*', async function loadingGate(c, next) {
    if (deps.isReady()) return next();
    const err = new HttpError(503, 'ServiceUnavailableError', 'The model is still loading.');
    return c.json(errorBody(err), err.status);
  });

  // vLLM answers an empty 200 unless its engine has errored (a deadlocked one still gets 200),
  // and an empty 503 once it has died; under saturation the answer can take seconds.
  app.get('/health', async function health(c) {
    const delayMs = (): number => {
      const f = deps.faults();
      if (f.healthDelayPerRequestMs === 0) return f.healthDelayMs;
      const { running, waiting } = engine.gauges();
      return f.healthDelayMs + f.healthDelayPerRequestMs * (running + waiting);
    };
    if (delayMs() > 0) {
      const signal = AbortSignal.any([c.req.raw.signal, engine.stopped]);
      const waited = await deps.healthDelay.wait(delayMs, signal);
      if (!waited) return new Response(null, { status: CLIENT_CLOSED_REQUEST });
    }
    return c.body(null, engine.dead ? 503 : 200);
  });

  app.get('/version', (c) => c.json({ version: config.engineVersion }));

  app.get('/v1/models', (c) => {
    const created = Math.floor(Date.now() / 1_000);
    const root = config.models[0];
    const data = config.models.map((id) => ({
      id,
      object: 'model',
      created,
      owned_by: 'vllm',
      root,
      parent: null,
      max_model_len: config.maxModelLen,
    }));
    return c.json({ object: 'list', data });
  });

  app.get('/metrics', (c) => {
    const text = engine.metrics.render(config.models[0] ?? '', engine.gauges());
    return c.body(text, 200, { 'content-type': 'text/plain; version=0.0.4; charset=utf-8' });
  });

  const limit = bodyLimit({
    maxSize: MAX_BODY_BYTES,
    onError: (c) => {
      const err = new HttpError(413, 'RequestEntityTooLargeError', `The request body is larger than ${MAX_BODY_BYTES} bytes.`);
      return c.json(errorBody(err), err.status);
    },
  });
  app.post('/v1/chat/completions', limit, completionHandler('chat', deps));
  app.post('/v1/completions', limit, completionHandler('text', deps));

  // FastAPI's answer to an unknown route.
  app.notFound((c) => c.json({ detail: 'Not Found' }, 404));

  app.onError((err, c) => {
    const known =
      err instanceof HttpError
        ? err
        : new HttpError(500, 'InternalServerError', err instanceof Error ? err.message : String(err), { cause: err });
    return c.json(errorBody(known), known.status);
  });

  return app;
}
