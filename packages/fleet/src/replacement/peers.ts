import { align, type Alignment } from './align.js';
import { fillSlots, isCounted, type PeerSeats, type SlotAssignment, slotIndex } from './slots.js';
import { type Listing, listsOther } from './listing.js';
import type { LaunchRecord, PeerFacts } from './types.js';

/** What the rule takes from one pass over the view's peers. */
export interface PeerPass {
  aliveCount: number;
  countedCount: number;
  /** The lowest and second lowest counted peer IDs. */
  launcher: string | null;
  backup: string | null;
  /** Peers not counted (not alive, at risk or draining), in the view's order. */
  uncounted: readonly PeerFacts[];
  seats: PeerSeats;
  /** Whether a peer in view (in any state) runs the instance. */
  running(instanceId: string): boolean;
  /** The counted (or uncounted) peer running the instance: undefined when none, null when several (then read the view in order). */
  runningAs(instanceId: string, counted: boolean): PeerFacts | undefined | null;
  /** Slots a counted peer holds by declaration in which `listing` shows another instance than the holder's (the stray pass's candidates). */
  mismatched(listing: Listing): ReadonlySet<number>;
}

/**
 * Per peers array, its pass as last computed and the entries it was computed from. A large
 * simulation hands the rule the same array updated in place between evaluations, a few entries at
 * a time; reading every peer again (one cache miss each) was a third of its time. The entries are
 * compared by identity, so a pass is reused only for the very same facts (entries are values,
 * never mutated: the same assumption as indexListing's) — same input, same pass.
 */
const passes = new WeakMap<readonly PeerFacts[], Memo>();

/** Above this many changed, removed or inserted entries the pass is computed afresh. */
const MAX_CHANGES = 64;

interface Memo {
  target: number;
  prev: PeerFacts[];
  /** Per entry: 1 when counted, and the slot index it declares (-1: none, or out of range). */
  counted: Uint8Array;
  slot: Int32Array;
  /** Per slot index: how many counted peers declare it, and which entry holds it (-1: none). */
  declared: Int32Array;
  holder: Int32Array;
  seatKind: number[];
  seatId: (string | undefined)[];
  seatInstance: (string | null | undefined)[];
  /** Counted peers not seated by their declaration. */
  extra: number;
  pass: PeerPass | null;
  aliveCount: number;
  countedCount: number;
  launcher: string | null;
  backup: string | null;
  uncounted: PeerFacts[] | null;
  /** The peers running each instance, once asked for (then kept by delta like the rest). */
  byInstance: Map<string, PeerFacts[]> | null;
  /** The listing `mismatched` was last asked about, and its answer, kept as seats change. */
  listing: Listing | null;
  mismatched: Set<number>;
}

/** The pass over `peers` for a fleet of `target` slots, updated from the last one over the same array when few entries changed. */
export function peerPass(peers: readonly PeerFacts[], target: number): PeerPass {
  let memo = passes.get(peers);
  const alignment = memo !== undefined && memo.target === target ? align(memo.prev, peers, MAX_CHANGES) : null;
  if (memo === undefined || alignment === null) {
    memo = build(peers, target);
    passes.set(peers, memo);
  } else update(memo, peers, alignment);
  return (memo.pass ??= passOf(memo));
}

function build(peers: readonly PeerFacts[], target: number): Memo {
  const n = peers.length;
  const memo: Memo = {
    target,
    prev: peers.slice(),
    counted: new Uint8Array(n),
    slot: new Int32Array(n).fill(-1),
    declared: new Int32Array(target),
    holder: new Int32Array(target).fill(-1),
    seatKind: new Array<number>(target).fill(0),
    seatId: new Array<string | undefined>(target),
    seatInstance: new Array<string | null | undefined>(target),
    extra: 0,
    pass: null,
    aliveCount: 0,
    countedCount: 0,
    launcher: null,
    backup: null,
    uncounted: null,
    byInstance: null,
    listing: null,
    mismatched: new Set(),
  };
  for (let i = 0; i < n; i++) add(memo, peers[i]!, i);
  return memo;
}

