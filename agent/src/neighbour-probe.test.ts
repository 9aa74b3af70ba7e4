import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { MembershipView, NEIGHBOUR_PROBE_INTERVAL_MS } from '@synkti/fleet';
import { ManualClock, silentLogger } from '@synkti/interface';
import { sampleNodeState } from '@synkti/protocol';
import { NeighbourProbe } from './neighbour-probe.js';

function setup(opts: { answers: Record<string, boolean>; via?: Record<string, boolean>; connected?: string[] }) {
  const clock = new ManualClock(0);
  // Long timings: the peers stay alive while the clock runs without their heartbeats.
  const view = new MembershipView('f', { suspectAfterMs: 60_000, deadAfterMs: 120_000 });
  view.setSelf('me');
  for (const p of ['me', 'a', 'b', 'c', 'd']) view.observe(sampleNodeState({ fleet: 'f', peerId: p, seq: 1 }), 0);
  const pinged: string[] = [];
  const asked: string[] = [];
  const suspected: string[] = [];
  const mesh = {
    connectedPeers: () => opts.connected ?? ['a', 'b', 'c'],
    reachable: async (peer: string) => {
      pinged.push(peer);
      return opts.answers[peer] ?? true;
    },
    reachableVia: async (helper: string, target: string) => {
      asked.push(`${helper}->${target}`);
      return opts.via?.[helper] ?? false;
    },
  };
  const probe = new NeighbourProbe({ mesh, view, clock, logger: silentLogger, self: () => 'me', suspect: (p) => suspected.push(p) });
  return { clock, view, probe, pinged, asked, suspected };
}

const settle = () => new Promise((r) => setImmediate(r));

describe('NeighbourProbe (fake clock, fake mesh)', () => {
  it('pings one connected, alive neighbour per interval, round robin', async () => {
    const { clock, probe, pinged, suspected } = setup({ answers: {} });
    probe.start();
    for (let i = 0; i < 4; i++) {
      clock.advance(NEIGHBOUR_PROBE_INTERVAL_MS);
      await settle();
    }
    probe.stop();
    assert.deepEqual(pinged, ['a', 'b', 'c', 'a']);
    assert.deepEqual(suspected, []);
    clock.advance(10 * NEIGHBOUR_PROBE_INTERVAL_MS);
    await settle();
    assert.equal(pinged.length, 4, 'stopped');
  });

  it('a neighbour that answers nobody is suspected; one that answers a helper is not', async () => {
    const gone = setup({ answers: { a: false } });
    await gone.probe.probeOnce();
    assert.deepEqual(gone.suspected, ['a']);
    assert.equal(gone.asked.length, 2, 'two helpers asked');
    assert.ok(gone.asked.every((x) => x.endsWith('->a') && !x.startsWith('me')));
    const badLink = setup({ answers: { a: false }, via: { b: true, c: true, d: true } });
    await badLink.probe.probeOnce();
    assert.deepEqual(badLink.suspected, [], 'a bad link between two nodes is not a lost node');
  });

  it('skips peers already suspect or not in view, and itself', async () => {
    const { view, probe, pinged } = setup({ answers: {}, connected: ['me', 'ghost', 'a', 'b'] });
    view.suspect('a', 0);
    await probe.probeOnce();
    await probe.probeOnce();
    assert.deepEqual(pinged, ['b', 'b']);
  });
});
