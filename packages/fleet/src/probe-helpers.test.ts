import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { sampleNodeState } from '@synkti/protocol';
import { MembershipView } from './membership.js';
import { indirectProbeHelpers, NEIGHBOUR_INDIRECT_TIMEOUT_MS, NEIGHBOUR_PROBE_INTERVAL_MS, NEIGHBOUR_PROBE_TIMEOUT_MS, neighbourProbeDetectionMs } from './probe-helpers.js';

describe('indirectProbeHelpers', () => {
  const view = new MembershipView('f');
  for (const peerId of ['a', 'b', 'c', 'd', 'e', 'target', 'self']) view.observe(sampleNodeState({ fleet: 'f', peerId }), 0);
  view.observe(sampleNodeState({ fleet: 'f', peerId: 'leaving', leaving: true }), 0);

  it('asks k alive peers, never itself, the target or a leaver, the same ones every time', () => {
    const helpers = indirectProbeHelpers(view.snapshot(0), 'target', 'self', 3);
    assert.equal(helpers.length, 3);
    for (const h of helpers) assert.ok(['a', 'b', 'c', 'd', 'e'].includes(h), h);
    assert.deepEqual(indirectProbeHelpers(view.snapshot(0), 'target', 'self', 3), helpers);
    assert.equal(indirectProbeHelpers(view.snapshot(0), 'target', 'self', 10).length, 5);
  });

  it('leaves out peers it no longer hears from', () => {
    // 'late' was last heard long ago: suspect or dead by now, and no help.
    const aging = new MembershipView('f');
    aging.observe(sampleNodeState({ fleet: 'f', peerId: 'late' }), 0);
    aging.observe(sampleNodeState({ fleet: 'f', peerId: 'fresh' }), 20_000);
    assert.deepEqual(indirectProbeHelpers(aging.snapshot(20_000), 'target', 'self', 3), ['fresh']);
  });

  it('spreads different targets over different helpers', () => {
    const firsts = new Set(['t1', 't2', 't3', 't4', 't5', 't6', 't7', 't8'].map((t) => indirectProbeHelpers(view.snapshot(0), t, 'self', 1)[0]));
    assert.ok(firsts.size >= 3, `first helpers ${[...firsts]}`);
  });
});

describe('neighbourProbeDetectionMs', () => {
  it('is the wait for the next probe, the ping timeout and the indirect check; the phase is clamped to one interval', () => {
    const fixed = NEIGHBOUR_PROBE_TIMEOUT_MS + NEIGHBOUR_INDIRECT_TIMEOUT_MS;
    assert.equal(neighbourProbeDetectionMs(0), fixed);
    assert.equal(neighbourProbeDetectionMs(0.5), fixed + NEIGHBOUR_PROBE_INTERVAL_MS / 2);
    assert.equal(neighbourProbeDetectionMs(7), fixed + NEIGHBOUR_PROBE_INTERVAL_MS);
    assert.equal(neighbourProbeDetectionMs(-1), fixed);
  });
});
