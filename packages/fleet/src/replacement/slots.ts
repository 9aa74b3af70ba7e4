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
  /** Per slot index: who occupies it, or undefined. */
  occupant: (Occupant | undefined)[];
  free: number[];
  /** Counted peers + counted launches. May exceed the target (surplus). */
  capacity: number;
  /** Tokens of active records that do not count because a counted peer holds their slot. */
  joined: Set<string>;
}

export type Occupant = { kind: 'peer'; peerId: string } | { kind: 'launch'; token: string; generation: number };

/** Parses a canonical slot string ("0", "17") below `target`; -1 otherwise. */
export function slotIndex(slot: string | null, target: number): number {
  if (slot === null || !/^(0|[1-9][0-9]{0,8})$/.test(slot)) return -1;
  const i = Number(slot);
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

export function assignSlots(
  counted: readonly PeerFacts[],
  activeRecords: readonly LaunchRecord[],
  target: number,
): SlotAssignment {
  const occupant: (Occupant | undefined)[] = new Array(target);
  const loosePeers: string[] = [];
  for (const p of counted) {
    const i = slotIndex(p.slot, target);
    const held = i < 0 ? undefined : occupant[i];
    if (i < 0) loosePeers.push(p.peerId);
    else if (held === undefined) occupant[i] = { kind: 'peer', peerId: p.peerId };
    else if (held.kind === 'peer' && held.peerId > p.peerId) {
      loosePeers.push(held.peerId);
      occupant[i] = { kind: 'peer', peerId: p.peerId };
    } else loosePeers.push(p.peerId);
  }
  const looseLaunches: string[] = [];
  const joined = new Set<string>();
  for (const r of activeRecords) {
    const i = slotIndex(r.slot, target);
    const held = i < 0 ? undefined : occupant[i];
    if (i < 0) looseLaunches.push(r.token);
    else if (held === undefined) occupant[i] = { kind: 'launch', token: r.token, generation: r.generation };
    else if (held.kind === 'peer') joined.add(r.token);
    else if (r.generation > held.generation || (r.generation === held.generation && r.token < held.token)) {
      looseLaunches.push(held.token);
      occupant[i] = { kind: 'launch', token: r.token, generation: r.generation };
    } else looseLaunches.push(r.token);
  }
  loosePeers.sort();
  looseLaunches.sort();
  let next = 0;
  const place = (o: Occupant): void => {
    while (next < target && occupant[next] !== undefined) next++;
    if (next < target) occupant[next] = o;
  };
  for (const peerId of loosePeers) place({ kind: 'peer', peerId });
  for (const token of looseLaunches) place({ kind: 'launch', token, generation: -1 });
  const free: number[] = [];
  for (let i = 0; i < target; i++) if (occupant[i] === undefined) free.push(i);
  return { occupant, free, capacity: counted.length + activeRecords.length - joined.size, joined };
}
