import type { SimConfig } from '../config.js';
import { type Policy, spotPlacements } from './policy.js';

/** The seed's Greedy: spot only; when every spot market is short the slot waits. */
export function greedyPolicy(config: SimConfig): Policy {
  return { name: 'greedy', label: 'spot only (Greedy)', placements: spotPlacements(config) };
}
