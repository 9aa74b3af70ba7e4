import { DEPARTED_SELF_TERMINATE_MS, LAUNCH_RECORD_MAX_AGE_MS, MAX_LAUNCHES_PER_PLAN, MAX_TARGET, PROVIDER_LIST_LAG_MS } from './constants.js';
import { dedupeRecords, fillSlots, isActive, slotIndex } from './slots.js';
import { type PeerPass, peerPass } from './peers.js';
import { indexListing, type Listing } from './listing.js';
import { walkOrder } from './placements.js';
export { rememberHolders, rememberListed } from './memory.js';
import { addRunning, strayInstances } from './strays.js';
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
 *     agent is dead in this view — silent past `deadAfter` (`PeerFacts.dead`), or forgotten
 *     by membership while remembered as the slot's holder, or never heard of and launched
 *     more than the launch timeout ago. Such an instance is frozen, crashed or cut off by a
 *     partition: the plan *fences* it (`LaunchDecision.fence`: terminate, then launch), so the
 *     slot never holds two live instances and a frozen one is not left running (and billed).
 *     Only a side with quorum fences; the minority it cuts off would be surplus after the heal.
 * A suspect holder whose agent started (or was first heard) within PROVIDER_LIST_LAG_MS of the
 * listing holds its slot even unlisted: the listing may not show a new instance yet
 * (`new-holder-suspect`).
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
  return planWith(input, peerPass(input.peers, ruleTarget(input.target)));
}

/** planReplacement on the pass over `input.peers` the caller already has (the fleet core asks it more). */
export function planWith(input: ReplacementInput, pass: PeerPass): ReplacementPlan {
  const target = ruleTarget(input.target);
  const records = dedupeRecords(input.launches);
  const legacySlots = isSlotList(input.providerSlots) ? new Set(input.providerSlots) : null;
  const listing = input.providerSlots == null || legacySlots !== null ? null : indexListing(input.providerSlots as readonly ProviderInstance[], target);
  // Records in flight, matched to the instance the provider lists for their token.
  const settled = new Set<string>();
  const live: LaunchRecord[] = [];
  const listedFor = new Map<string, string>(); // token -> instance ID
  for (const r of records) {
    if (!isActive(r, input.now, input.launchTimeoutMs)) continue;
    if (listing !== null) {
      const inst = listing.find(r.slot, (i) => i.token === r.token || (r.instanceId !== undefined && i.instanceId === r.instanceId));
      if (inst === undefined && launchFailed(r, input)) continue;
      if (inst !== undefined) listedFor.set(r.token, inst.instanceId);
    }
    live.push(r);
  }
  const unseen = new Set(listedFor.values()); // listed instances of records no peer in view runs (yet)
  const { aliveCount, launcher, backup, uncounted } = pass;
  // A counted peer running a record's instance holds the record's slot, so fillSlots settles
  // that record anyway: only peers that no longer count need matching here.
  if (unseen.size > 0) for (const p of uncounted) if (p.instanceId !== null) unseen.delete(p.instanceId);
  const selfKnown = launcher === input.self || input.peers.some((p) => p.peerId === input.self);
  // A record whose listed instance is a peer in view has joined (whatever its state now): the peer, not the record, counts.
  const active = listedFor.size === 0 ? live : live.filter((r) => {
    const id = listedFor.get(r.token);
    if (id === undefined || unseen.has(id)) return true;
    settled.add(r.token);
    return false;
  });
  const slots = fillSlots(pass.seats, pass.countedCount, active, target);
  for (const t of slots.joined) settled.add(t);
  const quorum = aliveCount > target / 2;
  // Fencing needs a quorum two sides of a partition cannot both have: slots held by counted
  // peers (alive peers may exceed the target: at-risk, draining and surplus ones are alive too).
  const fenceQuorum = slots.seated > target / 2;
  const providerConfirms = input.providerCount !== null && input.providerCount < target;
  const activeTokens = listing === null ? null : new Set(active.map((r) => r.token));
  const reapable = listing !== null && launcher === input.self && fenceQuorum && input.assumeLauncher !== true;
  const base = {
    strays: reapable ? strayInstances(input, listing, slots, activeTokens!, uncounted, pass) : [],
    settle: settleOwn(input, records, settled),
    launcher,
    backup,
    capacity: slots.capacity,
    deficit: target - slots.capacity,
    quorum,
    providerConfirms,
    freeSlots: slots.free.map(String),
  };
  const hold = (reason: HoldReason): ReplacementPlan => ({ ...base, launches: [], hold: reason });

  if (!selfKnown) return hold('self-unknown');
  if (slots.free.length === 0) return hold('no-deficit');
  if (launcher !== input.self && input.assumeLauncher !== true) return hold('not-lowest');
  if (!quorum && !providerConfirms) return hold('no-quorum');

  const eligible: { slot: string; gate: Gate | null }[] = [];
  const peerByInstance = listing === null ? null : listedPeers(listing, slots.free, uncounted, pass, input.peers);
  const newSuspects = listing === null ? null : newSuspectSlots(uncounted, target, input.providerListedAt ?? input.now);
  let waitingOnSuspects = 0;
  for (const i of slots.free) {
    const slot = String(i);
    if (newSuspects?.has(i) === true) {
      waitingOnSuspects++;
      continue;
    }
    if (listing === null) {
      if (legacySlots === null || quorum || !legacySlots.has(slot)) eligible.push({ slot, gate: null });
    } else {
      const gate = providerGate(i, listing, peerByInstance!, activeTokens!, fenceQuorum, input);
      if (gate !== null) eligible.push({ slot, gate });
    }
  }
  if (eligible.length === 0) return hold(waitingOnSuspects === slots.free.length ? 'new-holder-suspect' : 'provider-occupied');
  let limit = MAX_LAUNCHES_PER_PLAN - active.filter((r) => r.launcher === input.self && !slots.joined.has(r.token)).length;
  if (!quorum && input.providerCount !== null) limit = Math.min(limit, target - input.providerCount);
  const chosen = eligible.slice(0, Math.max(0, limit));
  if (chosen.length === 0) return hold('provider-full');
  const launches = chosen.map((c) => decide(input, records, c.slot, c.gate)).filter((d) => d.attempts.length > 0);
  if (launches.length === 0) return hold('no-placements');
  return { ...base, launches, hold: null };
}

