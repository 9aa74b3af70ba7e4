import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { MembershipView } from '@synkti/fleet';
import { silentLogger } from '@synkti/interface';
import { sampleNodeState } from '@synkti/protocol';
import { confirmGone, FENCE_PROBES, type ProbeMesh } from './fence-probe.js';

function fleet() {
  const view = new MembershipView('f');
  for (const peerId of ['self', 'h1', 'h2', 'h3', 'h4']) view.observe(sampleNodeState({ fleet: 'f', peerId }), 0);
  view.observe(sampleNodeState({ fleet: 'f', peerId: 'silent', provider: { kind: 'ec2', instanceId: 'i-silent', instanceType: null, zone: null, lifecycle: 'spot', slot: 's1' } }), 0);
  return view.snapshot(0);
}

/** A mesh where `direct` says whether this node reaches the target and `via` which helpers do. */
function mesh(direct: boolean, via: ReadonlySet<string>) {
  const calls = { direct: 0, via: [] as string[] };
  const m: ProbeMesh = {
    reachable: async () => {
      calls.direct++;
      return direct;
    },
    reachableVia: async (helper) => {
      calls.via.push(helper);
      return via.has(helper);
    },
  };
  return { m, calls };
}

describe('confirmGone: the check before a silent peer is fenced', () => {
  it('a peer that answers this node directly is not gone; nobody else is asked', async () => {
    const { m, calls } = mesh(true, new Set());
    assert.equal(await confirmGone(m, fleet(), 'self', 'i-silent', silentLogger), false);
    assert.deepEqual([calls.direct, calls.via.length], [1, 0]);
  });

  it('a peer this node cannot reach but another can (a bad link, not a dead node) is not gone', async () => {
    const { m, calls } = mesh(false, new Set(['h1', 'h2', 'h3', 'h4']));
    assert.equal(await confirmGone(m, fleet(), 'self', 'i-silent', silentLogger), false);
    assert.equal(calls.direct, FENCE_PROBES);
    assert.equal(calls.via.length, 3, 'k = 3 helpers asked at once');
    assert.ok(!calls.via.includes('self') && !calls.via.includes('silent'));
  });

  it('a peer that answers nobody is confirmed gone', async () => {
    const { m, calls } = mesh(false, new Set());
    assert.equal(await confirmGone(m, fleet(), 'self', 'i-silent', silentLogger), true);
    assert.deepEqual([calls.direct, calls.via.length], [FENCE_PROBES, 3]);
  });

  it('an instance no peer claims has nothing to probe: the quorum decides', async () => {
    const { m, calls } = mesh(true, new Set(['h1']));
    assert.equal(await confirmGone(m, fleet(), 'self', 'i-unknown', silentLogger), true);
    assert.deepEqual([calls.direct, calls.via.length], [0, 0]);
  });
});
