import type { FleetEvent, PeerSnapshot } from '@synkti/fleet';

/** What the gateway needs to know about the fleet; the agent provides it from its view. */
export interface FleetSource {
  readonly selfId: string;
  readonly fleet: string;
  now(): number;
  peers(): PeerSnapshot[];
  events(): readonly FleetEvent[];
}

export interface FleetPeerJson {
  peerId: string;
  self: boolean;
  status: PeerSnapshot['status'];
  healthy: boolean;
  lastSeenMs: number;
  engine: PeerSnapshot['state']['engine'];
  models: string[];
  load: PeerSnapshot['state']['load'];
  draining: boolean;
  interruption: PeerSnapshot['state']['interruption'];
  provider: PeerSnapshot['state']['provider'];
  launches: PeerSnapshot['state']['launches'];
  apiUrl: string | null;
  addrs: string[];
  agentVersion: string;
  incarnation: number;
  seq: number;
}

export interface FleetJson {
  fleet: string;
  self: string;
  now: number;
  peers: FleetPeerJson[];
  events: readonly FleetEvent[];
}

export function fleetJson(source: FleetSource): FleetJson {
  const peers = source.peers().map(
    (p): FleetPeerJson => ({
      peerId: p.peerId,
      self: p.peerId === source.selfId,
      status: p.status,
      healthy: p.healthy,
      lastSeenMs: p.ageMs,
      engine: p.state.engine,
      models: p.state.engine.models,
      load: p.state.load,
      draining: p.state.draining,
      interruption: p.state.interruption,
      provider: p.state.provider,
      launches: p.state.launches,
      apiUrl: p.state.apiUrl,
      addrs: p.state.addrs,
      agentVersion: p.state.agentVersion,
      incarnation: p.state.incarnation,
      seq: p.state.seq,
    }),
  );
  return { fleet: source.fleet, self: source.selfId, now: source.now(), peers, events: source.events() };
}

/** Models served by healthy peers, sorted: what /v1/models lists and /readyz needs. */
export function healthyModels(source: FleetSource): string[] {
  return [...new Set(source.peers().filter((p) => p.healthy).flatMap((p) => p.state.engine.models))].sort();
}
