import type { CoreView, LaunchRecord, MembershipView, PeerFacts, SurplusPeer } from '@synkti/fleet';

export interface CoreViewOptions {
  self: string;
  target: number;
  spotPrices?: ReadonlyMap<number, number>;
  /** The duelling-launcher test hook ignores others' launches, as a partitioned peer would. */
  ignoreGossipedLaunches?: boolean;
}

/** What the fleet core sees on a tick: membership's view now, as the rules' inputs. */
export function coreViewOf(view: MembershipView, now: number, options: CoreViewOptions): CoreView {
  const peers: PeerFacts[] = [];
  const surplusPeers: SurplusPeer[] = [];
  const gossiped: LaunchRecord[] = [];
  for (const p of view.snapshot(now)) {
    const s = p.state;
    const alive = p.status === 'alive';
    const interrupted = s.interruption?.kind ?? null;
    peers.push({
      peerId: p.peerId,
      alive,
      dead: p.status === 'dead',
      interrupted,
      draining: s.draining,
      slot: s.provider.slot,
      instanceId: s.provider.instanceId,
      incarnation: s.incarnation,
      firstSeenAt: p.firstSeenAt,
      ...(s.interruption?.cause === 'spot-return' ? { spotReturn: true } : {}),
    });
    surplusPeers.push({ peerId: p.peerId, alive, interrupted, noticedAt: s.interruption?.noticedAt ?? 0, draining: s.draining, warm: s.engine.state === 'warm', slot: s.provider.slot });
    if (p.peerId === options.self || options.ignoreGossipedLaunches === true) continue;
    for (const l of s.launches) gossiped.push({ ...l, launcher: p.peerId });
  }
  const departed = new Map<string, number>();
  for (const d of view.departures()) if (d.instanceId !== null) departed.set(d.instanceId, d.leftAt);
  return { peers, surplusPeers, gossiped, departed, target: options.target, ...(options.spotPrices !== undefined ? { spotPrices: options.spotPrices } : {}) };
}
