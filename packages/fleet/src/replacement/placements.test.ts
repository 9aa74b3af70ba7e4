import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { walkOrder } from './placements.js';
import type { Placement } from './types.js';

const spot = (subnet: string): Placement => ({ instanceType: 'g5.xlarge', subnet });
const placements: Placement[] = [spot('a'), spot('b'), spot('c'), spot('d'), { instanceType: 'g5.xlarge', subnet: 'a', onDemand: true }];
const order = (slot: string, prices?: Map<number, number>) => walkOrder(placements, slot, prices).map((p) => p.placementIndex);

describe('walkOrder', () => {
  it('spreads the slots over the spot pools, on-demand last', () => {
    assert.deepEqual(order('0'), [0, 1, 2, 3, 4]);
    assert.deepEqual(order('1'), [1, 2, 3, 0, 4]);
    assert.deepEqual(order('6'), [2, 3, 0, 1, 4]);
    assert.deepEqual(walkOrder(placements, 'gpu-a').length, 5, 'a named slot hashes to an offset');
  });

  it('with prices: cheapest pools first, slots spread over those within the tolerance, dearer ones after, unpriced last', () => {
    // c (0.30) and a (0.32) are equally cheap; b (0.50) dearer; d unpriced.
    const prices = new Map([[0, 0.32], [1, 0.5], [2, 0.3]]);
    assert.deepEqual(order('0', prices), [2, 0, 1, 3, 4]);
    assert.deepEqual(order('1', prices), [0, 2, 1, 3, 4]);
    assert.deepEqual(order('2', prices), [2, 0, 1, 3, 4]);
  });

  it('is a function of its inputs: every peer with the same prices derives the same walk', () => {
    const prices = new Map([[3, 0.2], [1, 0.21]]);
    assert.deepEqual(order('5', prices), order('5', new Map(prices)));
  });
});
