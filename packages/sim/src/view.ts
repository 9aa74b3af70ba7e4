import { admitToLowestTwo, type LaunchRecord, type LowestTwo, type PeerFacts, type SurplusPeer } from '@synkti/fleet';
import type { DerivedView, SideView, ViewEntry } from './world.js';

/**
 * What a side's last derivation keeps so the next one updates it by delta: between two
 * evaluations of a 1,000-peer view a few peers change, and deriving every peer again for each
 * evaluation was an eighth of the simulation. The arrays are handed to the fleet core and
 * updated in place at the next derivation (the core keeps nothing of a view between ticks).
 */
export interface ViewIndex {
  /** Position of each peer in the arrays (the view map's iteration order), in a cell the closing of a hole moves. */
  pos: Map<string, Place>;
  places: Place[];
  entries: ViewEntry[];
  peers: PeerFacts[];
  surplusPeers: SurplusPeer[];
  /** Peers gossiping launch records (few): `launches` is rebuilt from them when one changes. */
  withRecords: Set<string>;
  launches: LaunchRecord[];
  /** The lowest and second lowest counted peers (derived as `lowest` and `second`). */
  two: LowestTwo;
  atRisk: number;
  /** Positions of peers deleted since the last derivation (removed from the arrays then). */
  holes: number[];
  /** The lowest or second lowest counted peer stopped counting or left: count again. */
  stale: boolean;
  /** A peer with launch records changed or left: rebuild `launches`. */
  records: boolean;
}

/** A peer's place in the arrays. */
interface Place {
  readonly id: string;
  i: number;
}

/** A peer's state taken into a side's view. */
export function setPeer(view: SideView, peerId: string, entry: ViewEntry): void {
  view.peers.set(peerId, entry);
  view.derived = null;
  if (view.index !== null) view.changed.add(peerId);
}

/**
 * A peer leaves a side's view (left, or forgotten). Its place in the arrays becomes a hole, closed
 * at the next derivation; taken in again before that, it goes last, as in the map.
 */
export function deletePeer(view: SideView, peerId: string): void {
  view.peers.delete(peerId);
  view.derived = null;
  view.changed.delete(peerId);
  const ix = view.index;
  const i = ix?.pos.get(peerId)?.i;
  if (ix === null || i === undefined) return;
  ix.pos.delete(peerId);
  ix.holes.push(i);
  forget(ix, peerId, ix.entries[i]!, false);
}

/** Takes back what a peer's entry, replaced or deleted, contributed to the counts (`counts`: the peer still counts). */
function forget(ix: ViewIndex, peerId: string, old: ViewEntry, counts: boolean): void {
  if (atRisk(old.facts)) ix.atRisk--;
  if (old.records.length > 0) {
    ix.records = true;
    ix.withRecords.delete(peerId);
  }
  if (!counts && counted(old.facts) && (peerId === ix.two.launcher || peerId === ix.two.backup)) ix.stale = true;
}

/** The side's peers were replaced wholesale (a partition copies the other side's). */
export function dropIndex(view: SideView): void {
  view.derived = null;
  view.index = null;
  view.changed.clear();
}

/** The rule's inputs and what the simulator needs beside them, by delta from the last derivation when there is one. */
export function deriveView(view: SideView): DerivedView {
  const ix = view.index ?? fullIndex(view);
  if (view.index === null) view.index = ix;
  else {
    if (view.changed.size > 0) applyChanges(view, ix);
    if (ix.holes.length > 0) closeHoles(ix);
    if (ix.stale) recount(ix);
    if (ix.records) rebuildLaunches(ix);
  }
  view.changed.clear();
  return { peers: ix.peers, surplusPeers: ix.surplusPeers, launches: ix.launches, lowest: ix.two.launcher, second: ix.two.backup, atRisk: ix.atRisk };
}

function fullIndex(view: SideView): ViewIndex {
  const n = view.peers.size;
  const ix: ViewIndex = {
    pos: new Map(),
    places: new Array<Place>(n),
    entries: new Array<ViewEntry>(n),
    peers: new Array<PeerFacts>(n),
    surplusPeers: new Array<SurplusPeer>(n),
    withRecords: new Set(),
    launches: [],
    two: { launcher: null, backup: null },
    atRisk: 0,
    holes: [],
    stale: false,
    records: false,
  };
  let k = 0;
  for (const [id, e] of view.peers) {
    const place = { id, i: k };
    ix.pos.set(id, place);
    ix.places[k] = place;
    ix.entries[k] = e;
    ix.peers[k] = e.facts;
    ix.surplusPeers[k++] = e.surplus;
    if (e.records.length > 0) ix.withRecords.add(id);
    if (atRisk(e.facts)) ix.atRisk++;
  }
  recount(ix);
  rebuildLaunches(ix);
  return ix;
}

function applyChanges(view: SideView, ix: ViewIndex): void {
  for (const id of view.changed) {
    const e = view.peers.get(id)!; // present: a deletion takes the peer out of `changed`
    let i = ix.pos.get(id)?.i;
    const old = i === undefined ? undefined : ix.entries[i]!;
    if (old !== undefined) forget(ix, id, old, counted(e.facts));
    if (i === undefined) {
      // A new key goes last in the map's order, and the first change of a new key is its insertion.
      i = ix.entries.length;
      const place = { id, i };
      ix.pos.set(id, place);
      ix.places[i] = place;
    }
    ix.entries[i] = e;
    ix.peers[i] = e.facts;
    ix.surplusPeers[i] = e.surplus;
    if (atRisk(e.facts)) ix.atRisk++;
    if (e.records.length > 0) {
      ix.records = true;
      ix.withRecords.add(id);
    }
    if (counted(e.facts) && !(old !== undefined && counted(old.facts))) admitToLowestTwo(ix.two, id);
  }
}

/** Closes the holes deleted peers left, keeping the order of the rest. */
function closeHoles(ix: ViewIndex): void {
  const holes = ix.holes.sort((a, b) => a - b);
  let to = holes[0]!;
  let h = 0;
  for (let from = to; from < ix.entries.length; from++) {
    if (h < holes.length && holes[h] === from) {
      h++;
      continue;
    }
    const place = ix.places[from]!;
    place.i = to;
    ix.places[to] = place;
    ix.entries[to] = ix.entries[from]!;
    ix.peers[to] = ix.peers[from]!;
    ix.surplusPeers[to] = ix.surplusPeers[from]!;
    to++;
  }
  ix.places.length = ix.entries.length = ix.peers.length = ix.surplusPeers.length = to;
  ix.holes = [];
}

function counted(f: PeerFacts): boolean {
  return f.alive && f.interrupted === null && !f.draining;
}

function atRisk(f: PeerFacts): boolean {
  return f.alive && !f.draining && f.interrupted === 'rebalance';
}

function recount(ix: ViewIndex): void {
  ix.stale = false;
  ix.two.launcher = null;
  ix.two.backup = null;
  for (const f of ix.peers) if (counted(f)) admitToLowestTwo(ix.two, f.peerId);
}

/** Every gossiped record, in the view's order (a token gossiped twice keeps its first sighting: see dedupeRecords). */
function rebuildLaunches(ix: ViewIndex): void {
  ix.records = false;
  const holders = [...ix.withRecords].map((id) => ix.pos.get(id)!.i).sort((a, b) => a - b);
  const launches: LaunchRecord[] = [];
  for (const i of holders) for (const r of ix.entries[i]!.records) launches.push(r);
  ix.launches = launches;
}
