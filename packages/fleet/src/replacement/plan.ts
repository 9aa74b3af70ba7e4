import { LAUNCH_RECORD_MAX_AGE_MS, MAX_LAUNCHES_PER_PLAN, MAX_TARGET } from './constants.js';
import { assignSlots, dedupeRecords, isActive, isCounted } from './slots.js';
import { launchToken } from './token.js';
import type {
  HoldReason,
  LaunchDecision,
  LaunchRecord,
  PeerFacts,
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
 * `target - providerCount` and never into a slot the provider reports occupied, so a minority
 * side of a partition whose missing peers still run launches nothing.
 *
 * Each free slot gets one decision whose tokens derive only from shared facts: fleet, slot, the
 * slot's last known holder (`replaces`), the generation and the placement index.
 *
 * Generation: 0 for the first attempt at (slot, replaces). A launch that times out stays in
 * its launcher's gossip (`LaunchRecord.generation`) until a later generation supersedes it,
 * so every peer computes the next generation as 1 + the highest generation gossiped for that
 * (slot, replaces) — a fact they share. If the launcher died and its records went with it,
 * the next launcher restarts at generation 0: the provider returns the earlier instance for
 * that token (idempotency), the record times out once more and generation 1 follows; this
 * costs one timeout, never a second instance.
 */
export function planReplacement(input: ReplacementInput): ReplacementPlan {
  const target = Math.max(0, Math.min(MAX_TARGET, Math.floor(input.target)));
  const records = dedupeRecords(input.launches);
  const active = records.filter((r) => isActive(r, input.now, input.launchTimeoutMs));
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
  const quorum = aliveCount > target / 2;
  const providerConfirms = input.providerCount !== null && input.providerCount < target;
  const base = {
    settle: settleOwn(input, records, slots.joined),
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

  let eligible = slots.free.map(String);
  let limit = MAX_LAUNCHES_PER_PLAN - active.filter((r) => r.launcher === input.self).length;
  if (!quorum && input.providerCount !== null) {
    const present = new Set(input.providerSlots ?? []);
    eligible = eligible.filter((s) => !present.has(s));
    limit = Math.min(limit, target - input.providerCount);
  }
  const chosen = eligible.slice(0, Math.max(0, limit));
  if (chosen.length === 0) return hold('provider-full');
  const launches = chosen.map((slot) => decide(input, records, slot)).filter((d) => d.attempts.length > 0);
  if (launches.length === 0) return hold('no-placements');
  return { ...base, launches, hold: null };
}

function decide(input: ReplacementInput, records: readonly LaunchRecord[], slot: string): LaunchDecision {
  const replaces = lastHolder(slot, input.peers, input.memory);
  const generation = nextGeneration(records, slot, replaces);
  const placements = input.placementsFor?.(slot) ?? input.placements;
  const attempts = placements.map((placement, placementIndex) => ({
    placementIndex,
    placement,
    token: launchToken({ fleet: input.fleet, slot, replaces, generation, placementIndex }),
  }));
  const token = attempts[0]?.token ?? launchToken({ fleet: input.fleet, slot, replaces, generation, placementIndex: 0 });
  return { kind: 'launch', slot, replaces, generation, token, placementIndex: 0, attempts };
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
