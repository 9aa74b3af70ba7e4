import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ManualClock, silentLogger } from '@synkti/interface';
import { InterruptionHandler } from './interruption.js';

function handler(clock: ManualClock) {
  const published: number[] = [];
  const h = new InterruptionHandler({
    drain: async () => undefined,
    clock,
    logger: silentLogger,
    drainMarginMs: 5_000,
    rebalanceWindowMs: 900_000,
    publishNow: () => published.push(clock.now()),
    leave: () => undefined,
  });
  return { h, published };
}

describe('InterruptionHandler: an on-demand fallback returning to spot', () => {
  it('asks for a spot replacement after the delay: a rebalance with cause spot-return, still serving', () => {
    const clock = new ManualClock(1_000_000);
    const { h, published } = handler(clock);
    h.scheduleSpotReturn(60_000);
    clock.advance(59_999);
    assert.equal(h.interruption, null);
    clock.advance(1);
    assert.deepEqual(h.interruption, { kind: 'rebalance', deadline: null, noticedAt: 1_060_000, cause: 'spot-return' });
    assert.equal(h.accepting, true, 'it keeps serving until its replacement is warm');
    assert.deepEqual(published, [1_060_000], 'gossiped at once');
  });

  it('a cloud notice first wins; stop() cancels the request', () => {
    const clock = new ManualClock(0);
    const first = handler(clock);
    first.h.scheduleSpotReturn(60_000);
    first.h.notice({ kind: 'rebalance', deadline: null, noticedAt: 10 });
    clock.advance(60_000);
    assert.equal(first.h.interruption?.cause, undefined);
    const stopped = handler(clock);
    stopped.h.scheduleSpotReturn(1_000);
    stopped.h.stop();
    clock.advance(1_000);
    assert.equal(stopped.h.interruption, null);
  });
});
