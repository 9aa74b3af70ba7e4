import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { sampleNodeState, type ScaleDecision } from '@synkti/protocol';
import fc from 'fast-check';
import { addSample, agreedScale, type AutoscaleConfig, decideScale, effectiveTarget, type LoadSample, loadSample } from './autoscale.js';
import { MembershipView } from './membership.js';

const config: AutoscaleConfig = {
  minNodes: 1,
  maxNodes: 6,
  targetLoadPerNode: 10,
  kvCeiling: 0.9,
  scaleOutWindowMs: 30_000,
  scaleInWindowMs: 120_000,
  scaleOutCooldownMs: 60_000,
  scaleInCooldownMs: 300_000,
  scaleInLoadFraction: 0.7,
};

/** One sample a second from `from` to `to` (ms), demand given by `f(t)`. */
function series(from: number, to: number, demand: (t: number) => number, kvMax: number | null = null): LoadSample[] {
  let out: LoadSample[] = [];
  for (let t = from; t <= to; t += 1_000) out = addSample(out, { at: t, demand: demand(t), nodes: 2, kvMax }, 600_000);
  return out;
}

const decided = (target: number, generation: number, decidedAt: number): ScaleDecision => ({ target, generation, decidedAt, reason: 'test' });

describe('decideScale', () => {
  it('scales out to what the lowest demand of the window needs, only once the window is full', () => {
    const samples = series(0, 29_000, () => 45);
    assert.deepEqual(decideScale({ config, target: 2, agreed: null, samples, replacing: false, now: 29_000 }), { kind: 'hold', reason: 'window-not-full' });
    const full = series(0, 30_000, () => 45);
    assert.deepEqual(decideScale({ config, target: 2, agreed: null, samples: full, replacing: false, now: 30_000 }), { kind: 'decide', decision: { target: 5, generation: 1, decidedAt: 30_000, reason: 'load-high' } });
  });

  it('ignores a burst shorter than the window: the lowest sample decides', () => {
    const samples = series(0, 60_000, (t) => (t > 50_000 ? 200 : 15));
    assert.deepEqual(decideScale({ config, target: 2, agreed: null, samples, replacing: false, now: 60_000 }), { kind: 'hold', reason: 'steady' });
  });

  it('never goes above maxNodes, and holds at it', () => {
    const samples = series(0, 30_000, () => 1_000);
    const v = decideScale({ config, target: 2, agreed: null, samples, replacing: false, now: 30_000 });
    assert.ok(v.kind === 'decide' && v.decision.target === 6);
    assert.deepEqual(decideScale({ config, target: 6, agreed: decided(6, 1, 0), samples, replacing: false, now: 30_000 }), { kind: 'hold', reason: 'at-max' });
  });

  it('adds a node when every KV cache sample is above the ceiling, whatever the sequence count', () => {
    const samples = series(0, 30_000, () => 5, 0.95);
    const v = decideScale({ config, target: 2, agreed: null, samples, replacing: false, now: 30_000 });
    assert.ok(v.kind === 'decide' && v.decision.target === 3 && v.decision.reason === 'kv-cache-full');
  });

  it('scales in one node at a time after a quiet window, with hysteresis, never below minNodes', () => {
    const quiet = series(0, 120_000, () => 13);
    // 13 ≤ (3-1) × 10 × 0.7 = 14: one node fewer still leaves room.
    const v = decideScale({ config, target: 3, agreed: null, samples: quiet, replacing: false, now: 120_000 });
    assert.ok(v.kind === 'decide' && v.decision.target === 2 && v.decision.reason === 'load-low');
    // 15 > 14: stays, though 15 < 2 × 10 (the gap is the hysteresis).
    assert.deepEqual(decideScale({ config, target: 3, agreed: null, samples: series(0, 120_000, () => 15), replacing: false, now: 120_000 }), { kind: 'hold', reason: 'steady' });
    assert.deepEqual(decideScale({ config, target: 1, agreed: null, samples: series(0, 120_000, () => 0), replacing: false, now: 120_000 }), { kind: 'hold', reason: 'steady' });
    const atMin = { ...config, minNodes: 2 };
    assert.deepEqual(decideScale({ config: atMin, target: 2, agreed: null, samples: series(0, 120_000, () => 0), replacing: false, now: 120_000 }), { kind: 'hold', reason: 'at-min' });
  });

  it('never scales in while a replacement is in flight, and respects each cooldown from the last decision', () => {
    const quiet = series(0, 400_000, () => 0);
    assert.deepEqual(decideScale({ config, target: 3, agreed: null, samples: quiet, replacing: true, now: 400_000 }), { kind: 'hold', reason: 'replacing' });
    assert.deepEqual(decideScale({ config, target: 3, agreed: decided(3, 4, 200_000), samples: quiet, replacing: false, now: 400_000 }), { kind: 'hold', reason: 'cooldown' });
    const v = decideScale({ config, target: 3, agreed: decided(3, 4, 100_000), samples: quiet, replacing: false, now: 400_000 });
    assert.ok(v.kind === 'decide' && v.decision.generation === 5 && v.decision.target === 2);
    const busy = series(0, 100_000, () => 100);
    assert.deepEqual(decideScale({ config, target: 3, agreed: decided(3, 4, 50_000), samples: busy, replacing: false, now: 100_000 }), { kind: 'hold', reason: 'cooldown' });
  });

  it('a load oscillating inside the band changes nothing', () => {
    // Target 3, 10 per node: scale-out needs every sample > 30, scale-in every sample ≤ 14.
    const samples = series(0, 600_000, (t) => 15 + ((t / 1_000) % 16));
    for (let now = 120_000; now <= 600_000; now += 30_000) {
      const inside = samples.filter((s) => s.at <= now);
      assert.deepEqual(decideScale({ config, target: 3, agreed: null, samples: inside, replacing: false, now }), { kind: 'hold', reason: 'steady' }, `at ${now}`);
    }
  });

  it('agreement: views that share the gossiped facts decide the same target', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 100 }), { minLength: 31, maxLength: 31 }), fc.integer({ min: 1, max: 6 }), (demands, target) => {
        const samples = demands.map((d, i) => ({ at: i * 1_000, demand: d, nodes: 3, kvMax: null }));
        const a = decideScale({ config, target, agreed: null, samples, replacing: false, now: 30_000 });
        const b = decideScale({ config, target, agreed: null, samples: samples.map((s) => ({ ...s })), replacing: false, now: 30_000 });
        return JSON.stringify(a) === JSON.stringify(b);
      }),
      { numRuns: 100 },
    );
  });

  it('cannot flap: under any constant demand, a decision is never followed by the opposite one', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 80 }), fc.integer({ min: 1, max: 6 }), (demand, start) => {
        let target = start;
        let agreed: ScaleDecision | null = null;
        const directions = new Set<number>();
        for (let now = 0; now <= 3_600_000; now += 60_000) {
          const v = decideScale({ config, target, agreed, samples: series(Math.max(0, now - 300_000), now, () => demand), replacing: false, now });
          if (v.kind === 'decide') {
            directions.add(Math.sign(v.decision.target - target));
            target = v.decision.target;
            agreed = v.decision;
          }
        }
        return directions.size <= 1;
      }),
      { numRuns: 200 },
    );
  });
});

