import type { Logger } from '@synkti/interface';
import { Hono } from 'hono';
import { HTTPException } from 'hono/http-exception';
import { requestId } from 'hono/request-id';
import { dashboardHandler } from './dashboard.js';
import { errorResponse, GatewayError } from './errors.js';
import { type FleetSource, fleetJson, healthyModels } from './fleet-source.js';
import type { FleetHistory } from './history.js';
import { apiKeyAuth } from './middleware/api-key.js';
import { type KeyLimits, keyLimits } from './middleware/key-limits.js';
import type { AgentMetrics } from './metrics.js';
import type { RequestPath } from './request-path/index.js';
import { openAiRoutes, type ServedBy } from './routes-openai.js';

export interface GatewayInit {
  fleet: FleetSource;
  requestPath?: RequestPath;
  /** False while the agent drains: API requests get a retryable 503 and /readyz fails. */
  accepting?: () => boolean;
  logger: Logger;
  apiKeys?: readonly string[];
  /** Keys that may read the ops surface (/fleet, /metrics) besides the API keys. */
  opsKeys?: readonly string[];
  /** Per-key limits on the API (see keyLimits). */
  keyLimits?: KeyLimits;
  /** Largest request body accepted, in bytes. */
  maxBodyBytes?: number;
  metrics?: AgentMetrics;
  /** The agent's ring buffer of fleet figures: served at /fleet/history, fed by the API routes. */
  history?: FleetHistory;
  /** Extra routes mounted at the root (metrics, dashboard). */
  extra?: (app: Hono) => void;
}

/** Longest client x-request-id kept (each attempt adds `-<n>`; vLLM and logs take it as is). */
const MAX_REQUEST_ID_LENGTH = 128;

const KNOWN_ROUTES = new Set(['/v1/chat/completions', '/v1/completions', '/v1/models']);

/** Default request body limit: prompts with long contexts, far below what would hurt memory (at most MAX_FORWARD_REQUEST_BYTES). */
export const DEFAULT_MAX_BODY_BYTES = 16 * 1024 * 1024;

/** The agent's HTTP surface. Test it with `app.request()`; the agent serves it on its API port. */
export function createGatewayApp(init: GatewayInit): Hono {
  const log = init.logger.child({ component: 'gateway' });
  const app = new Hono<{ Variables: { requestId: string; served?: ServedBy } }>();
  // Hono's request-id: the caller's x-request-id when it is short and plain ([A-Za-z0-9_=-]), else a UUID; echoed.
  app.use(requestId({ limitLength: MAX_REQUEST_ID_LENGTH }));
  app.onError((err, c) => {
    // Hono's own middleware (bearer-auth) answers by throwing a finished response.
    if (err instanceof HTTPException) return err.getResponse();
    if (err instanceof GatewayError) {
      if (err.status >= 500) log.warn({ err, requestId: c.get('requestId'), code: err.code }, 'request failed');
      return errorResponse(c, err);
    }
    if (c.req.raw.signal.aborted) return c.body(null, 499 as 400);
    log.error({ err, requestId: c.get('requestId'), path: c.req.path }, 'unexpected gateway error');
    return errorResponse(c, new GatewayError('INTERNAL', 500, 'server_error', 'Internal error in the Synkti gateway.', { cause: err }));
  });
  app.notFound((c) => errorResponse(c, new GatewayError('NOT_FOUND', 404, 'not_found_error', `Unknown path ${c.req.method} ${c.req.path}.`)));

  app.get('/healthz', (c) => c.json({ status: 'ok', peerId: init.fleet.selfId }));
  app.get('/readyz', (c) => {
    const models = healthyModels(init.fleet);
    if (init.accepting !== undefined && !init.accepting()) return c.json({ ready: false, draining: true, models }, 503);
    return models.length > 0 ? c.json({ ready: true, models }) : c.json({ ready: false, models }, 503);
  });
  // With keys configured the fleet's view is not public either: any API key or an ops key reads it.
  // The dashboard page holds no data; its script sends the key (from the URL's #key=…) to /fleet.
  const opsKeys = [...(init.apiKeys ?? []), ...(init.opsKeys ?? [])];
  const opsAuth = opsKeys.length > 0 ? apiKeyAuth({ keys: opsKeys }) : undefined;
  if (opsAuth !== undefined) {
    app.use('/fleet', opsAuth);
    app.use('/fleet/history', opsAuth);
    app.use('/metrics', opsAuth);
  }
  app.get('/fleet', (c) => c.json(fleetJson(init.fleet)));
  const history = init.history;
  app.get('/fleet/history', (c) => {
    if (history === undefined) throw new GatewayError('NOT_FOUND', 404, 'not_found_error', 'This agent keeps no history.');
    return c.json(history.toJSON(init.fleet.now()));
  });
  app.get('/', dashboardHandler);
  const metrics = init.metrics;
  if (metrics !== undefined) {
    app.get('/metrics', async (c) => {
      const { contentType, body } = await metrics.render();
      return c.body(body, 200, { 'content-type': contentType });
    });
    app.use('/v1/*', async function countRequests(c, next) {
      await next();
      // Known routes only, so a client cannot blow up label cardinality with made-up paths.
      const route = KNOWN_ROUTES.has(c.req.path) ? c.req.path : '/v1/other';
      // An answer written straight to Node's socket leaves only a marker in c.res.
      const served = c.get('served');
      metrics.requests.inc({ route, status: String(served?.status ?? c.res.status), peer: served?.peerId ?? 'none' });
    });
  }
  init.extra?.(app as unknown as Hono);

  if (init.requestPath !== undefined) {
    app.use('/v1/*', apiKeyAuth({ keys: init.apiKeys ?? [] }));
    if (init.keyLimits !== undefined) app.use('/v1/*', keyLimits(init.keyLimits));
    app.route('/', openAiRoutes({ log, fleet: init.fleet, requestPath: init.requestPath, maxBodyBytes: init.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES, ...(metrics !== undefined ? { metrics } : {}), ...(history !== undefined ? { history } : {}), ...(init.accepting !== undefined ? { accepting: init.accepting } : {}) }));
  }
  return app as unknown as Hono;
}
