import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { sampleNodeState } from '@synkti/protocol';
import fc from 'fast-check';
import { DEPARTURE_MEMORY_MS } from './constants.js';
import { compareVersions, MembershipView } from './membership.js';

const state = (peerId: string, seq: number, extra: Parameters<typeof sampleNodeState>[0] = {}) =>
  sampleNodeState({ fleet: 'f', peerId, seq, ...extra });

describe('MembershipView', () => {
  it('walks a silent peer from alive to suspect to dead, then forgets it', () => {
    const view = new MembershipView('f', { suspectAfterMs: 3_000, deadAfterMs: 10_000, forgetAfterMs: 5_000 });
    assert.equal(view.observe(state('a', 1), 0), 'new-peer');
    assert.equal(view.status('a', 3_000), 'alive');
    assert.equal(view.status('a', 3_001), 'suspect');
    assert.equal(view.status('a', 10_000), 'suspect');
    assert.equal(view.status('a', 10_001), 'dead');
    assert.deepEqual(view.prune(15_000), []);
    assert.deepEqual(view.prune(15_001), ['a']);
    assert.equal(view.status('a', 15_001), undefined);
  });

  it('a relayed state (state sync) counts its silence from when it arrived at the helper; what it carries is heard now', () => {
    const view = new MembershipView('f', { suspectAfterMs: 3_000, deadAfterMs: 10_000, forgetAfterMs: 5_000 });
    view.observe(state('target', 1), 50_000);
    // Relayed 9 s after it reached the helper, naming 'target' as suspect at the version held.
    assert.equal(view.observe(state('relayed', 1, { suspects: [{ peerId: 'target', incarnation: 1, seq: 1 }] }), 50_000, 41_000), 'new-peer');
    assert.equal(view.get('relayed')?.lastSeenAt, 41_000);
    assert.equal(view.status('relayed', 51_001), 'dead', 'dead 10 s after it arrived at the helper');
    assert.equal(view.get('target')?.rumouredAt, 50_000, 'the rumour is heard now, not back-dated');
    assert.equal(view.status('target', 59_000), 'suspect');
    assert.equal(view.observe(state('later', 1), 50_000, 60_000), 'new-peer');
    assert.equal(view.get('later')?.lastSeenAt, 50_000, 'never in the future');
  });

  it('ignores duplicates and out-of-order messages by sequence number', () => {
    const view = new MembershipView('f');
    view.observe(state('a', 5), 0);
    assert.equal(view.observe(state('a', 5), 100), 'duplicate');
    assert.equal(view.observe(state('a', 4), 200), 'stale');
    assert.equal(view.get('a')?.lastSeenAt, 0, 'a stale message must not refresh liveness');
    assert.equal(view.observe(state('a', 6), 300), 'updated');
    assert.equal(view.get('a')?.state.seq, 6);
  });

  it('recognises a restarted agent: same peer ID, new incarnation, sequence reset', () => {
    const view = new MembershipView('f');
    view.observe(state('a', 900, { incarnation: 1 }), 0);
    assert.equal(view.observe(state('a', 1, { incarnation: 2 }), 20_000), 'restarted');
    assert.equal(view.status('a', 20_000), 'alive');
    assert.equal(view.get('a')?.firstSeenAt, 20_000);
    assert.equal(view.observe(state('a', 901, { incarnation: 1 }), 20_001), 'stale', 'the old life is over');
  });

  it('drops a peer at once when it says goodbye', () => {
    const view = new MembershipView('f');
    view.observe(state('a', 1), 0);
    assert.equal(view.observe(state('a', 2, { leaving: true }), 10), 'left');
    assert.equal(view.status('a', 10), undefined);
    assert.equal(view.observe(state('a', 1), 20), 'stale', 'a late copy of an older state does not bring it back');
    assert.deepEqual(view.departures().map((d) => [d.peerId, d.instanceId, d.leftAt]), [['a', null, 10]]);
    assert.equal(view.observe(state('a', 1, { incarnation: 2 }), 30), 'new-peer', 'a new life of the same peer ID joins again');
    assert.deepEqual(view.departures(), []);
  });

  it('remembers a departure for DEPARTURE_MEMORY_MS, however soon dead peers are forgotten', () => {
    const view = new MembershipView('f', { forgetAfterMs: 5_000 });
    view.observe(state('a', 2, { leaving: true }), 10);
    view.prune(DEPARTURE_MEMORY_MS + 10);
    assert.equal(view.departures().length, 1);
    view.prune(DEPARTURE_MEMORY_MS + 11);
    assert.deepEqual(view.departures(), []);
  });

  it('a fenced instance leaves the view and its late states never bring it back; a peer\'s gossip tells the others', () => {
    const provider = (instanceId: string) => ({ kind: 'local' as const, instanceId, instanceType: null, zone: null, lifecycle: 'spot' as const, slot: '3' });
    const view = new MembershipView('f');
    view.observe(state('ghost', 5, { provider: provider('i-3') }), 0);
    assert.deepEqual(view.fence('i-3', 100), ['ghost']);
    assert.equal(view.observe(state('ghost', 6, { provider: provider('i-3') }), 200), 'fenced', 'a message it sent before it was killed, delivered after the heal');
    assert.equal(view.status('ghost', 200), undefined);
    const other = new MembershipView('f');
    other.observe(state('ghost', 5, { provider: provider('i-3') }), 0);
    other.observe(state('launcher', 1, { fenced: ['i-3'] }), 100);
    assert.equal(other.status('ghost', 100), undefined, 'dropped on the launcher\'s word');
    assert.equal(other.observe(state('ghost', 7, { provider: provider('i-3') }), 200), 'fenced');
  });

  it('rejects states of another fleet', () => {
    const view = new MembershipView('f');
    assert.equal(view.observe(sampleNodeState({ fleet: 'other', peerId: 'x' }), 0), 'wrong-fleet');
    assert.equal(view.size, 0);
  });

  it('calls a peer healthy only when alive, warm, not interrupted and not draining; a rebalance recommendation keeps it serving', () => {
    const view = new MembershipView('f');
    view.observe(state('warm', 1), 0);
    view.observe(state('warm-at-risk', 1, { interruption: { kind: 'rebalance', deadline: null, noticedAt: 0 } }), 0);
    view.observe(state('loading', 1, { engine: { state: 'loading', models: ['m'], inStateMs: 0 } }), 0);
    view.observe(state('noticed', 1, { interruption: { kind: 'terminate', deadline: 120_000, noticedAt: 0 } }), 0);
    view.observe(state('draining', 1, { draining: true }), 0);
    assert.deepEqual(view.healthy(0).map((p) => p.peerId), ['warm', 'warm-at-risk']);
    assert.deepEqual(view.healthy(4_000).map((p) => p.peerId), [], 'a suspect peer is not healthy');
  });

  it('lets a hint make a peer suspect (dead only if no fresh state refutes it within deadAfter); fresh state clears it', () => {
    const view = new MembershipView('f');
    view.observe(state('a', 1), 0);
    view.suspect('a', 10);
    assert.equal(view.status('a', 10), 'suspect');
    view.observe(state('a', 2), 20);
    assert.equal(view.status('a', 20), 'alive');
  });

  it('refuses timings where suspicion would come after death', () => {
    assert.throws(() => new MembershipView('f', { suspectAfterMs: 10_000, deadAfterMs: 5_000 }), RangeError);
  });
});

