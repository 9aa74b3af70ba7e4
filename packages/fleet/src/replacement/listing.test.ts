import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { seededRng } from '@synkti/interface';
import { indexListing } from './listing.js';
import { slotIndex } from './slots.js';
import type { ProviderInstance } from './types.js';

describe('listing index', () => {
  it('built from the last one for a listing that shares most entries equals one built afresh', () => {
    const rng = seededRng(9);
    const instance = (n: number): ProviderInstance => ({ instanceId: `i-${n}`, slot: rng() < 0.05 ? null : String(Math.floor(rng() * 14)) });
    let list = Array.from({ length: 40 }, (_, n) => instance(n));
    let target = 12;
    for (let round = 0; round < 1500; round++) {
      list = list.slice();
      for (let c = Math.floor(rng() * 4); c > 0; c--) {
        const r = rng();
        const at = Math.floor(rng() * list.length);
        if (r < 0.3 && list.length > 3) list.splice(at, 1);
        else if (r < 0.6) list.splice(rng() < 0.5 ? list.length : at, 0, instance(1000 + round * 10 + c));
        else list[at] = instance(5000 + round * 10 + c);
      }
      if (rng() < 0.03) list = list.map((_, n) => instance(9000 + round * 100 + n));
      if (rng() < 0.02) target = 10 + Math.floor(rng() * 5);
      const idx = indexListing(list, target);
      const head = new Array<number>(target).fill(-1);
      const next = new Array<number>(list.length).fill(-1);
      for (let k = list.length - 1; k >= 0; k--) {
        const i = slotIndex(list[k]!.slot, target);
        if (i < 0) continue;
        next[k] = head[i]!;
        head[i] = k;
      }
      assert.deepEqual([...idx.head], head, `round ${round}`);
      assert.deepEqual([...idx.next], next, `round ${round}`);
      assert.deepEqual(idx.ids, list.map((i) => i.instanceId), `round ${round}`);
    }
  });
});
