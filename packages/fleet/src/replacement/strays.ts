import { DEPARTED_SELF_TERMINATE_MS } from './constants.js';
import type { Listing } from './listing.js';
import type { PeerPass } from './peers.js';
import { isCounted, type SlotAssignment } from './slots.js';
import type { PeerFacts, ProviderInstance, ReplacementInput } from './types.js';

/**
 * Listed instances in slots a live peer already holds that nobody runs any more: an agent that
 * said goodbye but whose instance outlived its own termination, a holder dead in this view, or
 * an instance that never joined within the launch timeout. The gate fences such instances
 * before it fills a free slot; once the slot is filled they would otherwise stay billed for
 * good. The same conditions as fencing apply, and the same quorum (the caller checks it).
 * Slots held by a launch in flight are left alone: its instance may be landing. Ascending.
 */
export function strayInstances(
  input: ReplacementInput,
  listing: Listing,
  slots: SlotAssignment,
  activeTokens: ReadonlySet<string>,
  uncounted: readonly PeerFacts[],
  pass: PeerPass,
): string[] {
  if (slots.seated === 0) return [];
  // Listed instances in held slots other than the holder's own: few, so the peers are searched
  // for those alone (a map of every peer per evaluation was a fifth of a large simulation's time).
  const candidates: ProviderInstance[] = [];
  // Slots held by a peer are those it declares (the pass knows which of them the listing shows
  // another instance in, kept between evaluations) and those loose peers were placed in.
  const held = new Set(pass.mismatched(listing));
  for (const i of slots.peersPlaced) held.add(i);
  const { head, next, list, ids } = listing;
  for (const i of [...held].sort((a, b) => a - b)) {
    if (!slots.heldByPeer(i)) continue;
    const holder = slots.holderInstance(i);
    for (let k = head[i]!; k >= 0; k = next[k]!) if (ids[k] !== holder) candidates.push(list[k]!);
  }
  if (candidates.length === 0) return [];
  const byInstance = peersRunning(uncounted, pass, input.peers, candidates);
  const out: string[] = [];
  for (const inst of candidates) {
    const peer = byInstance.get(inst.instanceId);
    // A peer in view that is not dead past deadAfter is no stray (the surplus rule handles live ones).
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
  return out.sort();
}

/**
 * The peer running each of these instances. A candidate is usually an at-risk, draining or dead
 * peer's (uncounted: few), so those are searched first; the counted peers only when something is
 * left unresolved or resolved to a dead peer — a live agent on the same instance (a restart
 * under a new peer ID) wins, so a live agent is never taken for a stray.
 */
function peersRunning(uncounted: readonly PeerFacts[], pass: PeerPass, peers: readonly PeerFacts[], instances: readonly ProviderInstance[]): Map<string, PeerFacts> {
  const wanted = new Set<string>();
  for (const inst of instances) wanted.add(inst.instanceId);
  const out = new Map<string, PeerFacts>();
  addRunning(out, wanted, pass, uncounted, false);
  let settled = 0;
  for (const p of out.values()) if (p.dead !== true) settled++;
  if (settled === wanted.size) return out;
  addRunning(out, wanted, pass, peers, true);
  return out;
}

/**
 * Sets the counted (or uncounted) peer running each wanted instance, over what `out` holds: the
 * last such peer in the view's order. Looked up in the pass, or — when several run one instance —
 * found by reading `peers` (the view, or just its uncounted peers) in order.
 */
export function addRunning(out: Map<string, PeerFacts>, wanted: ReadonlySet<string>, pass: PeerPass, peers: readonly PeerFacts[], counted: boolean): void {
  const found: PeerFacts[] = [];
  for (const id of wanted) {
    const p = pass.runningAs(id, counted);
    if (p === null) {
      for (const q of peers) if (isCounted(q) === counted && q.instanceId !== null && wanted.has(q.instanceId)) out.set(q.instanceId, q);
      return;
    }
    if (p !== undefined) found.push(p);
  }
  for (const p of found) out.set(p.instanceId!, p);
}