describe('MembershipView properties', () => {
  const message = fc.record({
    peer: fc.constantFrom('a', 'b', 'c'),
    incarnation: fc.integer({ min: 1, max: 3 }),
    seq: fc.integer({ min: 0, max: 20 }),
  });

  it('ends with the highest (incarnation, seq) per peer whatever the delivery order', () => {
    fc.assert(
      fc.property(fc.array(message, { minLength: 1, maxLength: 40 }), fc.integer(), (msgs, seed) => {
        const states = msgs.map((m) => state(m.peer, m.seq, { incarnation: m.incarnation }));
        const shuffled = [...states].sort((x, y) => ((x.seq * 31 + y.incarnation + seed) % 3) - 1);
        const inOrder = new MembershipView('f');
        const outOfOrder = new MembershipView('f');
        for (const [i, s] of states.entries()) inOrder.observe(s, i);
        for (const [i, s] of shuffled.entries()) outOfOrder.observe(s, i);
        for (const peer of ['a', 'b', 'c']) {
          const best = states.filter((s) => s.peerId === peer).sort(compareVersions).at(-1);
          assert.equal(inOrder.get(peer)?.state.seq, best?.seq);
          assert.equal(outOfOrder.get(peer)?.state.incarnation, best?.incarnation);
          assert.equal(outOfOrder.get(peer)?.state.seq, best?.seq);
        }
      }),
    );
  });

  it('never lets the accepted version of a peer go backwards', () => {
    fc.assert(
      fc.property(fc.array(message, { minLength: 1, maxLength: 60 }), (msgs) => {
        const view = new MembershipView('f');
        msgs.forEach((m, i) => {
          const before = view.get(m.peer)?.state;
          view.observe(state(m.peer, m.seq, { incarnation: m.incarnation }), i);
          const after = view.get(m.peer)?.state;
          if (before !== undefined && after !== undefined) assert.ok(compareVersions(after, before) >= 0);
        });
      }),
    );
  });

  it('moves a silent peer only forward: alive, then suspect, then dead', () => {
    const rank = { alive: 0, suspect: 1, dead: 2 } as const;
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 30_000 }), { minLength: 2, maxLength: 20 }), (times) => {
        const view = new MembershipView('f');
        view.observe(state('a', 1), 0);
        let last = 0;
        for (const t of [...times].sort((x, y) => x - y)) {
          const status = view.status('a', t);
          assert.ok(status !== undefined);
          assert.ok(rank[status] >= last);
          last = rank[status];
        }
      }),
    );
  });

  it('an agent is alive in its own view however late its own last state (a lagging event loop delays its heartbeats too)', () => {
    const view = new MembershipView('f', { suspectAfterMs: 1_000, deadAfterMs: 5_000 });
    view.setSelf('me');
    view.observe(sampleNodeState({ fleet: 'f', peerId: 'me' }), 0);
    view.observe(sampleNodeState({ fleet: 'f', peerId: 'other' }), 0);
    const at = (ms: number) => Object.fromEntries(view.snapshot(ms).map((p) => [p.peerId, p.status]));
    assert.deepEqual(at(3_000), { me: 'alive', other: 'suspect' });
    assert.deepEqual(at(9_000), { me: 'alive', other: 'dead' });
  });
});
