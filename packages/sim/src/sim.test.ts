import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { hasCode } from '@synkti/interface';
import { runSimulation } from './simulate.js';
import { simMain } from './cli.js';
import { EventHeap } from './heap.js';
import { sweepSeeds } from './sweep.js';

describe('simulation', () => {
  it('the same seed gives byte-identical output; different seeds differ', () => {
    const a = JSON.stringify(runSimulation({ nodes: 12, hours: 6, seed: 7 }));
    const b = JSON.stringify(runSimulation({ nodes: 12, hours: 6, seed: 7 }));
    const c = JSON.stringify(runSimulation({ nodes: 12, hours: 6, seed: 8 }));
    assert.equal(a, b);
    assert.notEqual(a, c);
  });

  it('a single first node grows the fleet to its target through the provider count', () => {
    const r = runSimulation({ nodes: 8, hours: 1, seed: 3, hazardPerHour: 0, waveRatePerHour: 0, partitionRatePerHour: 0, falseRebalancePerHour: 0, bootFailureShare: 0 }, { initialNodes: 1 });
    assert.equal(r.replacements, 7);
    assert.equal(r.series.serving.at(-1), 8);
    assert.equal(r.doubleLaunches, 0);
  });

  it('fluid and request-level traffic agree on a case both can run (success within 1 point, p99 within 1 s)', () => {
    // Tolerance: the fluid model pools all sequence slots (M/M/c) while requests queue per
    // node behind power-of-two choices, so waits differ slightly; outages dominate success.
    // The seeds were picked for their outages; clock skew (which draws from the same stream) is off
    // so they keep them: at another history seed 6 saturates, where the two models' p99 part ways.
    for (const config of [
      { nodes: 6, hours: 2, seed: 5, hazardPerHour: 0.3, clockSkewMs: 0 },
      { nodes: 6, hours: 2, seed: 6, utilisation: 0.9, hazardPerHour: 0.5, clockSkewMs: 0 },
    ]) {
      const fluid = runSimulation({ ...config, traffic: 'fluid' });
      const requests = runSimulation({ ...config, traffic: 'requests' });
      assert.equal(fluid.costUsd, requests.costUsd, 'traffic must not change the fleet');
      assert.ok(Math.abs(fluid.requests.successRate - requests.requests.successRate) <= 0.01, `${fluid.requests.successRate} vs ${requests.requests.successRate}`);
      assert.ok(Math.abs(fluid.requests.p99QueueMs - requests.requests.p99QueueMs) <= 1_000, `${fluid.requests.p99QueueMs} vs ${requests.requests.p99QueueMs}`);
      assert.ok(Math.abs(fluid.requests.arrived - requests.requests.arrived) / requests.requests.arrived < 0.03);
    }
  });

  it('on-demand only never preempts and costs the baseline', () => {
    const r = runSimulation({ nodes: 5, hours: 3, policy: 'on-demand', partitionRatePerHour: 0 });
    assert.equal(r.preemptions, 0);
    assert.equal(r.savings, 0);
    assert.equal(r.requests.successRate, 1);
  });

  it('200 hostile seeds: no token reused with other parameters, no needless minority launch, target restored after heals', () => {
    const out = sweepSeeds(1, 200);
    // Zero: no slot launched over a live holder (the provider's listing gates every launch), no
    // token reused with other parameters, no minority launch without the provider's word, and
    // every restore within the bound (the bench sweeps 2,000 seeds).
    assert.deepEqual(out.violations, []);
    assert.ok(out.partitions > 500 && out.replacements > 1000);
    // Duelling launchers really raced (same view, same tokens) and the provider absorbed it.
    assert.ok(out.idempotentHits > 1000, `only ${out.idempotentHits} idempotent repeats: the duels did not race`);
  });
});

describe('EventHeap', () => {
  it('pops in time order, ties in insertion order', () => {
    const h = new EventHeap<string>();
    for (const [t, v] of [[5, 'a'], [1, 'b'], [5, 'c'], [0, 'd'], [1, 'e']] as const) h.push(t, v);
    const out: string[] = [];
    for (let e = h.pop(); e !== undefined; e = h.pop()) out.push(e.item);
    assert.deepEqual(out, ['d', 'b', 'e', 'a', 'c']);
  });
});

describe('simMain', () => {
  it('prints a table and JSON; rejects bad input with a typed one-line error', async () => {
    let text = '';
    const code = await simMain(['--nodes', '4', '--hours', '1', '--policy', 'greedy'], (t) => {
      text += t;
    });
    assert.equal(code, 0);
    assert.match(text, /spot only \(Greedy\)/);
    let json = '';
    await simMain(['--nodes', '4', '--hours', '1', '--policy', 'on-demand', '--json'], (t) => {
      json += t;
    });
    assert.equal(JSON.parse(json).results[0].policy, 'on-demand only');
    for (const bad of [['--nodes', 'x'], ['--policy', 'yolo'], ['--bogus'], ['--hours', '-1'], ['--study', 'other']]) {
      await assert.rejects(simMain(bad, () => {}), (err: unknown) => hasCode(err, 'SIM_BAD_CONFIG') && !(err as Error).message.includes('\n'));
    }
  });

  it('runs the seed study beside the published table', async () => {
    let text = '';
    await simMain(['--study', 'seed-phase1'], (t) => {
      text += t;
    });
    assert.match(text, /Greedy \+ KM/);
    assert.match(text, /\$415\.72/);
  });
});
