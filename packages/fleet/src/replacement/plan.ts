import { LAUNCH_RECORD_MAX_AGE_MS, MAX_LAUNCHES_PER_PLAN, MAX_TARGET, PROVIDER_LIST_LAG_MS } from './constants.js';
import { assignSlots, dedupeRecords, isActive, isCounted } from './slots.js';
import { launchToken } from './token.js';
import type {
  HoldReason,
  LaunchDecision,
  LaunchRecord,
  PeerFacts,
  ProviderInstance,
  ReplacementInput,
  ReplacementPlan,
  SlotMemory,
} from './types.js';

/**
 * The replacement rule (design §3), pure: same input, same plan; no clock, no randomness.
 *
 *   capacity = alive peers without a notice (and not draining) + launches in flight not timed out
 *   deficit  = target - capacity
 *
 * The agent launches only when it is the lowest peer ID among peers alive, not interrupted
 * and not draining, and either it sees a quorum (alive peers > target / 2) or the provider
 * confirms the deficit (pending + running < target). Without quorum it launches at most
 * `target - providerCount`.
 *
 * The provider is ground truth (`providerSlots`, when the agent could list it). A slot free in
 * the view is launched into only if every instance the provider lists in it is known lost:
 *   - its agent gossips an interruption notice or is draining (it leaves on its own), or
 *   - with a strict quorum only (counted peers holding more than half the slots: two sides
 *     of a partition cannot both have it, while mere alive peers can exceed the target): its
 *     agent is dead in this view — gone from membership (dead for more
 *     than `deadAfter`) while remembered as the slot's holder, or never heard of and launched
 *     more than the launch timeout ago. Such an instance is frozen, crashed or cut off by a
 *     partition: the plan *fences* it (`LaunchDecision.fence`: terminate, then launch), so the
 *     slot never holds two live instances and a frozen one is not left running (and billed).
 *     Only a side with quorum fences; the minority it cuts off would be surplus after the heal.
 * Any other listed instance — a suspect agent, an instance pending for a launch this view does
 * not see (made on the other side of a partition), an agent that joined over there — holds the
 * slot: no launch, with or without quorum. This closes the double launch in which the two
 * sides of a partition named different holders (`replaces`) and so derived different tokens.
 *
 * Each free slot gets one decision whose tokens derive only from shared facts: fleet, slot,
 * the instance it replaces, the generation and the placement index. `replaces` is the slot's
 * latest holder in the view and `memory` — which `rememberListed` also feeds from every
 * provider listing, the one witness both sides of a partition share (gossip alone once let two
 * sides name different holders, derive different tokens and launch twice).
 *
 * Generation: 0 for the first attempt at (slot, replaces). A launch that times out stays in
 * its launcher's gossip (`LaunchRecord.generation`) until a later generation supersedes it,
 * so every peer computes the next generation as 1 + the highest generation gossiped for that
 * (slot, replaces) — a fact they share. With a listing that carries tokens, a launch whose
 * token the provider stopped listing (`providerListedAt` at least `PROVIDER_LIST_LAG_MS` after
 * it started) failed before joining and is retried at once rather than after the timeout; one
 * whose listed instance is a peer in view has joined. If the launcher died and its records
 * went with it, the next launcher restarts at generation 0: the provider returns the earlier
 * instance for that token (idempotency), the record fails once more and generation 1 follows;
 * this costs one provider lag (one timeout without tokens), never a second instance.
 */
