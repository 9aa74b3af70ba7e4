import { hash128 } from './token.js';
import type { Placement } from './types.js';

/** A placement with its index in the configured list (the index its token carries). */
export interface OrderedPlacement {
  placement: Placement;
  placementIndex: number;
}

/**
 * Spot pools priced within this fraction of the cheapest count as equally cheap: the slots are
 * spread over them rather than all sent to the single cheapest pool, which one spot wave would
 * then empty at once.
 */
export const PRICE_TOLERANCE = 0.1;

/**
 * The order in which a slot walks the configured placements: spot before on-demand (the
 * on-demand ones in configured order, a fallback), and among the spot ones a rotation by an
 * offset derived from the slot alone, so slots start in different pools and one spot wave in
 * one pool cannot take every slot at once.
 *
 * With `prices` (spot price per configured index, as every peer reads it at the same past
 * instant, so every peer derives the same order), the spot pools go cheapest first: those within
 * PRICE_TOLERANCE of the cheapest are rotated by the slot's offset, the dearer ones follow in
 * price order, unpriced ones last. Indices stay those of the configured list: a token names a
 * placement, never a position in the walk.
 */
export function walkOrder(placements: readonly Placement[], slot: string, prices?: ReadonlyMap<number, number>): OrderedPlacement[] {
  let spot: OrderedPlacement[] = [];
  const onDemand: OrderedPlacement[] = [];
  placements.forEach((placement, placementIndex) => (placement.onDemand === true ? onDemand : spot).push({ placement, placementIndex }));
  let rest: OrderedPlacement[] = [];
  if (prices !== undefined && prices.size > 0) {
    const price = (p: OrderedPlacement) => prices.get(p.placementIndex) ?? Number.POSITIVE_INFINITY;
    const byPrice = [...spot].sort((a, b) => price(a) - price(b) || a.placementIndex - b.placementIndex);
    const cheapest = price(byPrice[0]!);
    const cheap = byPrice.filter((p) => Number.isFinite(cheapest) && price(p) <= cheapest * (1 + PRICE_TOLERANCE));
    rest = byPrice.slice(cheap.length);
    spot = cheap.length > 0 ? cheap : byPrice;
    if (cheap.length === 0) rest = [];
  }
  if (spot.length <= 1) return [...spot, ...rest, ...onDemand];
  const offset = slotOffset(slot) % spot.length;
  return [...spot.slice(offset), ...spot.slice(0, offset), ...rest, ...onDemand];
}

/** A numeric slot is its own offset (slots 0..n-1 land in n different pools); any other slot hashes. */
function slotOffset(slot: string): number {
  if (/^(0|[1-9][0-9]{0,8})$/.test(slot)) return Number(slot);
  return Number.parseInt(hash128(slot).slice(0, 8), 16);
}
