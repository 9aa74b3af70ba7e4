import type { Rng } from '@synkti/interface';
import type { LoadInfo } from '@synkti/protocol';
import { LOAD_CHANGE_SHARE } from './constants.js';
import { loadPublishPeriodMs, type PeerSnapshot } from './membership.js';

/** Bounded-load factor: no peer takes more than c × the mean load through affinity. */
export const DEFAULT_AFFINITY_LOAD_FACTOR = 1.25;
/** Virtual nodes per peer on the hash ring; enough for an even spread at small fleet sizes. */
export const RING_VNODES_PER_PEER = 64;
/** Candidates the gateway keeps: the first choice plus retries (at most two). */
export const MAX_ROUTE_CANDIDATES = 3;

export interface RouteCandidate {
  peerId: string;
  /** Load normalised by capacity, the lower the better. */
  score: number;
}

export interface RouteRequest {
  model: string;
  /** Requests this chooser has in flight to each peer (its own, not yet in the gossiped load). */
  inFlight: ReadonlyMap<string, number>;
  /** A session key (x-session-id or the `user` field) for prefix-cache affinity; none means no affinity. */
  affinityKey?: string | undefined;
  affinityLoadFactor?: number;
  /** Peers to leave out (e.g. the one that just failed). */
  exclude?: ReadonlySet<string>;
}

/** Healthy peers that serve `model`. Draining and interrupted peers are never healthy. */
export function routeCandidates(peers: readonly PeerSnapshot[], model: string): PeerSnapshot[] {
  return peers.filter((p) => p.healthy && p.state.engine.models.includes(model));
}

/**
 * Gossiped engine load plus what this chooser has sent since, per unit of capacity; a KV cache
 * fuller than that is the score instead. Long contexts fill the cache before the sequence slots,
 * and a peer near a full cache preempts (recomputes) running requests, so it must not look free.
 */
export function loadScore(peer: PeerSnapshot, inFlight: ReadonlyMap<string, number>): number {
  const load = peer.state.load;
  const engineLoad = engineSequences(load);
  const sequences = (engineLoad + (inFlight.get(peer.peerId) ?? 0)) / Math.max(1, load.capacity);
  return Math.max(sequences, load.kvCacheUsage ?? 0);
}

/** Sequences the engine runs or queues, as routing counts them. */
function engineSequences(load: LoadInfo): number {
  return (load.running ?? load.inFlight) + (load.waiting ?? 0);
}

/**
 * Whether the load moved enough since `published` that peers should hear it before the next
 * keep-alive: by LOAD_CHANGE_SHARE of capacity (at least one sequence) or of the KV cache, or a
 * new capacity. Smaller moves change no routing choice worth a message to every node.
 */
export function loadMoved(published: LoadInfo, current: LoadInfo): boolean {
  if (published.capacity !== current.capacity) return true;
  const step = Math.max(1, LOAD_CHANGE_SHARE * current.capacity);
  if (Math.abs(engineSequences(current) - engineSequences(published)) >= step) return true;
  return Math.abs((current.kvCacheUsage ?? 0) - (published.kvCacheUsage ?? 0)) >= LOAD_CHANGE_SHARE;
}

/**
 * Whether an agent should publish its state now for its load: it moved (loadMoved) since the
 * last state it published, and that state is at least loadPublishPeriodMs old by its own clock.
 */
export function loadPublishDue(published: { load: LoadInfo; sentAt: number }, current: LoadInfo, now: number, heartbeatMs: number, fleetSize: number): boolean {
  return now - published.sentAt >= loadPublishPeriodMs(heartbeatMs, fleetSize) && loadMoved(published.load, current);
}

/**
 * Chooses where a request goes: the first element serves it, the next ones are retries in
 * order. With an affinity key, the key's owner on a bounded-load consistent-hash ring comes
 * first; otherwise the power of two choices on load, so many gateways acting on the same
 * stale view do not herd onto one peer. Pure: the randomness is the given `rng`.
 */
