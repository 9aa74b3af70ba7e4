import type { Placement } from '@synkti/fleet';
import type { PolicyName, SimConfig } from '../config.js';

/**
 * A provisioning policy: which placements a slot's launch walks, in one order every peer
 * shares. The order rotates by slot number so a fleet spreads over markets (zones × types)
 * and one reclaim wave cannot take it all.
 */
export interface Policy {
  name: PolicyName;
  label: string;
  placementsFor(slot: string): Placement[];
}

export function spotPlacements(config: SimConfig, slot: string): Placement[] {
  const all: Placement[] = [];
  for (const subnet of config.zones) for (const instanceType of config.instanceTypes) all.push({ instanceType, subnet });
  return rotate(all, Number(slot) || 0);
}

export function onDemandPlacements(config: SimConfig, slot: string): Placement[] {
  const type = config.instanceTypes[0]!;
  return rotate(
    config.zones.map((subnet) => ({ instanceType: type, subnet, onDemand: true })),
    Number(slot) || 0,
  );
}

function rotate<T>(list: T[], by: number): T[] {
  const k = by % list.length;
  return [...list.slice(k), ...list.slice(0, k)];
}
