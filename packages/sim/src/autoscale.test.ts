import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { hasCode, seededRng } from '@synkti/interface';
import { simMain } from './cli.js';
import { HOUR_MS } from './constants.js';
import { runSimulation } from './simulate.js';
import { sweepConfig } from './sweep.js';
import { buildShape } from './traffic/shape.js';

/** The target in force at hour h of a run, from its chart samples. */
const targetAt = (series: { t: number[]; target: number[] }, h: number): number => series.target[series.t.findIndex((t) => t >= h)]!;

describe('the simulator scales with the fleet\'s own autoscaling rule', () => {
  it('traces: diurnal from a quarter of peak to the peak and back, bursty between base and peak, the step at 2 h, all from the seed', () => {
    const diurnal = buildShape('diurnal', 72 * HOUR_MS, seededRng(1));
    assert.ok(Math.abs(diurnal.factorAt(0) - 0.25) < 1e-9 && Math.abs(diurnal.factorAt(12 * HOUR_MS) - 1) < 1e-9 && Math.abs(diurnal.factorAt(24 * HOUR_MS) - 0.25) < 1e-9);
    const bursty = buildShape('bursty', 72 * HOUR_MS, seededRng(1));
    const samples = Array.from({ length: 72 * 60 }, (_, i) => bursty.factorAt(i * 60_000));
    assert.ok(samples.every((f) => f === 0.35 || f === 1) && samples.includes(1) && samples.includes(0.35));
    const again = buildShape('bursty', 72 * HOUR_MS, seededRng(1));
    assert.deepEqual(samples, Array.from({ length: 72 * 60 }, (_, i) => again.factorAt(i * 60_000)));
    const step = buildShape('step', 4 * HOUR_MS, seededRng(1));
    assert.deepEqual([step.factorAt(2 * HOUR_MS - 1), step.factorAt(2 * HOUR_MS)], [0.3, 1]);
  });

  it('a diurnal day: ≥ 80 % saved against on-demand for peak at ≥ 99.9 % success, cheapest pools below the market mean, deterministic by seed', () => {
    const config = { policy: 'fallback' as const, hours: 72, trafficShape: 'diurnal' as const, autoscale: true, placementOrder: 'price' as const };
    const r = runSimulation(config);
    assert.ok(r.savings >= 0.8, `saved ${r.savings} against on-demand for peak`);
    assert.ok(r.requests.successRate >= 0.999, `success ${r.requests.successRate}`);
    assert.ok(r.prices.paidSpotPerHour! < r.prices.meanSpotPerHour, `paid ${r.prices.paidSpotPerHour} $/h, market mean ${r.prices.meanSpotPerHour}`);
    assert.equal(r.doubleLaunches, 0);
    // It follows the load: small at the trough, large at the peak, within its bounds, and cheaper than spot fixed for peak.
    assert.ok(targetAt(r.series, 12) > 2 * targetAt(r.series, 0.1), `target ${targetAt(r.series, 0.1)} at the trough, ${targetAt(r.series, 12)} at the peak`);
    assert.ok(r.series.target.every((t) => t >= r.config.minNodes && t <= r.config.nodes));
    assert.ok(r.scale.outs > 10 && r.scale.ins > 10);
    const fixed = runSimulation({ ...config, autoscale: false });
    assert.ok(r.costUsd < fixed.costUsd * 0.7, `autoscaled $${r.costUsd}, fixed for peak $${fixed.costUsd}`);
    assert.equal(JSON.stringify(runSimulation(config)), JSON.stringify(r));
  });

  it('cheapest-first placement pays less per spot hour than placement spread by slot alone', () => {
    const base = { policy: 'greedy' as const, hours: 24, nodes: 20, trafficShape: 'diurnal' as const, autoscale: true };
    const cheapest = runSimulation({ ...base, placementOrder: 'price' });
    const spread = runSimulation({ ...base, placementOrder: 'spread' });
    assert.ok(cheapest.prices.paidSpotPerHour! < spread.prices.paidSpotPerHour!, `${cheapest.prices.paidSpotPerHour} vs ${spread.prices.paidSpotPerHour}`);
  });

  it('an on-demand fallback goes back to spot once spot capacity returns: fewer on-demand hours, no double launch', () => {
    // Long, frequent shortages in every market: slots fall back to on-demand now and then.
    const base = { nodes: 20, hours: 24, policy: 'fallback' as const, seed: 3, shortageRatePerHour: 1, shortageMeanMs: 3 * HOUR_MS };
    const back = runSimulation(base);
    const stays = runSimulation({ ...base, spotReturnAfterMs: 0 });
    assert.ok(stays.hours.onDemand > 0, 'the scenario produces on-demand fallbacks');
    assert.ok(back.spotReturns > 0 && stays.spotReturns === 0);
    assert.ok(back.hours.onDemand < stays.hours.onDemand, `on-demand hours ${back.hours.onDemand} with spot return, ${stays.hours.onDemand} without`);
    assert.equal(back.doubleLaunches, 0);
    assert.ok(back.requests.successRate >= stays.requests.successRate - 0.001);
  });

  it('constant load does not flap: the size settles and stays', () => {
    const r = runSimulation({ hours: 24, nodes: 20, trafficShape: 'constant', autoscale: true, hazardPerHour: 0, waveRatePerHour: 0, partitionRatePerHour: 0, shortageRatePerHour: 0, falseRebalancePerHour: 0 });
    assert.ok(r.scale.outs + r.scale.ins <= 2, `moves: ${JSON.stringify(r.scale.events)}`);
  });

  it('40 hostile seeds with autoscaling on moving traffic: no double launch, no token misuse, no minority launch without the provider\'s word', () => {
    const violations: string[] = [];
    let moves = 0;
    for (let seed = 1; seed <= 40; seed++) {
      const r = runSimulation({ ...sweepConfig(seed), hours: 12, minNodes: 1, autoscale: true, trafficShape: seed % 2 === 0 ? 'bursty' : 'diurnal' });
      moves += r.scale.outs + r.scale.ins;
      if (r.doubleLaunches + r.mismatches + r.minorityLaunchesWithoutWitness > 0) violations.push(`seed ${seed}: ${r.doubleLaunches} double, ${r.mismatches} mismatched, ${r.minorityLaunchesWithoutWitness} minority`);
    }
    assert.deepEqual(violations, []);
    assert.ok(moves > 100, `only ${moves} scale moves: the sweep did not exercise scaling`);
  });

  it('synkti sim --traffic diurnal --autoscale prints the autoscaled and the fixed fleet; bad flags get one line', async () => {
    let text = '';
    assert.equal(await simMain(['--nodes', '6', '--hours', '6', '--policy', 'greedy', '--traffic', 'diurnal', '--autoscale'], (t) => (text += t)), 0);
    assert.match(text, /spot only \(Greedy\), autoscaled 2–6 /);
    assert.match(text, /spot only \(Greedy\) {2,}\$/);
    let json = '';
    await simMain(['--nodes', '4', '--hours', '1', '--policy', 'greedy', '--traffic', 'fluid', '--json'], (t) => (json += t));
    assert.equal(JSON.parse(json).results[0].trafficMode, 'fluid', 'the older --traffic fluid still picks the model');
    for (const bad of [['--traffic', 'hourly'], ['--traffic-model', 'x'], ['--placement', 'dear'], ['--autoscale', '--min-nodes', '0'], ['--nodes', '4', '--min-nodes', '5'], ['--target-utilization', '1.5']]) {
      await assert.rejects(simMain(bad, () => {}), (err: unknown) => hasCode(err, 'SIM_BAD_CONFIG') && !(err as Error).message.includes('\n'), bad.join(' '));
    }
  });
});
