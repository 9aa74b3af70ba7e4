import type { SimConfig } from '../config.js';
import { onDemandPlacements, type Policy, spotPlacements } from './policy.js';

/** k on-demand anchors (slots 0..k-1) that no spot wave takes, spot only for the rest. */
export function mixedPolicy(config: SimConfig): Policy {
  return {
    name: 'mixed',
    label: `mixed, ${config.anchors} on-demand anchor${config.anchors === 1 ? '' : 's'}`,
    placementsFor: (slot) => (Number(slot) < config.anchors ? onDemandPlacements(config, slot) : spotPlacements(config, slot)),
  };
}