/** The target as the rule takes it: a whole number of slots, at most MAX_TARGET. */
export function ruleTarget(target: number): number {
  return Math.max(0, Math.min(MAX_TARGET, Math.floor(target)));
}

function isSlotList(list: ReplacementInput['providerSlots']): list is readonly string[] {
  return list != null && list.length > 0 && typeof list[0] === 'string';
}

/**
 * The peers in view that run an instance listed in one of the free slots. A counted peer's
 * instance is tagged with the slot it declares, which it holds, so it is never listed in a free
 * slot: the few uncounted peers are searched first, the counted ones only if something is left
 * (an agent declaring another slot than its tag) — never fence a live agent.
 */
function listedPeers(listing: Listing, free: readonly number[], uncounted: readonly PeerFacts[], pass: PeerPass, peers: readonly PeerFacts[]): Map<string, PeerFacts> {
  const wanted = new Set<string>();
  for (const i of free) for (let k = listing.head[i]!; k >= 0; k = listing.next[k]!) wanted.add(listing.list[k]!.instanceId);
  const out = new Map<string, PeerFacts>();
  if (wanted.size === 0) return out;
  addRunning(out, wanted, pass, uncounted, false);
  if (wanted.size === out.size) return out;
  addRunning(out, wanted, pass, peers, true);
  return out;
}

/**
 * Slots declared by a suspect peer (silent, not yet dead) that started — by its incarnation, or
 * by when this agent first heard it, whichever is later (clocks disagree) — too recently for the
 * listing to be sure to show its instance. Its absence from the listing is then no sign that the instance is
 * gone: EC2 lists a new instance seconds after launch, and a node busy loading its model can miss
 * a heartbeat in that time. Launching into its slot would bill a second instance there (seen in CI:
 * both launchers replaced a replacement that was suspect for a moment, 3 s after it joined).
 * Such a slot waits until its holder is dead (deadAfter), as a listed suspect's does; one pass
 * over the few uncounted peers.
 */
function newSuspectSlots(uncounted: readonly PeerFacts[], target: number, listedAt: number): Set<number> | null {
  let out: Set<number> | null = null;
  for (const p of uncounted) {
    if (p.alive || p.dead === true || p.interrupted !== null || p.draining || p.instanceId === null) continue;
    if (listedAt - Math.max(p.incarnation, p.firstSeenAt ?? -Infinity) >= PROVIDER_LIST_LAG_MS) continue;
    const s = slotIndex(p.slot, target);
    if (s >= 0) (out ??= new Set()).add(s);
  }
  return out;
}

/**
 * A launch whose walk returned with an instance the provider still does not list
 * PROVIDER_LIST_LAG_MS later was terminated before it joined. Never while the walk runs (no
 * `returnedAt`): a walk slowed by throttling or timeouts may still launch. The shell confirms
 * the absence with a look-up by token before it acts on this (see Replacer).
 */
function launchFailed(r: LaunchRecord, input: ReplacementInput): boolean {
  const at = input.providerListedAt;
  return at != null && r.returnedAt !== undefined && at - r.returnedAt >= PROVIDER_LIST_LAG_MS;
}

