import type { Placement } from '@synkti/fleet';
import type { PolicyName, SimConfig } from '../config.js';

/**
 * A provisioning policy: the placements a slot's launch may walk. `placements` is the configured
 * list (spot pools, then on-demand for a fallback), ordered per slot by the fleet's own
 * `walkOrder` — spread by slot, and cheapest pools first when prices are known — exactly as the
 * agent orders its configured placements. A policy with per-slot rules (on-demand anchors)
 * gives its own order instead.
 */
export interface Policy {
  name: PolicyName;
  label: string;
  placements: Placement[];
  perSlot?: (slot: string) => Placement[];
}

export function spotPlacements(config: SimConfig): Placement[] {
  const all: Placement[] = [];
  for (const subnet of config.zones) for (const instanceType of config.instanceTypes) all.push({ instanceType, subnet });
  return all;
}

export function onDemandPlacements(config: SimConfig): Placement[] {
  const type = config.instanceTypes[0]!;
  return config.zones.map((subnet) => ({ instanceType: type, subnet, onDemand: true }));
}

/** A list rotated by the slot number: slots 0..n-1 start in n different places. */
export function rotateBySlot<T>(list: readonly T[], slot: string): T[] {
  const k = (Number(slot) || 0) % list.length;
  return [...list.slice(k), ...list.slice(0, k)];
}
