import { RESPONSE_ALREADY_SENT } from '@hono/node-server/utils/response';
import type { Logger } from '@synkti/interface';
import { FORWARDED_REQUEST_HEADERS, FORWARDED_RESPONSE_HEADERS, type RequestHead } from '@synkti/protocol';
import { type Context, Hono } from 'hono';
import { parseCompletionBody, readBody } from './body.js';
import { GatewayError } from './errors.js';
import { type FleetSource, healthyModels } from './fleet-source.js';
import type { FleetHistory } from './history.js';
import type { AgentMetrics } from './metrics.js';
import { nodeResponse, webBody, writeNodeResponse } from './respond.js';
import { type CompletionKind, describeCompletion, type RequestPath } from './request-path/index.js';

export interface OpenAiRoutesInit {
  fleet: FleetSource;
  requestPath: RequestPath;
  maxBodyBytes: number;
  metrics?: AgentMetrics;
  history?: FleetHistory;
  /** False while this agent drains: new requests get a retryable 503 before any byte. */
  accepting?: () => boolean;
  retryAfterS?: number;
  log: Logger;
}

/** Who answered a request and with what status (read by the metrics middleware). */
export interface ServedBy {
  peerId: string;
  status: number;
}

type Env = { Variables: { requestId: string; served: ServedBy } };

/** The OpenAI-compatible surface: completions routed to the best peer, models from the fleet. */
export function openAiRoutes(init: OpenAiRoutesInit): Hono<Env> {
  const app = new Hono<Env>();

  app.get('/v1/models', (c) => {
    return c.json({ object: 'list', data: healthyModels(init.fleet).map((id) => ({ id, object: 'model', created: 0, owned_by: 'synkti' })) });
  });

  app.use('/v1/*', async function refuseWhileDraining(c, next) {
    if (init.accepting !== undefined && !init.accepting()) {
      throw new GatewayError('NODE_DRAINING', 503, 'service_unavailable', 'This agent is shutting down; send the request to another peer.', { retryAfterS: init.retryAfterS ?? 1 });
    }
    await next();
  });

  const completion = (kind: CompletionKind, route: string) => async (c: Context<Env>) => {
    const body = await readBody(c, init.maxBodyBytes);
    const parsed = parseCompletionBody(body);
    const affinityKey = c.req.header('x-session-id') ?? parsed.user;
    return forward(c, route, parsed.model, body, affinityKey, kind, parsed.json, parsed.sequences);
  };
  app.post('/v1/chat/completions', completion('chat', '/v1/chat/completions'));
  app.post('/v1/completions', completion('text', '/v1/completions'));

  // Anything else under /v1 goes to a peer serving the model the body names (or any model).
  app.all('/v1/*', async (c) => {
    const body = c.req.method === 'GET' || c.req.method === 'HEAD' ? new Uint8Array() : await readBody(c, init.maxBodyBytes);
    const model = body.byteLength > 0 ? parseCompletionBody(body).model : anyServedModel(init.fleet);
    return forward(c, '/v1/*', model, body, c.req.header('x-session-id'));
  });

  async function forward(c: Context<Env>, route: string, model: string, body: Uint8Array, affinityKey: string | undefined, kind?: CompletionKind, json?: Record<string, unknown>, sequences = 1): Promise<Response> {
    const url = new URL(c.req.url);
    const head: RequestHead = { requestId: c.get('requestId'), method: c.req.method as RequestHead['method'], path: `${url.pathname}${url.search}`, headers: pickHeaders(c, body.byteLength > 0) };
    const started = performance.now();
    const completion = kind !== undefined && json !== undefined ? describeCompletion(kind, json) : undefined;
    let served: Awaited<ReturnType<RequestPath['serve']>>;
    try {
      served = await init.requestPath.serve({ model, head, body, signal: c.req.raw.signal, affinityKey, sequences, ...(completion !== undefined ? { completion } : {}) });
    } catch (err) {
      // The fleet failed it (a client's own mistake is no failure of the fleet).
      if (!(err instanceof GatewayError) || err.status >= 500) init.history?.recordRequest(null);
      throw err;
    }
    if (served.status < 400) init.history?.recordRequest(performance.now() - started);
    else if (served.status >= 500) init.history?.recordRequest(null);
    const metrics = init.metrics;
    if (metrics !== undefined) {
      // The head and the first token (or first byte) are on hand when serve() returns.
      const seconds = (performance.now() - started) / 1_000;
      metrics.forwardSeconds.observe({ route, target: served.peerId === init.fleet.selfId ? 'local' : 'remote' }, seconds);
      metrics.firstByteSeconds.observe({ route }, seconds);
      if (served.attempts > 1) metrics.retries.inc(served.attempts - 1);
    }
    const headers = answerHeaders(served.headers, served.peerId, head.requestId);
    // Hono answers HEAD by wrapping the GET answer in a new Response: that one must be a web answer.
    const res = c.req.method === 'HEAD' ? undefined : nodeResponse(c);
    // Written to the socket: nothing after this route may touch c.res (node-server would write a second head).
    if (res !== undefined) writeNodeResponse(res, served.status, headers, served.body, init.log, head.requestId);
    c.set('served', { peerId: served.peerId, status: served.status });
    return res !== undefined ? RESPONSE_ALREADY_SENT : new Response(webBody(served.body), { status: served.status, headers });
  }

  return app;
}

/** The answer's headers: only those a peer may forward (lower-case, as on the wire), and ours. */
function answerHeaders(upstream: Record<string, string>, peerId: string, requestId: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const name of FORWARDED_RESPONSE_HEADERS) {
    const value = upstream[name];
    if (value !== undefined) out[name] = value;
  }
  out['x-synkti-peer'] = peerId;
  out['x-request-id'] = requestId;
  return out;
}

function pickHeaders(c: Context, hasBody: boolean): Record<string, string> {
  const out: Record<string, string> = {};
  for (const name of FORWARDED_REQUEST_HEADERS) {
    const value = c.req.header(name);
    if (value !== undefined) out[name] = value;
  }
  // The body was parsed as JSON here; vLLM rejects any other media type.
  if (hasBody) out['content-type'] = 'application/json';
  out['x-request-id'] = (c.get('requestId') as string | undefined) ?? out['x-request-id'] ?? '';
  return out;
}

function anyServedModel(fleet: FleetSource): string {
  const model = fleet.peers().find((p) => p.healthy && p.state.engine.models.length > 0)?.state.engine.models[0];
  if (model === undefined) throw new GatewayError('NO_HEALTHY_PEER', 503, 'service_unavailable', 'No healthy peer can serve requests right now; retry shortly.', { retryAfterS: 5 });
  return model;
}
