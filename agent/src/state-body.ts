import type { EngineSnapshot } from '@synkti/engine';
import type { StateBody } from '@synkti/mesh';
import type { ProviderInfo } from '@synkti/protocol';

/** A node started by hand, outside any provider. */
const STATIC_NODE: ProviderInfo = { kind: 'static', instanceId: null, instanceType: null, zone: null, lifecycle: 'unknown', slot: null };

/** What this agent's parts say about it now: the inputs of its gossiped state. */
export interface StateParts {
  engine: EngineSnapshot | undefined;
  /** The agent drains (SIGTERM, notice or surplus); an engine draining on its own counts too. */
  draining: boolean;
  providerInfo: ProviderInfo | undefined;
  interruption: StateBody['interruption'];
  launches: StateBody['launches'];
  fenced: StateBody['fenced'];
  suspects: StateBody['suspects'] | undefined;
  scale: StateBody['scale'] | undefined;
  apiUrl: string;
  agentVersion: string;
}

/** The state body the agent gossips every heartbeat and on every change. */
export function stateBodyOf(p: StateParts): StateBody {
  const e = p.engine;
  return {
    draining: e?.state === 'draining' || p.draining,
    provider: p.providerInfo ?? STATIC_NODE,
    engine: e === undefined
      ? { state: 'stopped', models: [], inStateMs: 0 }
      : { state: e.state, models: e.models, inStateMs: Math.max(0, Math.round(e.inStateMs)), ...(e.version !== null ? { version: e.version } : {}) },
    load: loadOf(e),
    interruption: p.interruption,
    launches: p.launches,
    fenced: p.fenced,
    ...(p.suspects !== undefined ? { suspects: p.suspects } : {}),
    ...(p.scale !== undefined ? { scale: p.scale } : {}),
    apiUrl: p.apiUrl,
    agentVersion: p.agentVersion,
  };
}

/** The engine's load as gossiped: a KV-cache share clamped to 0..1; a node without an engine serves nothing. */
export function loadOf(engine: EngineSnapshot | undefined): StateBody['load'] {
  if (engine === undefined) return { running: null, waiting: null, kvCacheUsage: null, inFlight: 0, capacity: 1 };
  const kv = engine.load.kvCacheUsage;
  return { running: engine.load.running, waiting: engine.load.waiting, kvCacheUsage: kv === null ? null : Math.min(1, Math.max(0, kv)), inFlight: engine.inFlight, capacity: engine.capacity };
}