/** Takes entry `i` into the counts (its slot's holder is settled here unless the slot is contested: see rehold). */
function add(memo: Memo, p: PeerFacts, i: number, contested?: Set<number>): void {
  if (p.alive) memo.aliveCount++;
  if (memo.byInstance !== null && p.instanceId !== null) index(memo.byInstance, p);
  if (!isCounted(p)) return;
  memo.counted[i] = 1;
  memo.countedCount++;
  admitToLowestTwo(memo, p.peerId);
  const s = slotIndex(p.slot, memo.target);
  memo.slot[i] = s;
  if (s < 0) {
    memo.extra++;
    return;
  }
  const before = memo.declared[s]!;
  memo.declared[s] = before + 1;
  if (before > 0) {
    memo.extra++;
    // The lower peer ID keeps a slot two declare (the first of equal ones, in the view's order).
    if (contested !== undefined) contested.add(s);
    else if (p.peerId < memo.seatId[s]!) seat(memo, s, i, p);
  } else seat(memo, s, i, p);
}

function seat(memo: Memo, s: number, i: number, p: PeerFacts | null): void {
  memo.holder[s] = i;
  memo.seatKind[s] = i < 0 ? 0 : 1;
  memo.seatId[s] = p?.peerId;
  memo.seatInstance[s] = p?.instanceId;
  if (memo.listing === null) return;
  if (i >= 0 && listsOther(memo.listing, s, memo.seatInstance[s])) memo.mismatched.add(s);
  else memo.mismatched.delete(s);
}

/** See PeerPass.mismatched: every seat checked once per listing, then only seats that change. */
function mismatched(memo: Memo, listing: Listing): ReadonlySet<number> {
  if (memo.listing !== listing) {
    memo.listing = listing;
    memo.mismatched = new Set();
    for (let s = 0; s < memo.target; s++) if (memo.holder[s]! >= 0 && listsOther(listing, s, memo.seatInstance[s])) memo.mismatched.add(s);
  }
  return memo.mismatched;
}

/** Takes entry `i` (the facts `p`) out of the counts. */
function remove(memo: Memo, p: PeerFacts, i: number, contested: Set<number>, gone: Set<string>): void {
  if (p.alive) memo.aliveCount--;
  if (memo.byInstance !== null && p.instanceId !== null) unindex(memo.byInstance, p);
  if (memo.counted[i] === 0) return;
  memo.counted[i] = 0;
  memo.countedCount--;
  if (p.peerId === memo.launcher || p.peerId === memo.backup) gone.add(p.peerId);
  const s = memo.slot[i]!;
  memo.slot[i] = -1;
  if (s < 0) {
    memo.extra--;
    return;
  }
  const after = memo.declared[s]! - 1;
  memo.declared[s] = after;
  if (after > 0) {
    memo.extra--;
    contested.add(s);
  } else seat(memo, s, -1, null);
}

function update(memo: Memo, peers: readonly PeerFacts[], a: Alignment): void {
  const structural = a.removed.length > 0 || a.inserted.length > 0;
  if (!structural && a.replaced.length === 0) return;
  const contested = new Set<number>();
  const gone = new Set<string>();
  let uncounted = structural;
  for (const j of a.replacedFrom) {
    uncounted ||= memo.counted[j] === 0;
    remove(memo, memo.prev[j]!, j, contested, gone);
  }
  for (const j of a.removed) remove(memo, memo.prev[j]!, j, contested, gone);
  if (structural) renumber(memo, a.map, peers.length);
  for (const list of [a.replaced, a.inserted]) {
    for (const i of list) {
      const p = peers[i]!;
      memo.prev[i] = p;
      add(memo, p, i, contested);
      if (memo.counted[i] === 1) gone.delete(p.peerId);
      else uncounted = true;
    }
  }
  for (const s of contested) rehold(memo, s);
  if (gone.size > 0) recount(memo);
  if (uncounted) memo.uncounted = null;
  memo.pass = null;
}

/** Moves the per-entry state to the entries' new positions (removed and replaced entries were taken out already). */
function renumber(memo: Memo, map: Int32Array, n: number): void {
  const counted = new Uint8Array(n);
  const slot = new Int32Array(n).fill(-1);
  const prev = new Array<PeerFacts>(n);
  for (let j = 0; j < map.length; j++) {
    const i = map[j]!;
    if (i < 0) continue;
    counted[i] = memo.counted[j]!;
    slot[i] = memo.slot[j]!;
    prev[i] = memo.prev[j]!;
  }
  for (let s = 0; s < memo.target; s++) if (memo.holder[s]! >= 0) memo.holder[s] = map[memo.holder[s]!]!;
  memo.counted = counted;
  memo.slot = slot;
  memo.prev = prev;
}

