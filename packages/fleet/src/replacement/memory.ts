import type { PeerFacts, ProviderInstance, SlotMemory } from './types.js';

type Held = { instanceId: string; incarnation: number; seenAsPeer?: boolean };

/**
 * Slot memory changes a few slots at a time but holds one entry per slot: copying the whole map
 * for each change (every heard peer, every listing) was a tenth of a 1,000-node simulation. A
 * new memory is the old one's base plus a small map of changed slots (copied, never mutated: the
 * old memory stays valid, and may be shared — the two sides of a simulated partition start from
 * one); the changes fold into a fresh base once there are more than FOLD_AFTER of them.
 */
const FOLD_AFTER = 64;

class LayeredMemory implements ReadonlyMap<string, Held> {
  #flat: Map<string, Held> | null = null;

  constructor(
    readonly base: ReadonlyMap<string, Held>,
    readonly changes: ReadonlyMap<string, Held>,
  ) {}

  get(slot: string): Held | undefined {
    return this.changes.get(slot) ?? this.base.get(slot);
  }
  has(slot: string): boolean {
    return this.changes.has(slot) || this.base.has(slot);
  }
  get size(): number {
    return this.flat().size;
  }
  forEach(fn: (value: Held, key: string, map: ReadonlyMap<string, Held>) => void, thisArg?: unknown): void {
    for (const [k, v] of this.flat()) fn.call(thisArg, v, k, this);
  }
  entries(): MapIterator<[string, Held]> {
    return this.flat().entries();
  }
  keys(): MapIterator<string> {
    return this.flat().keys();
  }
  values(): MapIterator<Held> {
    return this.flat().values();
  }
  [Symbol.iterator](): MapIterator<[string, Held]> {
    return this.flat().entries();
  }

  /** The entries in a plain map's order (as if each change had been `set` on a copy); only iteration needs it. */
  flat(): Map<string, Held> {
    if (this.#flat === null) {
      const out = new Map(this.base);
      for (const [k, v] of this.changes) out.set(k, v);
      this.#flat = out;
    }
    return this.#flat;
  }
}

/** `memory` with `changes` applied, sharing what did not change. */
function withChanges(memory: SlotMemory, changes: Map<string, Held>): SlotMemory {
  if (!(memory instanceof LayeredMemory)) return new LayeredMemory(new Map(memory), changes);
  const merged = new Map(memory.changes);
  for (const [k, v] of changes) merged.set(k, v);
  return merged.size > FOLD_AFTER ? new LayeredMemory(new LayeredMemory(memory.base, merged).flat(), new Map()) : new LayeredMemory(memory.base, merged);
}

/**
 * Remembers each listed instance as its slot's holder when it is newer than the one known
 * (ordered by `launchedAt`, else by `listedAt`, the time the listing was taken, then instance
 * ID). Every agent polls the same provider, so the latest instance each slot ever had is a
 * fact they share even when a partition keeps their gossip apart: a token's `replaces` then
 * names the same instance on both sides, and two sides that both find a slot empty launch one
 * instance, not two. Call it after each listing, before planReplacement.
 *
 * `previous`: the listing this memory last took in. A slot's remembered holder only ever moves
 * up that order, so an entry of `previous` with a launch time teaches nothing a second time:
 * the very same entry objects (listings are values, never mutated) are skipped, walking both
 * lists in step — a provider lists in a stable order, and a large fleet's listing changes by a
 * few instances at a time.
 */
export function rememberListed(memory: SlotMemory, listing: readonly ProviderInstance[], listedAt: number, previous?: readonly ProviderInstance[]): SlotMemory {
  let changes: Map<string, Held> | undefined;
  let j = 0;
  for (const inst of listing) {
    if (previous !== undefined) {
      const k = seen(previous, j, inst);
      if (k >= 0) {
        j = k + 1;
        if (inst.launchedAt != null) continue;
      }
    }
    if (inst.slot === null) continue;
    const known = changes?.get(inst.slot) ?? memory.get(inst.slot);
    const at = inst.launchedAt ?? listedAt;
    if (known !== undefined && (known.instanceId === inst.instanceId || known.incarnation > at)) continue;
    if (known !== undefined && known.incarnation === at && known.instanceId > inst.instanceId) continue;
    changes ??= new Map();
    changes.set(inst.slot, { instanceId: inst.instanceId, incarnation: at });
  }
  return changes === undefined ? memory : withChanges(memory, changes);
}

/** How far ahead of the walk's position an entry of the previous listing is looked for (entries removed since). */
const LOOKAHEAD = 16;

/** The index of `inst` in `previous` from `from`, within LOOKAHEAD entries; -1 when not there. */
function seen(previous: readonly ProviderInstance[], from: number, inst: ProviderInstance): number {
  const end = Math.min(previous.length, from + LOOKAHEAD);
  for (let k = from; k < end; k++) if (previous[k] === inst) return k;
  return -1;
}

/** Remembers each slot's latest holder so `replaces` survives membership forgetting a dead peer. */
export function rememberHolders(memory: SlotMemory, peers: readonly PeerFacts[]): SlotMemory {
  let changes: Map<string, Held> | undefined;
  for (const p of peers) {
    if (p.slot === null || p.instanceId === null) continue;
    const known = changes?.get(p.slot) ?? memory.get(p.slot);
    if (known !== undefined && known.instanceId === p.instanceId) {
      // Known from a listing, now seen as a peer: remember that it joined.
      if (known.seenAsPeer === true) continue;
      changes ??= new Map();
      changes.set(p.slot, { ...known, seenAsPeer: true });
      continue;
    }
    if (known !== undefined && known.incarnation > p.incarnation) continue;
    if (known !== undefined && known.incarnation === p.incarnation && known.instanceId > p.instanceId) continue;
    changes ??= new Map();
    changes.set(p.slot, { instanceId: p.instanceId, incarnation: p.incarnation, seenAsPeer: true });
  }
  return changes === undefined ? memory : withChanges(memory, changes);
}