/** What the provider's listing allows in one free slot (null: a listed instance holds it). */
interface Gate {
  /** Listed instances to terminate before launching (dead in a view with quorum), ascending. */
  fence: string[];
}

function providerGate(
  slotIdx: number,
  listing: Listing,
  peerByInstance: ReadonlyMap<string, PeerFacts>,
  activeTokens: ReadonlySet<string>,
  fenceQuorum: boolean,
  input: ReplacementInput,
): Gate | null {
  const fence: string[] = [];
  for (let k = listing.head[slotIdx]!; k >= 0; k = listing.next[k]!) {
    const inst = listing.list[k]!;
    if (inst.token != null && activeTokens.has(inst.token)) return null; // a launch in flight this view counts elsewhere
    const peer = peerByInstance.get(inst.instanceId);
    if (peer !== undefined && (peer.interrupted !== null || peer.draining)) continue; // it leaves on its own
    if (peer !== undefined && (peer.alive || peer.dead !== true)) return null; // alive, or suspect: it may still hold the slot
    const leftAt = peer === undefined ? input.departed?.get(inst.instanceId) : undefined;
    if (leftAt !== undefined && input.now - leftAt < DEPARTED_SELF_TERMINATE_MS) continue; // said goodbye: it terminates itself
    if (!fenceQuorum) return null;
    if (peer !== undefined) {
      fence.push(inst.instanceId); // dead past deadAfter
      continue;
    }
    // Fence only an instance that once joined as a peer and is gone from the view, or one that
    // never joined within the launch timeout: a listed instance still booting must be left alone.
    const held = input.memory?.get(String(slotIdx));
    const remembered = held?.instanceId === inst.instanceId && held.seenAsPeer === true;
    const overdue = inst.launchedAt != null && input.now - inst.launchedAt >= input.launchTimeoutMs;
    if (!remembered && !overdue) return null; // pending for a launch this view does not see, or joined elsewhere
    fence.push(inst.instanceId);
  }
  return { fence: fence.sort() };
}

function decide(input: ReplacementInput, records: readonly LaunchRecord[], slot: string, gate: Gate | null): LaunchDecision {
  const { replaces, spotOnly } = slotHistory(slot, input.peers, input.memory);
  const generation = nextGeneration(records, slot, replaces);
  // A per-slot policy (on-demand anchors) gives its own order; the configured list is spread over slots.
  const ordered = input.placementsFor !== undefined ? input.placementsFor(slot).map((placement, placementIndex) => ({ placement, placementIndex })) : walkOrder(input.placements, slot, input.spotPrices);
  const attempts = (spotOnly ? ordered.filter((o) => o.placement.onDemand !== true) : ordered).map(({ placement, placementIndex }) => ({
    placementIndex,
    placement,
    token: launchToken({ fleet: input.fleet, slot, replaces, generation, placementIndex, epoch: input.epoch }),
  }));
  const first = attempts[0]?.placementIndex ?? 0;
  const token = attempts[0]?.token ?? launchToken({ fleet: input.fleet, slot, replaces, generation, placementIndex: 0, epoch: input.epoch });
  return { kind: 'launch', slot, replaces, generation, token, placementIndex: first, attempts, fence: gate?.fence ?? [] };
}

/** The instance that last held `slot`: the declaring peer (or remembered holder) with the latest incarnation. */
export function lastHolder(slot: string, peers: readonly PeerFacts[], memory?: SlotMemory): string | null {
  return slotHistory(slot, peers, memory).replaces;
}

/**
 * The slot's last holder (see lastHolder) and whether its replacement walks spot placements only:
 * replacing an on-demand fallback that asked for spot with on-demand again would only churn.
 * One pass over the peers for both (a launch decision in a large fleet reads every peer).
 */
function slotHistory(slot: string, peers: readonly PeerFacts[], memory?: SlotMemory): { replaces: string | null; spotOnly: boolean } {
  let best: { instanceId: string; incarnation: number } | undefined = memory?.get(slot);
  let spotOnly = false;
  for (const p of peers) {
    if (p.slot !== slot) continue;
    if (p.spotReturn === true && p.interrupted === 'rebalance') spotOnly = true;
    if (p.instanceId === null) continue;
    const better =
      best === undefined ||
      p.incarnation > best.incarnation ||
      (p.incarnation === best.incarnation && p.instanceId > best.instanceId);
    if (better) best = { instanceId: p.instanceId, incarnation: p.incarnation };
  }
  return { replaces: best?.instanceId ?? null, spotOnly };
}

/** 1 + the highest generation gossiped for (slot, replaces), or 0 when none was. */
export function nextGeneration(records: readonly LaunchRecord[], slot: string, replaces: string | null): number {
  let max = -1;
  for (const r of records) if (r.slot === slot && r.replaces === replaces && r.generation > max) max = r.generation;
  return max + 1;
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