describe('agreedScale and effectiveTarget', () => {
  it('every peer follows the highest generation in view; without one, the configured size within [min, max]', () => {
    const view = new MembershipView('f');
    view.observe(sampleNodeState({ fleet: 'f', peerId: 'a', scale: decided(4, 2, 100) }), 0);
    view.observe(sampleNodeState({ fleet: 'f', peerId: 'b', scale: decided(3, 3, 200) }), 0);
    view.observe(sampleNodeState({ fleet: 'f', peerId: 'c' }), 0);
    const agreed = agreedScale(view.snapshot(0));
    assert.deepEqual(agreed, decided(3, 3, 200));
    assert.equal(effectiveTarget(agreed, 8, config), 3);
    assert.equal(effectiveTarget(null, 8, config), 6);
    assert.equal(effectiveTarget(null, 0, config), 1);
  });

  it('two deciders of one generation: the larger target wins everywhere, whatever the order seen', () => {
    const view = (order: Array<[string, ScaleDecision]>) => {
      const v = new MembershipView('f');
      for (const [peerId, scale] of order) v.observe(sampleNodeState({ fleet: 'f', peerId, scale }), 0);
      return agreedScale(v.snapshot(0));
    };
    const small = decided(4, 7, 500);
    const large = decided(5, 7, 400);
    assert.deepEqual(view([['a', small], ['b', large]]), large);
    assert.deepEqual(view([['b', large], ['a', small]]), large);
  });

  it('samples the load of healthy peers only', () => {
    const view = new MembershipView('f');
    const load = (running: number, kv: number | null) => ({ running, waiting: 2, kvCacheUsage: kv, inFlight: 0, capacity: 8 });
    view.observe(sampleNodeState({ fleet: 'f', peerId: 'a', load: load(3, 0.5) }), 0);
    view.observe(sampleNodeState({ fleet: 'f', peerId: 'b', load: load(4, 0.7) }), 0);
    view.observe(sampleNodeState({ fleet: 'f', peerId: 'c', load: load(50, 0.99), draining: true }), 0);
    assert.deepEqual(loadSample(view.snapshot(0), 7), { at: 7, demand: 11, nodes: 2, kvMax: 0.7 });
  });
});
