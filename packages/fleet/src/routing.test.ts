import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { seededRng } from '@synkti/interface';
import { type NodeState, sampleNodeState } from '@synkti/protocol';
import fc from 'fast-check';
import { MembershipView, type PeerSnapshot } from './membership.js';
import { affinityBound, chooseRoute, loadMoved, loadPublishDue, MAX_ROUTE_CANDIDATES } from './routing.js';

function fleet(overrides: Partial<NodeState>[]): PeerSnapshot[] {
  const view = new MembershipView('f');
  for (const [i, o] of overrides.entries()) view.observe(sampleNodeState({ fleet: 'f', peerId: `p${i}`, engine: { state: 'warm', models: ['m'], inStateMs: 0 }, ...o }), 0);
  return view.snapshot(0);
}
const load = (running: number, capacity = 8) => ({ running, waiting: 0, kvCacheUsage: 0, inFlight: 0, capacity });

describe('chooseRoute', () => {
  it('only offers healthy peers that serve the model, at most three', () => {
    const peers = fleet([
      {},
      { engine: { state: 'loading', models: ['m'], inStateMs: 0 } },
      { draining: true },
      { interruption: { kind: 'terminate', deadline: 1, noticedAt: 0 } },
      { engine: { state: 'warm', models: ['other'], inStateMs: 0 } },
      {},
      {},
      {},
    ]);
    const route = chooseRoute(peers, { model: 'm', inFlight: new Map() }, seededRng(1));
    assert.equal(route.length, MAX_ROUTE_CANDIDATES);
    for (const c of route) assert.ok(['p0', 'p5', 'p6', 'p7'].includes(c.peerId));
    assert.deepEqual(chooseRoute(peers, { model: 'nope', inFlight: new Map() }, seededRng(1)), []);
  });

  it('never picks the more loaded of the two it samples, and orders retries by load', () => {
    const peers = fleet([{ load: load(8) }, { load: load(0) }]);
    for (let seed = 0; seed < 20; seed++) {
      const route = chooseRoute(peers, { model: 'm', inFlight: new Map() }, seededRng(seed));
      assert.deepEqual(route.map((c) => c.peerId), ['p1', 'p0']);
    }
  });

  it("counts the chooser's own in-flight requests", () => {
    const peers = fleet([{ load: load(0) }, { load: load(0) }]);
    const route = chooseRoute(peers, { model: 'm', inFlight: new Map([['p0', 5]]) }, seededRng(3));
    assert.equal(route[0]?.peerId, 'p1');
  });

  it('scores a peer whose KV cache is fuller than its sequence slots by the cache', () => {
    // p0 runs few sequences but long ones: 90 % of its cache is used; p1 runs more, short ones.
    const peers = fleet([{ load: { ...load(1), kvCacheUsage: 0.9 } }, { load: { ...load(4), kvCacheUsage: 0.2 } }]);
    for (let seed = 0; seed < 20; seed++) {
      const route = chooseRoute(peers, { model: 'm', inFlight: new Map() }, seededRng(seed));
      assert.deepEqual(route.map((c) => c.peerId), ['p1', 'p0']);
      assert.equal(route[1]?.score, 0.9);
    }
  });

  it('spreads uniform load evenly (power of two choices)', () => {
    const peers = fleet([{}, {}, {}]);
    const inFlight = new Map<string, number>();
    const rng = seededRng(42);
    for (let i = 0; i < 300; i++) {
      const first = chooseRoute(peers, { model: 'm', inFlight }, rng)[0]!.peerId;
      inFlight.set(first, (inFlight.get(first) ?? 0) + 1);
    }
    const counts = [...inFlight.values()];
    assert.ok(Math.max(...counts) <= 2 * Math.min(...counts), `counts ${counts}`);
  });

  it('keeps a session on one peer while its load is within bound, and spills when it is not', () => {
    const peers = fleet([{ load: load(0) }, { load: load(0) }, { load: load(0) }]);
    const owners = new Set(Array.from({ length: 50 }, () => chooseRoute(peers, { model: 'm', inFlight: new Map(), affinityKey: 'session-7' }, seededRng(9))[0]!.peerId));
    assert.equal(owners.size, 1);
    const owner = [...owners][0]!;
    const overloaded = fleet([0, 1, 2].map((i) => ({ load: load(`p${i}` === owner ? 8 : 0) })));
    const spilled = chooseRoute(overloaded, { model: 'm', inFlight: new Map(), affinityKey: 'session-7' }, seededRng(9))[0]!.peerId;
    assert.notEqual(spilled, owner);
  });

  it('with affinity, never sends a peer past c times the mean load plus the slack (property)', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 20 }), { minLength: 1, maxLength: 8 }), fc.string(), (loads, key) => {
        const peers = fleet(loads.map((r) => ({ load: load(r, 64) })));
        const total = loads.reduce((a, b) => a + b, 0);
        const bound = affinityBound(total, loads.length, 1.25);
        const first = chooseRoute(peers, { model: 'm', inFlight: new Map(), affinityKey: key || 'k' }, seededRng(1))[0]!;
        const chosenLoad = loads[Number(first.peerId.slice(1))]!;
        const anyWithin = loads.some((l) => l + 1 <= bound);
        if (anyWithin) assert.ok(chosenLoad + 1 <= bound);
      }),
    );
  });
});

describe('loadMoved', () => {
  it('says so for a move of a tenth of capacity (at least one sequence), a KV-cache move of a tenth, or a new capacity; not for less', () => {
    assert.equal(loadMoved(load(0, 256), load(25, 256)), false);
    assert.equal(loadMoved(load(0, 256), load(26, 256)), true);
    assert.equal(loadMoved(load(30, 256), load(4, 256)), true, 'down as well as up');
    assert.equal(loadMoved(load(0, 4), load(1, 4)), true, 'one sequence on a small engine');
    assert.equal(loadMoved(load(3, 8), load(3, 8)), false);
    assert.equal(loadMoved(load(3, 8), load(3, 16)), true);
    assert.equal(loadMoved({ ...load(3, 256), kvCacheUsage: 0.2 }, { ...load(3, 256), kvCacheUsage: 0.35 }), true);
    assert.equal(loadMoved({ ...load(3, 256), kvCacheUsage: 0.2 }, { ...load(3, 256), kvCacheUsage: 0.25 }), false);
    // Waiting requests count like running ones; an engine that reports no counts is judged on the agent's own in-flight count.
    assert.equal(loadMoved(load(0, 8), { ...load(0, 8), waiting: 2 }), true);
    assert.equal(loadMoved({ ...load(0, 8), running: null }, { ...load(0, 8), running: null, inFlight: 1 }), true);
  });
});

describe('loadPublishDue', () => {
  it('publishes a moved load once the last state is a load-publish period old, not before; an unmoved load never', () => {
    const published = { load: load(0, 8), sentAt: 10_000 };
    assert.equal(loadPublishDue(published, load(4, 8), 10_500, 1_000, 20), false, 'half a heartbeat after the last publish');
    assert.equal(loadPublishDue(published, load(4, 8), 11_000, 1_000, 20), true);
    assert.equal(loadPublishDue(published, load(0, 8), 60_000, 1_000, 20), false, 'nothing moved: the keep-alive carries it');
    assert.equal(loadPublishDue(published, load(4, 8), 11_000, 1_000, 100), false, 'a fleet of 100 spaces load publishes 5 heartbeats apart');
    assert.equal(loadPublishDue(published, load(4, 8), 15_000, 1_000, 100), true);
  });
});
