import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { MAX_SUSPECTS_PER_NODE, sampleNodeState } from '@synkti/protocol';
import { KEEPALIVE_STATES_PER_HEARTBEAT, LOAD_STATES_PER_HEARTBEAT } from './constants.js';
import { keepAlivePeriodMs, loadPublishPeriodMs, MembershipView, suspectsMe } from './membership.js';

const state = (peerId: string, seq: number, extra: Parameters<typeof sampleNodeState>[0] = {}) =>
  sampleNodeState({ fleet: 'f', peerId, seq, incarnation: 1, ...extra });
const timings = { suspectAfterMs: 3_000, deadAfterMs: 10_000, forgetAfterMs: 5_000 };

describe('gossiped suspicion and its refutation', () => {
  it('a suspicion heard from a peer makes the suspect suspect here, and any newer state of the suspect clears it', () => {
    const view = new MembershipView('f', timings);
    view.setSelf('me');
    view.observe(state('victim', 7), 0);
    view.observe(state('witness', 1, { suspects: [{ peerId: 'victim', incarnation: 1, seq: 7 }] }), 100);
    assert.equal(view.status('victim', 100), 'suspect');
    assert.equal(view.healthy(100).some((p) => p.peerId === 'victim'), false, 'a suspect takes no requests');
    view.observe(state('victim', 8), 200);
    assert.equal(view.status('victim', 200), 'alive', 'the refutation: a newer state');
    view.observe(state('witness', 2, { suspects: [{ peerId: 'victim', incarnation: 1, seq: 7 }] }), 300);
    assert.equal(view.status('victim', 300), 'alive', 'a suspicion of an older version is void');
  });

  it('an unrefuted suspicion makes dead after deadAfter even when the peer beats slowly (a large fleet)', () => {
    const view = new MembershipView('f', timings);
    view.observe(state('victim', 7, { beatMs: 50_000 }), 0);
    view.observe(state('quiet', 1, { beatMs: 50_000 }), 0);
    assert.equal(view.status('quiet', 150_001), 'suspect', 'silence: suspect after 3 of its beats');
    assert.equal(view.status('quiet', 100_000), 'alive');
    assert.equal(view.status('quiet', 500_001), 'dead', 'silence: dead after 10 of its beats');
    view.observe(state('witness', 1, { suspects: [{ peerId: 'victim', incarnation: 1, seq: 7 }] }), 2_000);
    assert.equal(view.status('victim', 12_000), 'suspect');
    assert.equal(view.status('victim', 12_001), 'dead', 'deadAfter after the first suspicion, not 10 beats');
  });

  it('a refuted suspicion never makes dead; a paused peer that comes back within deadAfter stays', () => {
    const view = new MembershipView('f', timings);
    view.observe(state('paused', 7), 0);
    assert.equal(view.suspect('paused', 1_000), true);
    assert.equal(view.status('paused', 9_000), 'suspect');
    view.observe(state('paused', 8), 9_000);
    assert.equal(view.status('paused', 11_500), 'alive');
    assert.equal(view.status('paused', 18_999), 'suspect', 'silent again past suspectAfter');
    assert.equal(view.status('paused', 19_001), 'dead');
  });

  it('keepAlivePeriodMs: the heartbeat up to KEEPALIVE_STATES_PER_HEARTBEAT peers, then so that a node receives that many states a heartbeat', () => {
    assert.equal(keepAlivePeriodMs(1_000, 1), 1_000);
    assert.equal(keepAlivePeriodMs(1_000, KEEPALIVE_STATES_PER_HEARTBEAT), 1_000);
    assert.equal(keepAlivePeriodMs(100, 2 * KEEPALIVE_STATES_PER_HEARTBEAT), 200);
    for (const n of [5, 20, 1_000]) {
      // The fleet's keep-alive states per heartbeat, as every node receives them, stay at the budget.
      const perHeartbeat = (n * 1_000) / keepAlivePeriodMs(1_000, n);
      assert.ok(perHeartbeat <= KEEPALIVE_STATES_PER_HEARTBEAT + 1e-9, `N=${n}: ${perHeartbeat}`);
    }
  });

  it('loadPublishPeriodMs: load changes may go out every heartbeat up to LOAD_STATES_PER_HEARTBEAT peers, then spaced the same way', () => {
    assert.equal(loadPublishPeriodMs(1_000, LOAD_STATES_PER_HEARTBEAT), 1_000);
    assert.equal(loadPublishPeriodMs(1_000, 2 * LOAD_STATES_PER_HEARTBEAT), 2_000);
    assert.ok(loadPublishPeriodMs(1_000, 20) < keepAlivePeriodMs(1_000, 20), 'load changes travel faster than keep-alives');
  });

  it('a newer incarnation refutes a suspicion of the old one', () => {
    const view = new MembershipView('f', timings);
    view.observe(state('victim', 50, { incarnation: 1 }), 0);
    view.observe(state('witness', 1, { suspects: [{ peerId: 'victim', incarnation: 1, seq: 50 }] }), 10);
    view.observe(state('victim', 1, { incarnation: 2 }), 20);
    assert.equal(view.status('victim', 20), 'alive');
  });

  it('never suspects itself from a rumour, and ignores suspicions of unknown peers', () => {
    const view = new MembershipView('f', timings);
    view.setSelf('me');
    view.observe(state('me', 3), 0);
    view.observe(state('witness', 1, { suspects: [{ peerId: 'me', incarnation: 1, seq: 3 }, { peerId: 'ghost', incarnation: 1, seq: 1 }] }), 0);
    assert.equal(view.status('me', 0), 'alive');
    assert.equal(view.get('ghost'), undefined);
  });

  it('gossips first-hand suspicions only: closed connections and silence past suspectAfter, not rumours, not the dead', () => {
    const view = new MembershipView('f', timings);
    view.setSelf('me');
    view.observe(state('me', 1), 0);
    view.observe(state('hinted', 4), 0);
    view.observe(state('silent', 5), 0);
    view.observe(state('rumoured', 6), 2_000);
    view.observe(state('fresh', 1), 2_000);
    assert.equal(view.suspect('hinted', 1_000), true);
    assert.equal(view.suspect('hinted', 1_100), false, 'already suspect: no news to publish');
    view.observe(state('witness', 1, { suspects: [{ peerId: 'rumoured', incarnation: 1, seq: 6 }] }), 2_000);
    assert.deepEqual(view.suspicions(3_001), [
      { peerId: 'hinted', incarnation: 1, seq: 4 },
      { peerId: 'silent', incarnation: 1, seq: 5 },
    ]);
    assert.deepEqual(view.suspicions(10_001).map((s) => s.peerId), ['fresh', 'rumoured', 'witness'], 'the dead are no longer listed; the rest are now silent past suspectAfter');
  });

  it('bounds the gossiped list', () => {
    const view = new MembershipView('f', timings);
    for (let i = 0; i < MAX_SUSPECTS_PER_NODE + 10; i++) view.observe(state(`p${String(i).padStart(3, '0')}`, 1), 0);
    assert.equal(view.suspicions(5_000).length, MAX_SUSPECTS_PER_NODE);
  });

  it('suspectsMe: asks the suspect to refute a suspicion of its newest state, not of an older one', () => {
    const published = { incarnation: 1, seq: 9 };
    assert.equal(suspectsMe(state('w', 1, { suspects: [{ peerId: 'me', incarnation: 1, seq: 9 }] }), 'me', published), true);
    assert.equal(suspectsMe(state('w', 1, { suspects: [{ peerId: 'me', incarnation: 1, seq: 8 }] }), 'me', published), false);
    assert.equal(suspectsMe(state('w', 1, { suspects: [{ peerId: 'other', incarnation: 1, seq: 9 }] }), 'me', published), false);
    assert.equal(suspectsMe(state('w', 1), 'me', published), false);
  });
});
