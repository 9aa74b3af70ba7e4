import { Hono } from 'hono';
import { errorBody, badRequest } from './errors.js';
import { type FaultsPatch, faultsPatchSchema } from './faults.js';
import type { FakeVllmStats } from './stats.js';
import { describeZodError } from './zod-message.js';

/** What the control routes may do to the fake engine they belong to. */
export interface ControlPlane {
  stats(): FakeVllmStats;
  setFaults(patch: FaultsPatch): void;
}

/**
 * `GET /_fake/state` and `POST /_fake/faults`: for tests in other processes. These answer even
 * while hung or stalled, so a test can always look and heal, and while loading in '503' mode
 * (in the 'closed' and 'accept-close' modes nothing answers until the model is loaded).
 */
export function controlRoutes(control: ControlPlane): Hono {
  const routes = new Hono();
  routes.get('/state', (c) => c.json(control.stats()));
  routes.post('/faults', async (c) => {
    let body: unknown;
    try {
      body = JSON.parse(await c.req.text());
    } catch {
      return c.json(errorBody(badRequest('body: JSON decode error')), 400);
    }
    const parsed = faultsPatchSchema.safeParse(body);
    if (!parsed.success) return c.json(errorBody(badRequest(describeZodError(parsed.error, 'body'))), 400);
    // A crash asked for here is deferred by setFaults, so this answer still goes out.
    control.setFaults(parsed.data);
    return c.json(control.stats());
  });
  return routes;
}
