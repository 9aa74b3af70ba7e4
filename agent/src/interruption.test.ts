import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ManualClock, silentLogger } from '@synkti/interface';
import { InterruptionHandler } from './interruption.js';

function handler(clock: ManualClock) {
  const published: number[] = [];
  const drains: { serveForMs: number; relayForMs: number; reason: string }[] = [];
  const left: string[] = [];
  const h = new InterruptionHandler({
    drain: async (serveForMs, relayForMs, reason) => {
      drains.push({ serveForMs, relayForMs, reason });
    },
    clock,
    logger: silentLogger,
    drainMarginMs: 5_000,
    rebalanceWindowMs: 900_000,
    publishNow: () => published.push(clock.now()),
    leave: (reason) => left.push(reason),
  });
  return { h, published, drains, left };
}

const settle = () => new Promise((resolve) => setImmediate(resolve));

describe('InterruptionHandler: notices and surplus (manual clock)', () => {
  it('a terminate notice is gossiped at once, refuses new work, serves until the deadline minus the margin, then leaves', async () => {
    const clock = new ManualClock(1_000_000);
    const { h, published, drains, left } = handler(clock);
    h.notice({ kind: 'terminate', deadline: clock.now() + 120_000, noticedAt: clock.now() });
    assert.equal(h.accepting, false);
    assert.equal(h.draining, true);
    await settle();
    assert.deepEqual(drains, [{ serveForMs: 115_000, relayForMs: 119_000, reason: 'interruption notice (terminate)' }]);
    assert.deepEqual(left, ['interruption notice (terminate)']);
    assert.ok(published.length >= 1 && published.every((t) => t === 1_000_000), 'gossiped at once');
  });

  it('a rebalance keeps serving; a later terminate notice overrides it, nothing overrides a terminate', async () => {
    const clock = new ManualClock(0);
    const { h, drains } = handler(clock);
    h.notice({ kind: 'rebalance', deadline: null, noticedAt: 0 });
    assert.equal(h.accepting, true);
    assert.equal(h.interruption?.kind, 'rebalance');
    clock.advance(30_000);
    h.notice({ kind: 'stop', deadline: clock.now() + 120_000, noticedAt: clock.now() });
    h.notice({ kind: 'rebalance', deadline: null, noticedAt: clock.now() });
    assert.equal(h.interruption?.kind, 'stop');
    await settle();
    assert.equal(drains.length, 1);
  });

  it('named surplus by the fleet core, it drains once with the rebalance window to finish its work', async () => {
    const clock = new ManualClock(0);
    const { h, drains, left } = handler(clock);
    h.drainAsSurplus('replaced-at-risk');
    h.drainAsSurplus('replaced-at-risk');
    await settle();
    assert.deepEqual(drains, [{ serveForMs: 900_000, relayForMs: 1_800_000, reason: 'surplus (replaced-at-risk)' }]);
    assert.deepEqual(left, ['surplus (replaced-at-risk)']);
  });
});

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
