import type { SimConfig } from '../config.js';
import { onDemandPlacements, type Policy, spotPlacements } from './policy.js';

/** The seed's OnDemandFallback: every spot placement first, then on-demand when spot capacity is short. */
export function fallbackPolicy(config: SimConfig): Policy {
  return { name: 'fallback', label: 'spot, on-demand fallback', placements: [...spotPlacements(config), ...onDemandPlacements(config)] };
}
