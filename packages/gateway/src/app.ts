import { Hono } from 'hono';
import { type FleetSource, fleetJson } from './fleet-source.js';

export interface GatewayInit {
  fleet: FleetSource;
}

/** The agent's HTTP surface. Test it with `app.request()`; the agent serves it on its API port. */
export function createGatewayApp(init: GatewayInit): Hono {
  const app = new Hono();
  app.get('/healthz', (c) => c.json({ status: 'ok', peerId: init.fleet.selfId }));
  app.get('/readyz', (c) => {
    const models = new Set(init.fleet.peers().filter((p) => p.healthy).flatMap((p) => p.state.engine.models));
    return models.size > 0 ? c.json({ ready: true, models: [...models].sort() }) : c.json({ ready: false, models: [] }, 503);
  });
  app.get('/fleet', (c) => c.json(fleetJson(init.fleet)));
  return app;
}