export function planReplacement(input: ReplacementInput): ReplacementPlan {
  const target = Math.max(0, Math.min(MAX_TARGET, Math.floor(input.target)));
  const records = dedupeRecords(input.launches);
  const legacySlots = isSlotList(input.providerSlots) ? new Set(input.providerSlots) : null;
  const listing = input.providerSlots == null || legacySlots !== null ? null : indexListing(input.providerSlots as readonly ProviderInstance[]);
  const peerByInstance = listing === null ? null : indexPeers(input.peers);
  const settled = new Set<string>();
  const active = records.filter((r) => {
    if (!isActive(r, input.now, input.launchTimeoutMs)) return false;
    if (listing === null) return true;
    const inst = listing.byToken.get(r.token);
    if (inst === undefined) return !launchFailed(r, input);
    if (peerByInstance!.has(inst.instanceId)) {
      settled.add(r.token); // its agent joined: the peer counts, not the record
      return false;
    }
    return true;
  });
  const counted: PeerFacts[] = [];
  let aliveCount = 0;
  let launcher: string | null = null;
  for (const p of input.peers) {
    if (p.alive) aliveCount++;
    if (!isCounted(p)) continue;
    counted.push(p);
    if (launcher === null || p.peerId < launcher) launcher = p.peerId;
  }
  const slots = assignSlots(counted, active, target);
  for (const t of slots.joined) settled.add(t);
  const quorum = aliveCount > target / 2;
  // Fencing needs a quorum two sides of a partition cannot both have: slots held by counted
  // peers (alive peers may exceed the target: at-risk, draining and surplus ones are alive too).
  const fenceQuorum = slots.seated > target / 2;
  const providerConfirms = input.providerCount !== null && input.providerCount < target;
  const base = {
    settle: settleOwn(input, records, settled),
    launcher,
    capacity: slots.capacity,
    deficit: target - slots.capacity,
    quorum,
    providerConfirms,
    freeSlots: slots.free.map(String),
  };
  const hold = (reason: HoldReason): ReplacementPlan => ({ ...base, launches: [], hold: reason });

  if (!input.peers.some((p) => p.peerId === input.self)) return hold('self-unknown');
  if (slots.free.length === 0) return hold('no-deficit');
  if (launcher !== input.self && input.assumeLauncher !== true) return hold('not-lowest');
  if (!quorum && !providerConfirms) return hold('no-quorum');

  const eligible: { slot: string; gate: Gate | null }[] = [];
  const activeTokens = listing === null ? null : new Set(active.map((r) => r.token));
  for (const i of slots.free) {
    const slot = String(i);
    if (listing === null) {
      if (legacySlots === null || quorum || !legacySlots.has(slot)) eligible.push({ slot, gate: null });
    }
    else {
      const gate = providerGate(slot, listing, peerByInstance!, activeTokens!, fenceQuorum, input);
      if (gate !== null) eligible.push({ slot, gate });
    }
  }
  if (eligible.length === 0) return hold('provider-occupied');
  let limit = MAX_LAUNCHES_PER_PLAN - active.filter((r) => r.launcher === input.self).length;
  if (!quorum && input.providerCount !== null) limit = Math.min(limit, target - input.providerCount);
  const chosen = eligible.slice(0, Math.max(0, limit));
  if (chosen.length === 0) return hold('provider-full');
  const launches = chosen.map((c) => decide(input, records, c.slot, c.gate)).filter((d) => d.attempts.length > 0);
  if (launches.length === 0) return hold('no-placements');
  return { ...base, launches, hold: null };
}

function isSlotList(list: ReplacementInput['providerSlots']): list is readonly string[] {
  return list != null && list.length > 0 && typeof list[0] === 'string';
}

/** The provider's listing indexed by slot and token (memoised on the array: same input, same index). */
interface Listing {
  bySlot: Map<string, ProviderInstance[]>;
  byToken: Map<string, ProviderInstance>;
}

const listingCache = new WeakMap<readonly ProviderInstance[], Listing>();

function indexListing(list: readonly ProviderInstance[]): Listing {
  let idx = listingCache.get(list);
  if (idx !== undefined) return idx;
  idx = { bySlot: new Map(), byToken: new Map() };
  for (const inst of list) {
    if (inst.slot !== null) {
      const at = idx.bySlot.get(inst.slot);
      if (at === undefined) idx.bySlot.set(inst.slot, [inst]);
      else at.push(inst);
    }
    if (inst.token != null) idx.byToken.set(inst.token, inst);
  }
  listingCache.set(list, idx);
  return idx;
}

function indexPeers(peers: readonly PeerFacts[]): Map<string, PeerFacts> {
  const idx = new Map<string, PeerFacts>();
  for (const p of peers) if (p.instanceId !== null) idx.set(p.instanceId, p);
  return idx;
}

/** An active record the provider does not list, long enough after it started that it should: its instance is gone. */
function launchFailed(r: LaunchRecord, input: ReplacementInput): boolean {
  const at = input.providerListedAt;
  return at != null && at - r.startedAt >= PROVIDER_LIST_LAG_MS;
}

/** What the provider's listing allows in one free slot (null: a listed instance holds it). */
interface Gate {
  /** Listed instances to terminate before launching (dead in a view with quorum), ascending. */
  fence: string[];
}

function providerGate(
  slot: string,
  listing: Listing,
  peerByInstance: ReadonlyMap<string, PeerFacts>,
  activeTokens: ReadonlySet<string>,
  fenceQuorum: boolean,
  input: ReplacementInput,
): Gate | null {
  const listed = listing.bySlot.get(slot);
  if (listed === undefined) return { fence: [] };
  const fence: string[] = [];
  for (const inst of listed) {
    if (inst.token != null && activeTokens.has(inst.token)) return null; // a launch in flight this view counts elsewhere
    const peer = peerByInstance.get(inst.instanceId);
    if (peer !== undefined) {
      if (peer.interrupted !== null || peer.draining) continue; // it leaves on its own
      return null; // alive, or suspect (not yet dead): it may still hold the slot
    }
    if (!fenceQuorum) return null;
    const remembered = input.memory?.get(slot)?.instanceId === inst.instanceId;
    const overdue = inst.launchedAt != null && input.now - inst.launchedAt >= input.launchTimeoutMs;
    if (!remembered && !overdue) return null; // pending for a launch this view does not see, or joined elsewhere
    fence.push(inst.instanceId);
  }
  return { fence: fence.sort() };
}

