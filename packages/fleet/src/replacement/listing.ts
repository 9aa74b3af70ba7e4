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
  /** Each entry's instance ID, in one array: loops over every slot compare IDs without reaching into each entry. */
  ids: readonly string[];
  find(slot: string, match: (i: ProviderInstance) => boolean): ProviderInstance | undefined;
}

const listingCache = new WeakMap<readonly ProviderInstance[], Listing>();

export function indexListing(list: readonly ProviderInstance[], target: number): Listing {
  let idx = listingCache.get(list);
  if (idx !== undefined && idx.head.length === target) return idx;
  const head = new Int32Array(target).fill(-1);
  const next = new Int32Array(list.length).fill(-1);
  const ids = new Array<string>(list.length);
  for (let k = list.length - 1; k >= 0; k--) {
    ids[k] = list[k]!.instanceId;
    const i = slotIndex(list[k]!.slot, target);
    if (i < 0) continue;
    next[k] = head[i]!;
    head[i] = k;
  }
  idx = {
    list,
    head,
    next,
    ids,
    find(slot, match) {
      const i = slotIndex(slot, target);
      for (let k = i < 0 ? -1 : head[i]!; k >= 0; k = next[k]!) if (match(list[k]!)) return list[k];
      return undefined;
    },
  };
  listingCache.set(list, idx);
  return idx;
}

/** Whether the listing shows an instance in slot index `s` other than `instance`. */
export function listsOther(listing: Listing, s: number, instance: string | null | undefined): boolean {
  for (let k = listing.head[s]!; k >= 0; k = listing.next[k]!) if (listing.ids[k] !== instance) return true;
  return false;
}
