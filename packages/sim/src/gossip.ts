import { HEARTBEAT_MS, HOUR_MS } from './constants.js';
import { compareVersions, defaultMembershipTimings, keepAlivePeriodMs, neighbourProbeDetectionMs, type PeerFacts, silenceLimits, type SilenceLimits } from '@synkti/fleet';
import { hear } from './core.js';
import { exponential } from './random.js';
import { deletePeer, dropIndex, setPeer } from './view.js';
import { emptyView, schedule, type SimNode, type Snapshot, type ViewEntry, type World } from './world.js';

/** Gossip latency of one message to a side: base + jitter, plus a heartbeat per lost copy. */
export function gossipDelay(w: World): number {
  const c = w.config;
  let d = c.gossipDelayMs + w.rng() * c.gossipJitterMs;
  while (w.rng() < c.gossipLoss) d += HEARTBEAT_MS;
  return d;
}

export function snapshotOf(node: SimNode, leaving: boolean): Snapshot {
  return { peerId: node.peerId, seq: node.seq, leaving, entry: makeEntry(node, true) };
}

function makeEntry(node: SimNode, alive: boolean): ViewEntry {
  const warm = node.state === 'warm';
  return {
    facts: peerFacts(node.peerId, alive, false, node.interrupted, node.draining, node.slot, node.inst.id, node.incarnation, node.spotReturn),
    surplus: { peerId: node.peerId, alive, interrupted: node.interrupted, noticedAt: node.noticedAt, draining: node.draining, warm, slot: node.slot },
    warm,
    noticedAt: node.noticedAt,
    records: node.records.slice(),
    seq: node.seq,
  };
}

/**
 * Every peer's facts with the same fields in the same order (the optional ones given as false):
 * the rule's loops over 1,000 peers read them, and objects of a few different shapes made every
 * one of those reads slow.
 */
function peerFacts(peerId: string, alive: boolean, dead: boolean, interrupted: PeerFacts['interrupted'], draining: boolean, slot: string, instanceId: string | null, incarnation: number, spotReturn: boolean): PeerFacts {
  return { peerId, alive, dead, interrupted, draining, slot, instanceId, incarnation, spotReturn };
}

function withFacts(f: PeerFacts, alive: boolean, dead: boolean): PeerFacts {
  return peerFacts(f.peerId, alive, dead, f.interrupted, f.draining, f.slot!, f.instanceId, f.incarnation, f.spotReturn === true);
}

/** The node announces its state: its own side learns it after a gossip delay (its own records at once). */
export function publish(w: World, node: SimNode, leaving = false): void {
  node.seq++;
  const snap = snapshotOf(node, leaving);
  schedule(w, w.now + gossipDelay(w), { k: 'deliver', side: node.side, snap });
}

/** The launcher knows its own launches without waiting for gossip. */
export function publishNow(w: World, node: SimNode): void {
  node.seq++;
  apply(w, node.side, snapshotOf(node, false));
}

export function apply(w: World, side: number, snap: Snapshot): void {
  const node = w.nodes.get(snap.peerId);
  if (node !== undefined && node.side !== side && node.state !== 'gone') return; // cut off by a partition
  if (node !== undefined && node.state === 'gone' && !snap.leaving) return; // sent before it left, overtaken by its goodbye
  const view = w.views[side]!;
  const known = view.peers.get(snap.peerId);
  // The fleet's version order: a newer incarnation, else a higher sequence number, replaces a state.
  if (known !== undefined && compareVersions({ incarnation: snap.entry.facts.incarnation, seq: snap.seq }, { incarnation: known.facts.incarnation, seq: known.seq }) <= 0) return;
  if (snap.leaving) deletePeer(view, snap.peerId);
  else {
    setPeer(view, snap.peerId, snap.entry);
    hear(w, side, snap.entry.facts);
    // Engine warmth is no input of the replacement rule; it only matters to the surplus rule when someone is at risk.
    if (known !== undefined && !ruleInputChanged(known, snap.entry) && view.lastAtRisk === 0) return;
  }
  requestEval(w, side, w.now);
}

/** Agents evaluate the rule on their heartbeat tick: every change seen within one tick is evaluated once. */
function ruleInputChanged(a: ViewEntry, b: ViewEntry): boolean {
  const f = a.facts;
  const g = b.facts;
  if (f.alive !== g.alive || f.interrupted !== g.interrupted || f.draining !== g.draining || f.slot !== g.slot) return true;
  if (a.records.length !== b.records.length) return true;
  return a.records.some((r, i) => r.token !== b.records[i]!.token);
}

export function requestEval(w: World, side: number, wanted: number): void {
  const at = Math.ceil(wanted / HEARTBEAT_MS) * HEARTBEAT_MS;
  const view = w.views[side]!;
  if (view.evalAt >= w.now && view.evalAt <= at) return;
  view.evalAt = at;
  schedule(w, at, { k: 'eval', side, at });
}

