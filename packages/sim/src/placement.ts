import { type OrderedPlacement, walkOrder } from '@synkti/fleet';
import { HOUR_MS } from './constants.js';
import { priceAt } from './market.js';
import type { World } from './world.js';

/**
 * The spot price of each configured placement at the start of the current hour, as the agent's
 * SpotPriceCache reads it (a past instant every peer names alike, so every peer derives the same
 * walk); undefined when the run orders placements by slot only.
 */
export function spotPricesNow(w: World): ReadonlyMap<number, number> | undefined {
  if (w.config.placementOrder !== 'price') return undefined;
  const hour = Math.floor(w.now / HOUR_MS) * HOUR_MS;
  if (w.prices?.hour === hour) return w.prices.byIndex;
  const byIndex = new Map<number, number>();
  w.placementMarkets.forEach((market, index) => {
    if (market >= 0) byIndex.set(index, priceAt(w.markets[market]!, hour));
  });
  w.prices = { hour, byIndex };
  return byIndex;
}

/** The order a slot's launch walks: the policy's own per-slot order, or the fleet's walkOrder. */
export function walkFor(w: World, slot: string): OrderedPlacement[] {
  const own = w.policy.perSlot?.(slot);
  if (own !== undefined) return own.map((placement, placementIndex) => ({ placement, placementIndex }));
  return walkOrder(w.policy.placements, slot, spotPricesNow(w));
}
