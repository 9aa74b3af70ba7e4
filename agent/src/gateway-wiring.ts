import type { MembershipView } from '@synkti/fleet';
import type { EngineSupervisor } from '@synkti/engine';
import { AgentMetrics, admissionLimitFor, createGatewayApp, type FleetSource, HttpServer, LocalEngineTarget, RequestPath, requestTargetOf } from '@synkti/gateway';
import type { Clock, Logger, Rng } from '@synkti/interface';
import type { Mesh } from '@synkti/mesh';
import type { AgentConfig } from './config/index.js';
import { HistorySampler } from './history-sampler.js';

export interface GatewayDeps {
  config: AgentConfig;
  mesh: Mesh;
  view: MembershipView;
  fleet: FleetSource;
  clock: Clock;
  rng: Rng;
  logger: Logger;
  engine: () => EngineSupervisor | undefined;
  accepting: () => boolean;
  /** The fleet size the rules aim at now (the autoscaler's, else the configured one); null without a target. */
  fleetTarget: () => number | null;
}

/** The agent's serving parts, started: what its drain and stop reach. */
export interface Gateway {
  localEngine: LocalEngineTarget;
  requestPath: RequestPath;
  metrics: AgentMetrics;
  history: HistorySampler;
  http: HttpServer;
}

/**
 * The request path (local engine or a peer), its metrics and history, and the HTTP API: serves
 * peers' forwards to the local engine, then opens the API port.
 */
export async function startGateway(d: GatewayDeps): Promise<Gateway> {
  const c = d.config;
  const localEngine = new LocalEngineTarget({ engine: d.engine, accepting: d.accepting });
  await d.mesh.serveForwards((req) => localEngine.send(req.head, req.body, req.signal), c.maxForwardStreams);
  const target = requestTargetOf({ selfId: d.mesh.peerId, local: localEngine, peers: d.mesh });
  const history = new HistorySampler({ clock: d.clock, fleet: d.fleet, target: d.fleetTarget, spotPricePerHour: c.spotPricePerHour, onDemandPricePerHour: c.onDemandPricePerHour });
  const peersNow = () => d.view.snapshot(d.clock.now());
  const metrics = new AgentMetrics({
    ...history.metricsSources(),
    gossip: () => d.mesh.gossip.counters,
    peersByStatus: () => countByStatus(peersNow()),
    engineState: () => d.engine()?.state() ?? null,
    engineCounters: () => d.engine()?.snapshot().counters ?? null,
    fleetSize: () => {
      const wanted = d.fleetTarget();
      return wanted === null ? null : { target: wanted, healthy: peersNow().filter((p) => p.healthy).length };
    },
  });
  const requestPath = new RequestPath({
    fleet: d.fleet,
    target,
    rng: d.rng,
    logger: d.logger,
    affinityLoadFactor: c.affinityLoadFactor,
    retryAfterS: Math.max(1, Math.ceil(c.heartbeatMs / 1_000)),
    limits: {
      migrationLimit: c.migrationLimit,
      firstTokenTimeoutMs: c.firstTokenTimeoutMs,
      responseTimeoutMs: c.responseTimeoutMs,
      streamStallTimeoutMs: c.streamStallTimeoutMs,
      peerInhibitMs: c.peerInhibitMs,
      maxInFlight: c.maxInFlight ?? admissionLimitFor(d.engine()?.config.capacity),
    },
    metrics,
    onStreamTokens: (tokens) => history.history.recordTokens(tokens),
  });
  const app = createGatewayApp({
    fleet: d.fleet,
    requestPath,
    accepting: d.accepting,
    logger: d.logger,
    apiKeys: c.apiKeys,
    opsKeys: c.opsKeys,
    keyLimits: { requestsPerSecond: c.keyRequestsPerSecond, maxConcurrent: c.keyMaxConcurrent },
    maxBodyBytes: c.maxBodyBytes,
    metrics,
    history: history.history,
  });
  const http = new HttpServer(app, c.apiHost, c.apiPort);
  try {
    await http.start();
  } catch (err) {
    // The port is taken or not ours: nothing else will close what was opened for it.
    localEngine.close();
    throw err;
  }
  history.start();
  return { localEngine, requestPath, metrics, history, http };
}

function countByStatus(peers: readonly { status: string; healthy: boolean }[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const p of peers) {
    counts[p.status] = (counts[p.status] ?? 0) + 1;
    if (p.healthy) counts['healthy'] = (counts['healthy'] ?? 0) + 1;
  }
  return counts;
}
