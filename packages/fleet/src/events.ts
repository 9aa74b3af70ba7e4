import type { PeerSnapshot, PeerStatus } from './membership.js';

export type FleetEventKind = 'joined' | 'alive' | 'suspect' | 'dead' | 'left' | 'forgotten' | 'engine' | 'interrupted';

export interface FleetEvent {
  at: number;
  peerId: string;
  kind: FleetEventKind;
  detail: string;
}

/** What a peer looked like last time, enough to tell what changed. */
export interface PeerDigest {
  status: PeerStatus;
  engine: string;
  interrupted: boolean;
}

export function digest(peer: PeerSnapshot): PeerDigest {
  return { status: peer.status, engine: peer.state.engine.state, interrupted: peer.state.interruption !== null };
}

/**
 * The changes between two looks at the fleet, as events for logs and the dashboard. Pure:
 * the caller keeps the previous digests and passes the time.
 */
export function diffFleet(previous: ReadonlyMap<string, PeerDigest>, current: readonly PeerSnapshot[], now: number): FleetEvent[] {
  const events: FleetEvent[] = [];
  const seen = new Set<string>();
  for (const peer of current) {
    seen.add(peer.peerId);
    const before = previous.get(peer.peerId);
    const after = digest(peer);
    if (before === undefined) {
      events.push({ at: now, peerId: peer.peerId, kind: 'joined', detail: `${after.status}, engine ${after.engine}` });
      continue;
    }
    if (before.status !== after.status) events.push({ at: now, peerId: peer.peerId, kind: after.status, detail: `was ${before.status}` });
    if (before.engine !== after.engine) events.push({ at: now, peerId: peer.peerId, kind: 'engine', detail: `${before.engine} -> ${after.engine}` });
    if (!before.interrupted && after.interrupted) {
      const i = peer.state.interruption;
      events.push({ at: now, peerId: peer.peerId, kind: 'interrupted', detail: `${i?.kind ?? 'notice'}${i?.deadline != null ? ` at ${new Date(i.deadline).toISOString()}` : ''}` });
    }
  }
  for (const [peerId, before] of previous) {
    if (!seen.has(peerId)) events.push({ at: now, peerId, kind: before.status === 'dead' ? 'forgotten' : 'left', detail: `was ${before.status}` });
  }
  return events;
}
