import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { MembershipView } from '@synkti/fleet';
import { ManualClock, silentLogger } from '@synkti/interface';
import { type NodeState, sampleNodeState } from '@synkti/protocol';
import { SUSPICION_PUBLISH_GAP_MS, SuspicionGossip } from './suspicion.js';

const state = (peerId: string, seq: number, extra: Partial<NodeState> = {}) => sampleNodeState({ fleet: 'f', peerId, seq, incarnation: 1, ...extra });

function setup() {
  const clock = new ManualClock(1_000);
  const view = new MembershipView('f');
  view.setSelf('me');
  const publishes: number[] = [];
  let published: { incarnation: number; seq: number } | undefined = { incarnation: 1, seq: 5 };
  const gossip = new SuspicionGossip({
    view,
    clock,
    logger: silentLogger,
    self: () => 'me',
    published: () => published,
    publishNow: () => {
      publishes.push(clock.now());
      published = { incarnation: 1, seq: (published?.seq ?? 0) + 1 };
    },
  });
  return { clock, view, gossip, publishes };
}

describe('SuspicionGossip (fake clock)', () => {
  it('a closed connection makes the peer suspect and is published at once; a burst costs one publish per gap', () => {
    const { clock, view, gossip, publishes } = setup();
    for (const p of ['a', 'b', 'c']) view.observe(state(p, 1), clock.now());
    gossip.suspect('a');
    assert.deepEqual(publishes, [1_000]);
    assert.equal(view.status('a', clock.now()), 'suspect');
    assert.deepEqual(gossip.suspects()?.map((s) => s.peerId), ['a']);
    gossip.suspect('b');
    gossip.suspect('c');
    gossip.suspect('a');
    assert.deepEqual(publishes, [1_000], 'within the gap: one publish is pending');
    clock.advance(SUSPICION_PUBLISH_GAP_MS);
    assert.deepEqual(publishes, [1_000, 1_000 + SUSPICION_PUBLISH_GAP_MS]);
    assert.deepEqual(gossip.suspects()?.map((s) => s.peerId), ['a', 'b', 'c']);
    clock.advance(10_000);
    assert.equal(publishes.length, 2, 'nothing more without news');
  });

  it('an unknown peer or one already suspect is no news', () => {
    const { gossip, publishes } = setup();
    gossip.suspect('nobody');
    assert.deepEqual(publishes, []);
  });

  it('refutes a suspicion of its newest state at once, and ignores one of an older state or of another peer', () => {
    const { clock, gossip, publishes } = setup();
    gossip.onState(state('w', 1, { suspects: [{ peerId: 'me', incarnation: 1, seq: 4 }] }));
    gossip.onState(state('w', 2, { suspects: [{ peerId: 'x', incarnation: 1, seq: 5 }] }));
    assert.deepEqual(publishes, []);
    gossip.onState(state('w', 3, { suspects: [{ peerId: 'me', incarnation: 1, seq: 5 }] }));
    assert.deepEqual(publishes, [1_000]);
    assert.equal(gossip.refutations, 1);
    clock.advance(50);
    gossip.onState(state('v', 1, { suspects: [{ peerId: 'me', incarnation: 1, seq: 6 }] }));
    assert.deepEqual(publishes, [1_000], 'rate-limited');
    clock.advance(SUSPICION_PUBLISH_GAP_MS);
    assert.deepEqual(publishes, [1_000, 1_000 + SUSPICION_PUBLISH_GAP_MS]);
  });

  it('stop() cancels a pending publish', () => {
    const { clock, view, gossip, publishes } = setup();
    view.observe(state('a', 1), clock.now());
    view.observe(state('b', 1), clock.now());
    gossip.suspect('a');
    gossip.suspect('b');
    gossip.stop();
    clock.advance(1_000);
    assert.deepEqual(publishes, [1_000]);
  });
});
