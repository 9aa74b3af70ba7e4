import { walkOrder } from '@synkti/fleet';
import type { SimConfig } from '../config.js';
import { onDemandPlacements, type Policy, rotateBySlot, spotPlacements } from './policy.js';

/** k on-demand anchors (slots 0..k-1) that no spot wave takes, spot only for the rest (spread by slot). */
export function mixedPolicy(config: SimConfig): Policy {
  const spot = spotPlacements(config);
  const onDemand = onDemandPlacements(config);
  return {
    name: 'mixed',
    label: `mixed, ${config.anchors} on-demand anchor${config.anchors === 1 ? '' : 's'}`,
    placements: [...spot, ...onDemand],
    perSlot: (slot) => (Number(slot) < config.anchors ? rotateBySlot(onDemand, slot) : walkOrder(spot, slot).map((o) => o.placement)),
  };
}