export function chooseRoute(peers: readonly PeerSnapshot[], request: RouteRequest, rng: Rng): RouteCandidate[] {
  const candidates = routeCandidates(peers, request.model)
    .filter((p) => !request.exclude?.has(p.peerId))
    .map((p) => ({ peerId: p.peerId, score: loadScore(p, request.inFlight), load: p }));
  if (candidates.length === 0) return [];
  let first: (typeof candidates)[number] | undefined;
  if (request.affinityKey !== undefined && request.affinityKey !== '') {
    first = boundedLoadOwner(candidates, request.affinityKey, request.affinityLoadFactor ?? DEFAULT_AFFINITY_LOAD_FACTOR, request.inFlight);
  }
  first ??= powerOfTwo(candidates, rng);
  const rest = candidates.filter((c) => c !== first).sort((a, b) => a.score - b.score || (a.peerId < b.peerId ? -1 : 1));
  return [first, ...rest].slice(0, MAX_ROUTE_CANDIDATES).map(({ peerId, score }) => ({ peerId, score }));
}

function powerOfTwo<T extends RouteCandidate>(candidates: T[], rng: Rng): T {
  if (candidates.length === 1) return candidates[0]!;
  const i = Math.floor(rng() * candidates.length);
  let j = Math.floor(rng() * (candidates.length - 1));
  if (j >= i) j++;
  const a = candidates[i]!;
  const b = candidates[j]!;
  return b.score < a.score ? b : a;
}

/**
 * Consistent hashing with bounded loads (Mirrokni, Thorup, Zadimoghaddam 2018): walk the ring
 * from the key's point and take the first peer whose load is within c × the mean. Loads are
 * absolute request counts (gossiped plus own in flight).
 */
function boundedLoadOwner<T extends RouteCandidate & { load: PeerSnapshot }>(candidates: T[], key: string, factor: number, inFlight: ReadonlyMap<string, number>): T | undefined {
  const loads = new Map(candidates.map((c) => [c.peerId, absoluteLoad(c.load, inFlight)]));
  const total = [...loads.values()].reduce((a, b) => a + b, 0);
  const bound = affinityBound(total, candidates.length, factor);
  const ring = buildRing(candidates.map((c) => c.peerId));
  const point = hash32(key);
  let start = ring.findIndex((v) => v.point >= point);
  if (start < 0) start = 0;
  const byId = new Map(candidates.map((c) => [c.peerId, c]));
  const tried = new Set<string>();
  for (let k = 0; k < ring.length && tried.size < candidates.length; k++) {
    const { peerId } = ring[(start + k) % ring.length]!;
    if (tried.has(peerId)) continue;
    tried.add(peerId);
    if ((loads.get(peerId) ?? 0) + 1 <= bound) return byId.get(peerId);
  }
  return undefined;
}

/**
 * The most requests a peer may hold and still take an affinity request: c × the mean (counting
 * the new request, as the paper does), plus one request of slack, because gossiped load lags by
 * up to a heartbeat and at low load a single stale request would otherwise break affinity.
 */
export function affinityBound(totalLoad: number, peers: number, factor: number): number {
  return Math.ceil((factor * (totalLoad + 1)) / peers) + AFFINITY_SLACK_REQUESTS;
}

/** See affinityBound. */
export const AFFINITY_SLACK_REQUESTS = 1;

function absoluteLoad(peer: PeerSnapshot, inFlight: ReadonlyMap<string, number>): number {
  const load = peer.state.load;
  return (load.running ?? load.inFlight) + (load.waiting ?? 0) + (inFlight.get(peer.peerId) ?? 0);
}

interface RingPoint {
  point: number;
  peerId: string;
}

const ringCache = new Map<string, RingPoint[]>();

function buildRing(peerIds: string[]): RingPoint[] {
  const cacheKey = [...peerIds].sort().join(',');
  const cached = ringCache.get(cacheKey);
  if (cached !== undefined) return cached;
  const ring: RingPoint[] = [];
  for (const peerId of peerIds) {
    for (let v = 0; v < RING_VNODES_PER_PEER; v++) ring.push({ point: hash32(`${peerId}#${v}`), peerId });
  }
  ring.sort((a, b) => a.point - b.point || (a.peerId < b.peerId ? -1 : 1));
  if (ringCache.size > 64) ringCache.clear();
  ringCache.set(cacheKey, ring);
  return ring;
}

/** FNV-1a, 32 bit: stable across processes and machines, which the ring needs. */
export function hash32(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  // Final avalanche (murmur3 fmix32) so similar keys spread over the ring.
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}
