import type { PeerSnapshot } from './membership.js';
import { hash32 } from './routing.js';

/** Peers asked to reach a silent peer before its instance is terminated (SWIM's k). */
export const INDIRECT_PROBE_HELPERS = 3;

/** One connected peer is pinged this often: every node is probed by each of its ~8 neighbours in turn. */
export const NEIGHBOUR_PROBE_INTERVAL_MS = 1_000;
/** Generous: a busy peer's event loop answers late, and a late answer is not a lost node. */
export const NEIGHBOUR_PROBE_TIMEOUT_MS = 2_000;
/** Whole exchange with one helper of an indirect probe (its own ping plus the round trip). */
export const NEIGHBOUR_INDIRECT_TIMEOUT_MS = 3_000;
/** Helpers asked when a neighbour does not answer (fewer than the fence check: this only suspects). */
export const NEIGHBOUR_PROBE_HELPERS = 2;

/**
 * How long after a peer stops answering (frozen, or cut off without its connections closing) the
 * neighbour probe suspects it: the next probe of it by any neighbour (`phase` of a probe interval,
 * 0..1 — its ~8 neighbours take turns, so about one probe a second reaches it), the ping's
 * timeout, then the helpers' indirect check. The suspicion is gossiped at once. The simulator
 * schedules a cut-off peer's suspicion with this.
 */
export function neighbourProbeDetectionMs(phase: number): number {
  return Math.min(1, Math.max(0, phase)) * NEIGHBOUR_PROBE_INTERVAL_MS + NEIGHBOUR_PROBE_TIMEOUT_MS + NEIGHBOUR_INDIRECT_TIMEOUT_MS;
}

/**
 * The peers the fencer asks to reach `target` (an indirect probe): alive ones other than itself
 * and the target, up to `k`, ordered by a hash of (target, helper) so that different targets
 * spread over different helpers while one target always gets the same ones. Pure.
 */
export function indirectProbeHelpers(peers: readonly PeerSnapshot[], target: string, self: string, k: number = INDIRECT_PROBE_HELPERS): string[] {
  return peers
    .filter((p) => p.status === 'alive' && p.peerId !== target && p.peerId !== self && !p.state.leaving)
    .map((p) => ({ peerId: p.peerId, rank: hash32(`${target}|${p.peerId}`) }))
    .sort((a, b) => a.rank - b.rank || (a.peerId < b.peerId ? -1 : 1))
    .slice(0, Math.max(0, k))
    .map((p) => p.peerId);
}
