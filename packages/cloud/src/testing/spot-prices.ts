import { Ec2Fault } from './faults.js';
import { type QueryObject, list, obj, str } from './query.js';
import type { XmlNode } from './xml.js';

/** Price points kept per (instance type, zone): a test sets a handful. */
const MAX_POINTS = 1_000;

/** One spot price as EC2's price history holds it: in effect from `at` until the next point. */
interface PricePoint {
  price: number;
  at: number;
}

/**
 * EC2's spot price history for the fake: per (instance type, zone), a list of price changes.
 * DescribeSpotPriceHistory with a StartTime/EndTime window answers every change in the window
 * plus the price in effect at its start (EC2 does the same), newest first.
 */
export class FakeSpotPrices {
  readonly #points = new Map<string, PricePoint[]>();

  set(instanceType: string, zone: string, price: number, at: number): void {
    const key = `${instanceType}@${zone}`;
    const points = [...(this.#points.get(key) ?? []), { price, at }].sort((a, b) => a.at - b.at).slice(-MAX_POINTS);
    this.#points.set(key, points);
  }

  describe(params: QueryObject, now: number): Record<string, XmlNode> {
    const types = list(params, 'InstanceType').filter((v): v is string => typeof v === 'string');
    const start = Date.parse(str(params, 'StartTime') ?? new Date(now).toISOString());
    const end = Date.parse(str(params, 'EndTime') ?? new Date(now).toISOString());
    if (Number.isNaN(start) || Number.isNaN(end) || end < start) throw new Ec2Fault(400, 'InvalidParameterValue', 'invalid StartTime/EndTime');
    const zones = new Set<string>();
    for (const f of list(params, 'Filter')) {
      if (str(obj(f), 'Name') === 'availability-zone') for (const v of list(obj(f), 'Value')) if (typeof v === 'string') zones.add(v);
    }
    const items: XmlNode[] = [];
    for (const [key, points] of this.#points) {
      const [instanceType, zone] = key.split('@') as [string, string];
      if ((types.length > 0 && !types.includes(instanceType)) || (zones.size > 0 && !zones.has(zone))) continue;
      const inEffect = points.filter((p) => p.at <= start).at(-1);
      const inWindow = points.filter((p) => p.at > start && p.at <= end);
      for (const p of [...(inEffect ? [inEffect] : []), ...inWindow].reverse()) {
        items.push({ instanceType, productDescription: 'Linux/UNIX', spotPrice: p.price.toFixed(6), timestamp: new Date(p.at).toISOString(), availabilityZone: zone });
      }
    }
    return { spotPriceHistorySet: items, nextToken: '' };
  }
}

/** DescribeSubnets: each subnet's zone, as the fake maps it. */
export function describeSubnets(params: QueryObject, zoneOf: (subnetId: string) => string): Record<string, XmlNode> {
  const ids = list(params, 'SubnetId').filter((v): v is string => typeof v === 'string');
  return { subnetSet: ids.map((subnetId) => ({ subnetId, availabilityZone: zoneOf(subnetId), state: 'available' })) };
}
