import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { MembershipView } from '@synkti/fleet';
import { ManualClock, silentLogger } from '@synkti/interface';
import { sampleNodeState } from '@synkti/protocol';
import { Autoscaler } from './autoscaler.js';

const config = {
  minNodes: 1, maxNodes: 5, targetLoadPerNode: 2, targetUtilization: 0.75, kvCeiling: 0.9,
  scaleOutWindowMs: 3_000, scaleInWindowMs: 5_000, scaleOutCooldownMs: 1_000, scaleInCooldownMs: 1_000, scaleInLoadFraction: 0.7,
};

function setup(launcher: boolean) {
  const clock = new ManualClock(1_000_000);
  const view = new MembershipView('f');
  let published = 0;
  const scaler = new Autoscaler({ config, configured: 2, view, clock, logger: silentLogger, isLauncher: () => launcher, replacing: () => false, publishNow: () => void published++ });
  const busy = (running: number) => {
    for (const peerId of ['a', 'b']) view.observe(sampleNodeState({ fleet: 'f', peerId, seq: clock.now(), load: { running, waiting: 0, kvCacheUsage: null, inFlight: 0, capacity: 8 } }), clock.now());
  };
  return { clock, view, scaler, busy, published: () => published };
}

describe('Autoscaler (the shell, on a fake clock)', () => {
  it('as the launcher: decides once the window is full, gossips at once, and the target follows', () => {
    const h = setup(true);
    for (let i = 0; i <= 3; i++) {
      h.busy(4); // 8 sequences on 2 nodes at 2 per node: 4 nodes wanted
      h.scaler.tick();
      if (i < 3) assert.equal(h.scaler.target(), 2, `window not full at ${i} s`);
      h.clock.advance(1_000);
    }
    assert.equal(h.scaler.target(), 4);
    assert.equal(h.scaler.decision()?.generation, 1);
    assert.equal(h.published(), 1);
  });

  it('not the launcher: never decides, but follows what it is told, even once the decider has left', () => {
    const h = setup(false);
    for (let i = 0; i < 10; i++) {
      h.busy(4);
      h.scaler.tick();
      h.clock.advance(1_000);
    }
    assert.equal(h.scaler.decision(), undefined);
    assert.equal(h.scaler.target(), 2);
    // A decider's last message, then it leaves (the view drops it at once).
    h.scaler.adopt({ target: 3, generation: 4, decidedAt: h.clock.now(), reason: 'load-low' });
    assert.equal(h.scaler.target(), 3, 'the decision outlives its decider');
    h.scaler.adopt({ target: 5, generation: 3, decidedAt: h.clock.now(), reason: 'load-high' });
    assert.equal(h.scaler.target(), 3, 'an older generation never wins');
  });
});
