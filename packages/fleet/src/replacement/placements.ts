import { hash128 } from './token.js';
import type { Placement } from './types.js';

/** A placement with its index in the configured list (the index its token carries). */
export interface OrderedPlacement {
  placement: Placement;
  placementIndex: number;
}

/**
 * The order in which a slot walks the configured placements: the spot placements rotated by an
 * offset derived from the slot alone, then the on-demand ones in configured order. Slots start
 * in different pools, so one spot wave in the first pool cannot take every slot at once, and
 * every peer derives the same order. Indices stay those of the configured list: a token names a
 * placement, never a position in the walk.
 */
export function walkOrder(placements: readonly Placement[], slot: string): OrderedPlacement[] {
  const spot: OrderedPlacement[] = [];
  const onDemand: OrderedPlacement[] = [];
  placements.forEach((placement, placementIndex) => (placement.onDemand === true ? onDemand : spot).push({ placement, placementIndex }));
  if (spot.length <= 1) return [...spot, ...onDemand];
  const offset = slotOffset(slot) % spot.length;
  return [...spot.slice(offset), ...spot.slice(0, offset), ...onDemand];
}

/** A numeric slot is its own offset (slots 0..n-1 land in n different pools); any other slot hashes. */
function slotOffset(slot: string): number {
  if (/^(0|[1-9][0-9]{0,8})$/.test(slot)) return Number(slot);
  return Number.parseInt(hash128(slot).slice(0, 8), 16);
}
