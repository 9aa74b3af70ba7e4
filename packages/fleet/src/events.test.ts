import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { sampleNodeState } from '@synkti/protocol';
import { diffFleet, digest } from './events.js';
import { MembershipView } from './membership.js';

describe('diffFleet', () => {
  it('reports joins, status and engine changes, interruptions and departures', () => {
    const view = new MembershipView('f');
    view.observe(sampleNodeState({ fleet: 'f', peerId: 'a', seq: 1, engine: { state: 'loading', models: [], inStateMs: 0 } }), 0);
    view.observe(sampleNodeState({ fleet: 'f', peerId: 'b', seq: 1 }), 0);
    const first = diffFleet(new Map(), view.snapshot(0), 0);
    assert.deepEqual(first.map((e) => [e.peerId, e.kind]), [['a', 'joined'], ['b', 'joined']]);

    const before = new Map(view.snapshot(0).map((p) => [p.peerId, digest(p)]));
    view.observe(sampleNodeState({ fleet: 'f', peerId: 'a', seq: 2, interruption: { kind: 'terminate', deadline: 120_000, noticedAt: 4_000 } }), 4_000);
    view.observe(sampleNodeState({ fleet: 'f', peerId: 'c', seq: 1, leaving: true }), 4_000);
    const later = diffFleet(before, view.snapshot(4_000), 4_000);
    assert.deepEqual(later.map((e) => [e.peerId, e.kind]), [['a', 'engine'], ['a', 'interrupted'], ['b', 'suspect']]);

    const gone = diffFleet(new Map([['z', { status: 'dead' as const, engine: 'warm', interrupted: false }]]), [], 5_000);
    assert.deepEqual(gone.map((e) => e.kind), ['forgotten']);
  });
});
