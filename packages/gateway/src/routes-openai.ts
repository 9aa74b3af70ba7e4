import { FORWARDED_REQUEST_HEADERS, type RequestHead } from '@synkti/protocol';
import { type Context, Hono } from 'hono';
import { readBody, parseCompletionBody } from './body.js';
import { GatewayError } from './errors.js';
import { type FleetSource, healthyModels } from './fleet-source.js';
import type { Forwarder } from './forwarder.js';
import type { AgentMetrics } from './metrics.js';
import { streamingResponse } from './responses.js';

export interface OpenAiRoutesInit {
  fleet: FleetSource;
  forwarder: Forwarder;
  maxBodyBytes: number;
  metrics?: AgentMetrics;
}

type Env = { Variables: { requestId: string } };

/** The OpenAI-compatible surface: completions routed to the best peer, models from the fleet. */
export function openAiRoutes(init: OpenAiRoutesInit): Hono<Env> {
  const app = new Hono<Env>();

  app.get('/v1/models', (c) => {
    return c.json({ object: 'list', data: healthyModels(init.fleet).map((id) => ({ id, object: 'model', created: 0, owned_by: 'synkti' })) });
  });

  const completion = (route: string) => async (c: Context<Env>) => {
    const body = await readBody(c, init.maxBodyBytes);
    const parsed = parseCompletionBody(body);
    const affinityKey = c.req.header('x-session-id') ?? parsed.user;
    return forward(c, route, parsed.model, body, affinityKey);
  };
  app.post('/v1/chat/completions', completion('/v1/chat/completions'));
  app.post('/v1/completions', completion('/v1/completions'));

  // Anything else under /v1 goes to a peer serving the model the body names (or any model).
  app.all('/v1/*', async (c) => {
    const body = c.req.method === 'GET' || c.req.method === 'HEAD' ? new Uint8Array() : await readBody(c, init.maxBodyBytes);
    const model = body.byteLength > 0 ? parseCompletionBody(body).model : anyServedModel(init.fleet);
    return forward(c, '/v1/*', model, body, c.req.header('x-session-id'));
  });

  async function forward(c: Context<Env>, route: string, model: string, body: Uint8Array, affinityKey: string | undefined): Promise<Response> {
    const url = new URL(c.req.url);
    const head: RequestHead = { requestId: c.get('requestId'), method: c.req.method as RequestHead['method'], path: `${url.pathname}${url.search}`, headers: pickHeaders(c) };
    const started = performance.now();
    const served = await init.forwarder.forward({ model, head, body, signal: c.req.raw.signal, affinityKey });
    const metrics = init.metrics;
    if (metrics !== undefined) {
      metrics.forwardSeconds.observe({ route, target: served.peerId === init.fleet.selfId ? 'local' : 'remote' }, (performance.now() - started) / 1_000);
      if (served.attempts > 1) metrics.retries.inc(served.attempts - 1);
      served.response.body = timeFirstChunk(served.response.body, () => metrics.firstByteSeconds.observe({ route }, (performance.now() - started) / 1_000));
    }
    return streamingResponse(served.response, { 'x-synkti-peer': served.peerId, 'x-request-id': head.requestId });
  }

  return app;
}

function pickHeaders(c: Context): Record<string, string> {
  const out: Record<string, string> = {};
  for (const name of FORWARDED_REQUEST_HEADERS) {
    const value = c.req.header(name);
    if (value !== undefined) out[name] = value;
  }
  out['x-request-id'] = (c.get('requestId') as string | undefined) ?? out['x-request-id'] ?? '';
  return out;
}

function anyServedModel(fleet: FleetSource): string {
  const model = fleet.peers().find((p) => p.healthy && p.state.engine.models.length > 0)?.state.engine.models[0];
  if (model === undefined) throw new GatewayError('NO_HEALTHY_PEER', 503, 'service_unavailable', 'No healthy peer can serve requests right now; retry shortly.', { retryAfterS: 5 });
  return model;
}

async function* timeFirstChunk(body: AsyncIterable<Uint8Array>, onFirst: () => void): AsyncGenerator<Uint8Array> {
  let first = true;
  for await (const chunk of body) {
    if (first) onFirst();
    first = false;
    yield chunk;
  }
}