/** Settles a slot several counted peers declare: the lowest peer ID holds it. */
function rehold(memo: Memo, s: number): void {
  seat(memo, s, -1, null);
  for (let i = 0; i < memo.prev.length; i++) {
    if (memo.counted[i] === 0 || memo.slot[i] !== s) continue;
    const p = memo.prev[i]!;
    if (memo.holder[s] === -1 || p.peerId < memo.seatId[s]!) seat(memo, s, i, p);
  }
}

/** The lowest and second lowest counted peer IDs, kept as counted peers are added one by one. */
export interface LowestTwo {
  launcher: string | null;
  backup: string | null;
}

/** Adds a counted peer's ID to `two` (the launcher, then its duellist, by ID order). */
export function admitToLowestTwo(two: LowestTwo, id: string): void {
  if (two.launcher === null || id < two.launcher) {
    two.backup = two.launcher;
    two.launcher = id;
  } else if (id !== two.launcher && (two.backup === null || id < two.backup)) two.backup = id;
}

/** The launcher or backup stopped counting: find the lowest two again. */
function recount(memo: Memo): void {
  memo.launcher = null;
  memo.backup = null;
  for (let i = 0; i < memo.prev.length; i++) if (memo.counted[i] === 1) admitToLowestTwo(memo, memo.prev[i]!.peerId);
}

function passOf(memo: Memo): PeerPass {
  if (memo.uncounted === null) {
    memo.uncounted = [];
    for (let i = 0; i < memo.prev.length; i++) if (memo.counted[i] === 0) memo.uncounted.push(memo.prev[i]!);
  }
  return {
    aliveCount: memo.aliveCount,
    countedCount: memo.countedCount,
    launcher: memo.launcher,
    backup: memo.backup,
    uncounted: memo.uncounted,
    seats: { kind: memo.seatKind, id: memo.seatId, instance: memo.seatInstance, loose: memo.extra === 0 ? [] : loosePeers(memo) },
    running: (id) => instances(memo).has(id),
    mismatched: (listing) => mismatched(memo, listing),
    runningAs: (id, counted) => {
      let found: PeerFacts | undefined;
      for (const p of instances(memo).get(id) ?? []) {
        if (isCounted(p) !== counted) continue;
        if (found !== undefined) return null;
        found = p;
      }
      return found;
    },
  };
}

/** The peers running each instance (built on the first question, then kept by add and remove). */
function instances(memo: Memo): Map<string, PeerFacts[]> {
  if (memo.byInstance === null) {
    memo.byInstance = new Map();
    for (const p of memo.prev) if (p.instanceId !== null) index(memo.byInstance, p);
  }
  return memo.byInstance;
}

function index(byInstance: Map<string, PeerFacts[]>, p: PeerFacts): void {
  const list = byInstance.get(p.instanceId!);
  if (list === undefined) byInstance.set(p.instanceId!, [p]);
  else list.push(p);
}

function unindex(byInstance: Map<string, PeerFacts[]>, p: PeerFacts): void {
  const list = byInstance.get(p.instanceId!)!;
  if (list.length === 1) byInstance.delete(p.instanceId!);
  else list.splice(list.indexOf(p), 1);
}

function loosePeers(memo: Memo): Pick<PeerFacts, 'peerId' | 'instanceId'>[] {
  const out: PeerFacts[] = [];
  for (let i = 0; i < memo.prev.length; i++) {
    if (memo.counted[i] === 0) continue;
    const s = memo.slot[i]!;
    if (s < 0 || memo.holder[s] !== i) out.push(memo.prev[i]!);
  }
  return out.sort((a, b) => (a.peerId < b.peerId ? -1 : a.peerId > b.peerId ? 1 : 0));
}

/**
 * Slot assignment, deterministic from shared facts (see slots.ts): the counted peers' seats,
 * then the launches in flight.
 */
export function assignSlots(counted: readonly PeerFacts[], activeRecords: readonly LaunchRecord[], target: number): SlotAssignment {
  return fillSlots(passOf(build(counted, target)).seats, counted.length, activeRecords, target);
}
