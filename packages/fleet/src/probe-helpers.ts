import type { PeerSnapshot } from './membership.js';
import { hash32 } from './routing.js';

/** Peers asked to reach a silent peer before its instance is terminated (SWIM's k). */
export const INDIRECT_PROBE_HELPERS = 3;

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
