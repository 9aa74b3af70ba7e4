import type { LaunchRecord, PeerFacts } from './types.js';

/**
 * Slot assignment, deterministic from shared facts.
 *
 * The fleet has slots "0".."target-1". Counted peers (alive, no notice, not draining) first
 * keep the slot they declare; when two declare the same slot the lower peer ID keeps it.
 * Launches in flight (not timed out) then take their slot if no counted peer holds it (a
 * counted peer holding it means the launch joined, or the slot is held anyway: the record is
 * no longer counted); of two records for one slot the higher generation (then lower token)
 * keeps it. Everything left over — peers without a slot (started by hand), with a slot out of
 * range (target shrank) or a duplicate, then surplus records — fills the lowest free slots in
 * peer-ID (then token) order. What remains free is what the fleet is short of.
 */
export interface SlotAssignment {
  /** Who occupies slot index i, or undefined when it is free. */
  occupant: (i: number) => Occupant | undefined;
  /** Whether a peer occupies slot index i (no allocation: asked for every slot per evaluation). */
  heldByPeer: (i: number) => boolean;
  /** The instance of the peer occupying slot index i (null when free, a launch, or unknown). */
  holderInstance: (i: number) => string | null;
  /** Per slot index: 0 free, 1 a peer, 2 a launch (the raw form of `heldByPeer`, for loops over every slot). */
  kinds: readonly number[];
  free: number[];
  /** Slots loose peers (no slot, out of range, or a duplicate) were placed in. */
  peersPlaced: readonly number[];
  /** Counted peers + counted launches. May exceed the target (surplus). */
  capacity: number;
  /** Tokens of active records that do not count because a counted peer holds their slot. */
  joined: Set<string>;
  /** Slots held by counted peers (at most the target): the strict quorum that fencing needs. */
  seated: number;
}

export type Occupant = { kind: 'peer'; peerId: string } | { kind: 'launch'; token: string; generation: number };

/** Parses a canonical slot string ("0", "17") below `target`; -1 otherwise. */
export function slotIndex(slot: string | null, target: number): number {
  if (slot === null || slot.length === 0 || slot.length > 9 || (slot.length > 1 && slot.charCodeAt(0) === 48)) return -1;
  let i = 0;
  for (let k = 0; k < slot.length; k++) {
    const d = slot.charCodeAt(k) - 48;
    if (d < 0 || d > 9) return -1;
    i = i * 10 + d;
  }
  return i < target ? i : -1;
}

export function isCounted(p: PeerFacts): boolean {
  return p.alive && p.interrupted === null && !p.draining;
}

export function isActive(r: LaunchRecord, now: number, timeoutMs: number): boolean {
  return now - r.startedAt < timeoutMs;
}

/** Records by token: two launchers of one token gossip it twice; the earliest start counts. */
export function dedupeRecords(records: readonly LaunchRecord[]): LaunchRecord[] {
  const byToken = new Map<string, LaunchRecord>();
  for (const r of records) {
    const seen = byToken.get(r.token);
    if (seen === undefined || r.startedAt < seen.startedAt) byToken.set(r.token, r);
  }
  return [...byToken.values()];
}

/** The counted peers seated in the slots they declare: the peer part of slot assignment (see peers.ts). */
export interface PeerSeats {
  /**
   * Per slot index: 1 when a counted peer declaring it holds it, else 0. A plain array: copied
   * for every evaluation, and a typed one of a large fleet's size is allocated outside the heap.
   */
  kind: readonly number[];
  /** Per slot index: the seated peer's ID and instance (unset where free). */
  id: readonly (string | undefined)[];
  instance: readonly (string | null | undefined)[];
  /** Counted peers that hold no slot by declaration (no slot, out of range, or a lower peer ID declares theirs), by peer ID. */
  loose: readonly Pick<PeerFacts, 'peerId' | 'instanceId'>[];
}

/** Slot assignment from the counted peers' seats (`counted` of them) and the launches in flight. */
export function fillSlots(seats: PeerSeats, counted: number, activeRecords: readonly LaunchRecord[], target: number): SlotAssignment {
  // Parallel arrays (kind 0 = free, 1 = peer, 2 = launch): this runs on every evaluation of large fleets.
  const kind = seats.kind.slice();
  // Who holds a slot the seats leave free, and with what instance: few (launches and loose peers),
  // so kept beside the seats' arrays rather than in copies of them for every evaluation.
  const id = new Map<number, string>();
  const instance = new Map<number, string | null>();
  // Generations of the launches holding slots (few: a map, not an array per slot per evaluation).
  const gen = new Map<number, number>();
  const looseLaunches: string[] = [];
  const joined = new Set<string>();
  for (const r of activeRecords) {
    const i = slotIndex(r.slot, target);
    if (i < 0) looseLaunches.push(r.token);
    else if (kind[i] === 0) {
      kind[i] = 2;
      id.set(i, r.token);
      gen.set(i, r.generation);
    } else if (kind[i] === 1) joined.add(r.token);
    else if (r.generation > gen.get(i)! || (r.generation === gen.get(i)! && r.token < id.get(i)!)) {
      looseLaunches.push(id.get(i)!);
      id.set(i, r.token);
      gen.set(i, r.generation);
    } else looseLaunches.push(r.token);
  }
  looseLaunches.sort();
  let next = 0;
  const peersPlaced: number[] = [];
  const place = (k: 1 | 2, who: string, instanceId: string | null = null): void => {
    while (next < target && kind[next] !== 0) next++;
    if (next < target) {
      if (k === 1) peersPlaced.push(next);
      kind[next] = k;
      id.set(next, who);
      instance.set(next, instanceId);
      gen.set(next, -1);
    }
  };
  for (const p of seats.loose) place(1, p.peerId, p.instanceId);
  for (const token of looseLaunches) place(2, token);
  const free: number[] = [];
  let seated = 0;
  for (let i = 0; i < target; i++) {
    if (kind[i] === 0) free.push(i);
    else if (kind[i] === 1) seated++;
  }
  const occupant = (i: number): Occupant | undefined =>
    kind[i] === 1 ? { kind: 'peer', peerId: id.get(i) ?? seats.id[i]! } : kind[i] === 2 ? { kind: 'launch', token: id.get(i)!, generation: gen.get(i)! } : undefined;
  const holderInstance = (i: number): string | null => (kind[i] !== 1 ? null : instance.has(i) ? instance.get(i)! : (seats.instance[i] ?? null));
  return { occupant, heldByPeer: (i) => kind[i] === 1, holderInstance, kinds: kind, peersPlaced, free, capacity: counted + activeRecords.length - joined.size, joined, seated };
}
