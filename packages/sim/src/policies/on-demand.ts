import type { SimConfig } from '../config.js';
import { onDemandPlacements, type Policy, rotateBySlot } from './policy.js';

/** The baseline: on-demand only, never preempted. */
export function onDemandPolicy(config: SimConfig): Policy {
  const placements = onDemandPlacements(config);
  // walkOrder keeps on-demand placements in configured order: spread the baseline over zones per slot here.
  return { name: 'on-demand', label: 'on-demand only', placements, perSlot: (slot) => rotateBySlot(placements, slot) };
}
