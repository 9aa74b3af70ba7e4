import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { planSurplus, type SurplusPeer } from './surplus.js';

const p = (peerId: string, over: Partial<SurplusPeer> = {}): SurplusPeer => ({
  peerId,
  alive: true,
  interrupted: null,
  noticedAt: 0,
  draining: false,
  warm: true,
  ...over,
});

describe('planSurplus', () => {
  it('keeps an at-risk node serving until its replacement is warm, then drains it', () => {
    const risky = p('b', { interrupted: 'rebalance', noticedAt: 100 });
    const cold = planSurplus({ target: 3, now: 200, rebalanceWindowMs: 1_000, peers: [p('a'), risky, p('c'), p('z', { warm: false })] });
    assert.equal(cold.kind === 'keep' && cold.reason, 'replacement-not-warm');
    const warm = planSurplus({ target: 3, now: 200, rebalanceWindowMs: 1_000, peers: [p('a'), risky, p('c'), p('z')] });
    assert.deepEqual(warm, { kind: 'drain', peerId: 'b', reason: 'replaced-at-risk' });
  });

  it('drains the at-risk node after the window when the fleet is above target', () => {
    const risky = p('b', { interrupted: 'rebalance', noticedAt: 100 });
    const d = planSurplus({ target: 2, now: 1_200, rebalanceWindowMs: 1_000, peers: [p('a'), risky, p('z', { warm: false })] });
    assert.deepEqual(d, { kind: 'drain', peerId: 'b', reason: 'rebalance-window' });
  });

  it('drains one surplus node at a time, highest ID first', () => {
    assert.deepEqual(planSurplus({ target: 2, now: 0, rebalanceWindowMs: 0, peers: [p('a'), p('c'), p('b')] }), {
      kind: 'drain',
      peerId: 'c',
      reason: 'surplus',
    });
    assert.deepEqual(planSurplus({ target: 3, now: 0, rebalanceWindowMs: 0, peers: [p('a'), p('c'), p('b')] }), {
      kind: 'keep',
      reason: 'at-target',
    });
  });

  it('drains a second holder of one slot before a sole holder, or the surplus would free a slot to refill', () => {
    const peers = [p('a', { slot: '0' }), p('b', { slot: '1' }), p('c', { slot: '2' }), p('x', { slot: '1' })];
    assert.deepEqual(planSurplus({ target: 3, now: 0, rebalanceWindowMs: 0, peers }), { kind: 'drain', peerId: 'x', reason: 'surplus' });
    const lowExtra = [p('a', { slot: '0' }), p('b', { slot: '1' }), p('z', { slot: '2' }), p('c', { slot: '1' })];
    assert.deepEqual(planSurplus({ target: 3, now: 0, rebalanceWindowMs: 0, peers: lowExtra }), { kind: 'drain', peerId: 'c', reason: 'surplus' }, 'not z: it holds slot 2 alone');
    const outOfRange = [p('a', { slot: '0' }), p('b', { slot: '1' }), p('c', { slot: '7' }), p('z', { slot: '2' })];
    assert.deepEqual(planSurplus({ target: 3, now: 0, rebalanceWindowMs: 0, peers: outOfRange }), { kind: 'drain', peerId: 'c', reason: 'surplus' });
  });
});