function decide(input: ReplacementInput, records: readonly LaunchRecord[], slot: string, gate: Gate | null): LaunchDecision {
  const replaces = lastHolder(slot, input.peers, input.memory);
  const generation = nextGeneration(records, slot, replaces);
  const placements = input.placementsFor?.(slot) ?? input.placements;
  const attempts = placements.map((placement, placementIndex) => ({
    placementIndex,
    placement,
    token: launchToken({ fleet: input.fleet, slot, replaces, generation, placementIndex }),
  }));
  const token = attempts[0]?.token ?? launchToken({ fleet: input.fleet, slot, replaces, generation, placementIndex: 0 });
  return { kind: 'launch', slot, replaces, generation, token, placementIndex: 0, attempts, fence: gate?.fence ?? [] };
}

/** The instance that last held `slot`: the declaring peer (or remembered holder) with the latest incarnation. */
export function lastHolder(slot: string, peers: readonly PeerFacts[], memory?: SlotMemory): string | null {
  let best: { instanceId: string; incarnation: number } | undefined = memory?.get(slot);
  for (const p of peers) {
    if (p.slot !== slot || p.instanceId === null) continue;
    const better =
      best === undefined ||
      p.incarnation > best.incarnation ||
      (p.incarnation === best.incarnation && p.instanceId > best.instanceId);
    if (better) best = { instanceId: p.instanceId, incarnation: p.incarnation };
  }
  return best?.instanceId ?? null;
}

/** 1 + the highest generation gossiped for (slot, replaces), or 0 when none was. */
export function nextGeneration(records: readonly LaunchRecord[], slot: string, replaces: string | null): number {
  let max = -1;
  for (const r of records) if (r.slot === slot && r.replaces === replaces && r.generation > max) max = r.generation;
  return max + 1;
}

/**
 * Remembers each listed instance as its slot's holder when it is newer than the one known
 * (ordered by `launchedAt`, else by `listedAt`, the time the listing was taken, then instance
 * ID). Every agent polls the same provider, so the latest instance each slot ever had is a
 * fact they share even when a partition keeps their gossip apart: a token's `replaces` then
 * names the same instance on both sides, and two sides that both find a slot empty launch one
 * instance, not two. Call it after each listing, before planReplacement.
 */
export function rememberListed(memory: SlotMemory, listing: readonly ProviderInstance[], listedAt: number): SlotMemory {
  let next: Map<string, { instanceId: string; incarnation: number }> | undefined;
  for (const inst of listing) {
    if (inst.slot === null) continue;
    const known = (next ?? memory).get(inst.slot);
    const at = inst.launchedAt ?? listedAt;
    if (known !== undefined && (known.instanceId === inst.instanceId || known.incarnation > at)) continue;
    if (known !== undefined && known.incarnation === at && known.instanceId > inst.instanceId) continue;
    next ??= new Map(memory);
    next.set(inst.slot, { instanceId: inst.instanceId, incarnation: at });
  }
  return next ?? memory;
}

/** Remembers each slot's latest holder so `replaces` survives membership forgetting a dead peer. */
export function rememberHolders(memory: SlotMemory, peers: readonly PeerFacts[]): SlotMemory {
  let next: Map<string, { instanceId: string; incarnation: number }> | undefined;
  for (const p of peers) {
    if (p.slot === null || p.instanceId === null) continue;
    const known = (next ?? memory).get(p.slot);
    if (known !== undefined && (known.incarnation > p.incarnation || known.instanceId === p.instanceId)) continue;
    if (known !== undefined && known.incarnation === p.incarnation && known.instanceId > p.instanceId) continue;
    next ??= new Map(memory);
    next.set(p.slot, { instanceId: p.instanceId, incarnation: p.incarnation });
  }
  return next ?? memory;
}

/** Own records to stop gossiping: joined, superseded by a later generation, or older than the retention. */
function settleOwn(input: ReplacementInput, records: readonly LaunchRecord[], joined: ReadonlySet<string>): string[] {
  if (!records.some((r) => r.launcher === input.self)) return [];
  const out: string[] = [];
  for (const r of records) {
    if (r.launcher !== input.self) continue;
    const superseded = records.some(
      (o) => o.slot === r.slot && o.replaces === r.replaces && o.generation > r.generation,
    );
    if (joined.has(r.token) || superseded || input.now - r.startedAt > LAUNCH_RECORD_MAX_AGE_MS) out.push(r.token);
  }
  return out.sort();
}
