import { align } from './align.js';
import { slotIndex } from './slots.js';
import type { ProviderInstance } from './types.js';

/**
 * The provider's listing indexed by slot (chains in typed arrays: it is rebuilt for every new
 * listing of a large fleet), memoised on the array — same input, same index.
 */
export interface Listing {
  list: readonly ProviderInstance[];
  /** First entry of each slot index (-1: none); `next` chains entries of one slot. */
  head: Int32Array;
  next: Int32Array;
  /** Each entry's instance ID and slot index (-1: none), in arrays: loops over every slot or entry read no entry. */
  ids: readonly string[];
  slots: Int32Array;
  find(slot: string, match: (i: ProviderInstance) => boolean): ProviderInstance | undefined;
}

const listingCache = new WeakMap<readonly ProviderInstance[], Listing>();

/**
 * The index built last. A new listing of a large fleet differs from the one before by a few
 * instances (a provider lists in a stable order), so the entries it shares by identity — listings
 * are values, never mutated — keep their ID and slot and only the rest are read.
 */
let last: Listing | null = null;

/** Above this many changed entries a listing is indexed afresh. */
const MAX_CHANGES = 64;

export function indexListing(list: readonly ProviderInstance[], target: number): Listing {
  let idx = listingCache.get(list);
  if (idx !== undefined && idx.head.length === target) return idx;
  const ids = new Array<string>(list.length);
  const slots = new Int32Array(list.length);
  const a = last !== null && last.head.length === target ? align(last.list, list, MAX_CHANGES) : null;
  if (a === null) for (let k = 0; k < list.length; k++) read(list, k, target, ids, slots);
  else {
    const from = last!;
    // No map: nothing moved (entries only replaced in place).
    const moved = a.map.length > 0;
    for (let j = 0; j < from.list.length; j++) {
      const k = moved ? a.map[j]! : j;
      if (k < 0) continue;
      ids[k] = from.ids[j]!;
      slots[k] = from.slots[j]!;
    }
    for (const k of a.replaced) read(list, k, target, ids, slots);
    for (const k of a.inserted) read(list, k, target, ids, slots);
  }
  const head = new Int32Array(target).fill(-1);
  const next = new Int32Array(list.length).fill(-1);
  for (let k = list.length - 1; k >= 0; k--) {
    const i = slots[k]!;
    if (i < 0) continue;
    next[k] = head[i]!;
    head[i] = k;
  }
  idx = {
    list,
    head,
    next,
    ids,
    slots,
    find(slot, match) {
      const i = slotIndex(slot, target);
      for (let k = i < 0 ? -1 : head[i]!; k >= 0; k = next[k]!) if (match(list[k]!)) return list[k];
      return undefined;
    },
  };
  listingCache.set(list, idx);
  last = idx;
  return idx;
}

function read(list: readonly ProviderInstance[], k: number, target: number, ids: string[], slots: Int32Array): void {
  ids[k] = list[k]!.instanceId;
  slots[k] = slotIndex(list[k]!.slot, target);
}

/** Whether the listing shows an instance in slot index `s` other than `instance`. */
export function listsOther(listing: Listing, s: number, instance: string | null | undefined): boolean {
  for (let k = listing.head[s]!; k >= 0; k = listing.next[k]!) if (listing.ids[k] !== instance) return true;
  return false;
}
