import { DEPARTED_SELF_TERMINATE_MS } from './constants.js';
import type { Listing } from './listing.js';
import type { SlotAssignment } from './slots.js';
import type { PeerFacts, ReplacementInput } from './types.js';

/**
 * Listed instances in slots a live peer already holds that nobody runs any more: an agent that
 * said goodbye but whose instance outlived its own termination, a holder dead in this view, or
 * an instance that never joined within the launch timeout. The gate fences such instances
 * before it fills a free slot; once the slot is filled they would otherwise stay billed for
 * good. The same conditions as fencing apply, and the same quorum (the caller checks it).
 * Slots held by a launch in flight are left alone: its instance may be landing. Ascending.
 */
/**
 * Peers by instance ID, built once per peer list: a simulator re-evaluates the same view many
 * times (every recheck), and at 1,000 peers rebuilding it per call was half its run time. A cache
 * keyed by the list's identity changes no result: the lists are not mutated.
 */
const byInstanceCache = new WeakMap<readonly PeerFacts[], Map<string, PeerFacts>>();

function peersByInstance(peers: readonly PeerFacts[]): Map<string, PeerFacts> {
  let map = byInstanceCache.get(peers);
  if (map === undefined) {
    map = new Map();
    for (const p of peers) if (p.instanceId !== null) map.set(p.instanceId, p);
    byInstanceCache.set(peers, map);
  }
  return map;
}

export function strayInstances(input: ReplacementInput, listing: Listing, slots: SlotAssignment, activeTokens: ReadonlySet<string>): string[] {
  if (slots.seated === 0) return [];
  let byInstance: Map<string, PeerFacts> | undefined;
  const out: string[] = [];
  for (let i = 0; i < listing.head.length; i++) {
    if (!slots.heldByPeer(i)) continue;
    for (let k = listing.head[i]!; k >= 0; k = listing.next[k]!) {
      const inst = listing.list[k]!;
      byInstance ??= peersByInstance(input.peers);
      const peer = byInstance.get(inst.instanceId);
      // A peer in view that is not dead past deadAfter is no stray (the surplus rule handles live
      // ones): the common case, settled before the token lookup.
      if (peer !== undefined && !(peer.dead === true && !peer.alive)) continue;
      if (inst.token != null && activeTokens.has(inst.token)) continue;
      if (peer !== undefined) {
        out.push(inst.instanceId);
        continue;
      }
      const leftAt = input.departed?.get(inst.instanceId);
      if (leftAt !== undefined) {
        if (input.now - leftAt >= DEPARTED_SELF_TERMINATE_MS) out.push(inst.instanceId);
        continue;
      }
      // Unknown to this view: gone (forgotten) or never joined; either way past the launch timeout.
      if (inst.launchedAt != null && input.now - inst.launchedAt >= input.launchTimeoutMs) out.push(inst.instanceId);
    }
  }
  return out.sort();
}
