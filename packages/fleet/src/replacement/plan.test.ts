import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { launchToken } from './token.js';
import { planReplacement } from './plan.js';
import type { LaunchRecord, PeerFacts, Placement, ReplacementInput } from './types.js';

const placements: Placement[] = [
  { instanceType: 'g5.xlarge', subnet: 'subnet-a' },
  { instanceType: 'g5.xlarge', subnet: 'subnet-b' },
  { instanceType: 'g5.xlarge', subnet: 'subnet-a', onDemand: true },
];

function peer(id: string, slot: string | null, over: Partial<PeerFacts> = {}): PeerFacts {
  return { peerId: id, alive: true, interrupted: null, draining: false, slot, instanceId: `i-${id}`, incarnation: 1, ...over };
}

function input(over: Partial<ReplacementInput>): ReplacementInput {
  return {
    self: 'a',
    fleet: 'f1',
    target: 5,
    peers: [],
    launches: [],
    providerCount: null,
    placements,
    launchTimeoutMs: 600_000,
    now: 1_000_000,
    ...over,
  };
}

const five = ['a', 'b', 'c', 'd', 'e'].map((id, i) => peer(id, String(i)));

describe('planReplacement', () => {
  it('holds with no deficit when the fleet is at target', () => {
    const plan = planReplacement(input({ peers: five }));
    assert.equal(plan.hold, 'no-deficit');
    assert.equal(plan.capacity, 5);
    assert.deepEqual(plan.launches, []);
  });

  it('the lowest live peer replaces a dead one, with a token naming the slot and the replaced instance', () => {
    const peers = five.map((p) => (p.peerId === 'c' ? { ...p, alive: false } : p));
    const plan = planReplacement(input({ peers }));
    assert.equal(plan.hold, null);
    assert.equal(plan.launches.length, 1);
    const d = plan.launches[0]!;
    assert.equal(d.slot, '2');
    assert.equal(d.replaces, 'i-c');
    assert.equal(d.generation, 0);
    assert.equal(d.token, 'f1:2:i-c:g0:p0');
    assert.deepEqual(
      d.attempts.map((a) => a.token),
      ['f1:2:i-c:g0:p0', 'f1:2:i-c:g0:p1', 'f1:2:i-c:g0:p2'],
    );
    assert.equal(planReplacement(input({ peers, self: 'b' })).hold, 'not-lowest');
  });

  it('an interruption notice or rebalance recommendation counts the node as lost at once', () => {
    for (const kind of ['terminate', 'rebalance'] as const) {
      const peers = five.map((p) => (p.peerId === 'e' ? { ...p, interrupted: kind } : p));
      const plan = planReplacement(input({ peers }));
      assert.equal(plan.capacity, 4);
      assert.equal(plan.launches[0]?.slot, '4');
      assert.equal(plan.launches[0]?.replaces, 'i-e');
    }
  });

  it('an interrupted or draining lowest ID is not the launcher', () => {
    const peers = five.map((p) => (p.peerId === 'a' ? { ...p, interrupted: 'terminate' as const } : p));
    assert.equal(planReplacement(input({ peers, self: 'a' })).hold, 'not-lowest');
    assert.equal(planReplacement(input({ peers, self: 'b' })).launches.length, 1);
  });

  it('counts a launch in flight until it joins or times out, then retries with the next generation', () => {
    const peers = five.filter((p) => p.peerId !== 'c');
    const first = planReplacement(input({ peers: [...peers, peer('c', '2', { alive: false })] })).launches[0]!;
    const record: LaunchRecord = {
      token: first.token,
      slot: '2',
      startedAt: 1_000_000,
      generation: 0,
      replaces: 'i-c',
      placementIndex: 0,
      launcher: 'a',
    };
    const during = planReplacement(input({ peers, launches: [record], now: 1_300_000 }));
    assert.equal(during.hold, 'no-deficit');
    const after = planReplacement(input({ peers, launches: [record], now: 1_600_000, memory: new Map([['2', { instanceId: 'i-c', incarnation: 1 }]]) }));
    assert.equal(after.launches[0]?.generation, 1);
    assert.equal(after.launches[0]?.token, 'f1:2:i-c:g1:p0');
    const joined = planReplacement(input({ peers: [...peers, peer('x', '2', { incarnation: 2 })], launches: [record], now: 1_300_000 }));
    assert.deepEqual(joined.settle, [record.token]);
  });

  it('without quorum, holds unless the provider confirms the deficit', () => {
    const peers = [peer('a', '0'), peer('b', '1'), peer('c', '2', { alive: false }), peer('d', '3', { alive: false }), peer('e', '4', { alive: false })];
    assert.equal(planReplacement(input({ peers })).hold, 'no-quorum');
    assert.equal(planReplacement(input({ peers, providerCount: 5 })).hold, 'no-quorum');
    const confirmed = planReplacement(input({ peers, providerCount: 3, providerSlots: ['0', '1', '3'] }));
    assert.deepEqual(confirmed.launches.map((l) => l.slot), ['2', '4']);
  });

  it('a single first node started by hand takes slot 0 and grows the fleet through the provider count', () => {
    const plan = planReplacement(input({ peers: [peer('a', null, { instanceId: null })], providerCount: 0 }));
    assert.deepEqual(plan.launches.map((l) => l.slot), ['1', '2', '3', '4']);
    assert.ok(plan.launches.every((l) => l.replaces === null && l.generation === 0));
    assert.equal(plan.launches[0]?.token, 'f1:1:-:g0:p0');
  });

  it('tokens stay within 64 ASCII characters and hash deterministically when long', () => {
    const long = launchToken({ fleet: 'x'.repeat(60), slot: '12', replaces: 'i-0123456789abcdef0', generation: 3, placementIndex: 1 });
    assert.match(long, /^s1-[0-9a-f]{32}$/);
    assert.equal(long, launchToken({ fleet: 'x'.repeat(60), slot: '12', replaces: 'i-0123456789abcdef0', generation: 3, placementIndex: 1 }));
    const odd = launchToken({ fleet: 'my fleet:ü', slot: '1', replaces: null, generation: 0, placementIndex: 0 });
    assert.match(odd, /^s1-/);
    assert.notEqual(odd, launchToken({ fleet: 'my fleet:ü', slot: '1', replaces: null, generation: 0, placementIndex: 1 }));
  });

  it('reports self-unknown and no-placements', () => {
    assert.equal(planReplacement(input({ peers: five.slice(1), self: 'a' })).hold, 'self-unknown');
    const peers = five.map((p) => (p.peerId === 'e' ? { ...p, alive: false } : p));
    assert.equal(planReplacement(input({ peers, placements: [] })).hold, 'no-placements');
  });
});
