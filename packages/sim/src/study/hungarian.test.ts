import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { firstFit, hungarian } from './hungarian.js';

/** Brute force: the best over all injective maps of the smaller side, maximising feasible pairs, then minimising cost. */
function brute(cost: number[][]): { pairs: number; total: number } {
  const rows = cost.length;
  const cols = cost[0]?.length ?? 0;
  let best = { pairs: -1, total: Number.POSITIVE_INFINITY };
  const used = new Array<boolean>(cols).fill(false);
  const walk = (i: number, pairs: number, total: number): void => {
    if (i === rows) {
      if (pairs > best.pairs || (pairs === best.pairs && total < best.total - 1e-9)) best = { pairs, total };
      return;
    }
    walk(i + 1, pairs, total); // row i unassigned
    for (let j = 0; j < cols; j++) {
      if (used[j] || !Number.isFinite(cost[i]![j]!)) continue;
      used[j] = true;
      walk(i + 1, pairs + 1, total + cost[i]![j]!);
      used[j] = false;
    }
  };
  walk(0, 0, 0);
  return best;
}

const matrix = fc
  .tuple(fc.integer({ min: 1, max: 7 }), fc.integer({ min: 1, max: 7 }))
  .chain(([r, c]) =>
    fc.array(fc.array(fc.oneof({ weight: 4, arbitrary: fc.integer({ min: 0, max: 50 }) }, { weight: 1, arbitrary: fc.constant(Number.POSITIVE_INFINITY) }), { minLength: c, maxLength: c }), {
      minLength: r,
      maxLength: r,
    }),
  );

describe('hungarian', () => {
  it('equals brute force on random instances up to 7×7, rectangular and with infeasible pairs', () => {
    fc.assert(
      fc.property(matrix, (cost) => {
        const { assignment, total } = hungarian(cost);
        const pairs = assignment.filter((j) => j >= 0).length;
        const cols = assignment.filter((j) => j >= 0);
        assert.equal(new Set(cols).size, cols.length, 'a column used twice');
        assignment.forEach((j, i) => {
          if (j >= 0) assert.ok(Number.isFinite(cost[i]![j]!));
        });
        const b = brute(cost);
        assert.equal(pairs, b.pairs);
        assert.ok(Math.abs(total - b.total) < 1e-9, `total ${total} vs ${b.total}`);
      }),
      { numRuns: 300 },
    );
  });

  it('handles an all-infeasible matrix and empty input', () => {
    const inf = Number.POSITIVE_INFINITY;
    assert.deepEqual(hungarian([[inf, inf], [inf, inf]]), { assignment: [-1, -1], total: 0 });
    assert.deepEqual(hungarian([]), { assignment: [], total: 0 });
  });

  it('beats first-fit where first-fit wastes the only column a later row could use', () => {
    const inf = Number.POSITIVE_INFINITY;
    const cost = [
      [1, 2],
      [inf, 3],
    ];
    assert.deepEqual(firstFit(cost).assignment, [0, 1]);
    const tricky = [
      [1, 1],
      [1, inf],
    ];
    assert.deepEqual(firstFit(tricky).assignment, [0, -1]);
    assert.deepEqual(hungarian(tricky).assignment, [1, 0]);
  });
});