/**
 * The fleet's own silence limits for a fleet of `fleetSize` (membership's `silenceLimits`, default
 * timings, each agent announcing its keep-alive period as the mesh does when it is longer than a
 * heartbeat).
 */
function silenceFor(fleetSize: number): { beatMs: number; limits: SilenceLimits } {
  const beatMs = keepAlivePeriodMs(HEARTBEAT_MS, fleetSize);
  return { beatMs, limits: silenceLimits(defaultMembershipTimings, beatMs > HEARTBEAT_MS ? beatMs : undefined) };
}

/**
 * Silence: the peer's states stop reaching `side` and its connections there stay open (a network
 * cut). A neighbour's probe finds it first (`neighbourProbeDetectionMs`), or silence does if that
 * is sooner: it turns suspect then, dead `deadAfterMs` after the suspicion unless silence makes it
 * dead sooner, and is forgotten at the silence limit — the fleet's own rules.
 */
export function goSilent(w: World, side: number, peerId: string): void {
  const entry = w.views[side]!.peers.get(peerId);
  if (entry === undefined) return;
  const { beatMs, limits: silence } = silenceFor(w.views[side]!.peers.size);
  // Its last keep-alive came up to a keep-alive period ago.
  const lastHeard = w.now - w.rng() * beatMs;
  const suspectAt = Math.min(lastHeard + silence.suspectAfterMs, w.now + neighbourProbeDetectionMs(w.rng()));
  const deadAt = Math.min(lastHeard + silence.deadAfterMs, suspectAt + defaultMembershipTimings.deadAfterMs);
  schedule(w, suspectAt, { k: 'silent', side, peerId, seq: entry.seq, deadAt, forgetAt: lastHeard + silence.forgetAfterMs });
}

export function onSilent(w: World, side: number, peerId: string, seq: number, deadAt: number, forgetAt: number): void {
  const view = w.views[side]!;
  const entry = view.peers.get(peerId);
  if (entry === undefined || entry.seq !== seq || !entry.facts.alive) return;
  setPeer(view, peerId, { ...entry, facts: withFacts(entry.facts, false, entry.facts.dead === true), surplus: { ...entry.surplus, alive: false } });
  schedule(w, deadAt, { k: 'dead', side, peerId, seq });
  schedule(w, forgetAt, { k: 'forget', side, peerId, seq });
  requestEval(w, side, w.now);
}

/** Silent past deadAfter: dead, no longer merely suspect (the rule may fence its instance). */
export function onDead(w: World, side: number, peerId: string, seq: number): void {
  const view = w.views[side]!;
  const entry = view.peers.get(peerId);
  if (entry === undefined || entry.seq !== seq || entry.facts.alive) return;
  setPeer(view, peerId, { ...entry, facts: withFacts(entry.facts, entry.facts.alive, true) });
  requestEval(w, side, w.now);
}

export function onForget(w: World, side: number, peerId: string, seq: number): void {
  const view = w.views[side]!;
  const entry = view.peers.get(peerId);
  if (entry !== undefined && entry.seq === seq && !entry.facts.alive) {
    deletePeer(view, peerId);
    requestEval(w, side, w.now);
  }
}

/** A partition cuts a random minority (at most half of the live agents) off from the rest. */
export function startPartition(w: World): void {
  if (w.partitioned) return;
  const live = [...w.nodes.values()].filter((n) => n.state !== 'gone');
  const size = Math.floor(w.rng() * (live.length / 2)) + (live.length > 1 ? 1 : 0);
  if (size === 0 || size * 2 > live.length) return;
  w.partitioned = true;
  w.partitionedAt = w.now;
  w.counters.partitions++;
  const minority = new Set<string>();
  while (minority.size < size) minority.add(live[Math.floor(w.rng() * live.length)]!.peerId);
  const side1 = w.views[1]!;
  const side0 = w.views[0]!;
  side1.peers = new Map(side0.peers);
  dropIndex(side1);
  side1.core = side0.core;
  side1.target = w.target;
  for (const n of live) {
    if (minority.has(n.peerId)) n.side = 1;
    goSilent(w, n.side === 1 ? 0 : 1, n.peerId);
  }
  schedule(w, w.now + exponential(w.rng, w.config.partitionMeanMs), { k: 'partition-end' });
}

export function endPartition(w: World): void {
  if (!w.partitioned) return;
  w.partitioned = false;
  for (const n of w.nodes.values()) {
    if (n.state === 'gone' || n.side === 0) continue;
    n.side = 0;
    n.seq++;
    schedule(w, w.now + gossipDelay(w), { k: 'deliver', side: 0, snap: snapshotOf(n, false) });
  }
  w.views[1] = emptyView();
  w.restore.reference = Math.max(w.restore.reference, w.now);
  if (w.config.partitionRatePerHour > 0) {
    schedule(w, w.now + exponential(w.rng, HOUR_MS / w.config.partitionRatePerHour), { k: 'partition-start' });
  }
}
