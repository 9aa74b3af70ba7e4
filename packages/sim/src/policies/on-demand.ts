import type { SimConfig } from '../config.js';
import { onDemandPlacements, type Policy } from './policy.js';

/** The baseline: on-demand only, never preempted. */
export function onDemandPolicy(config: SimConfig): Policy {
  return { name: 'on-demand', label: 'on-demand only', placementsFor: (slot) => onDemandPlacements(config, slot) };
}
