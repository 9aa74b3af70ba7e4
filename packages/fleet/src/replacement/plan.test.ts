import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DEPARTED_SELF_TERMINATE_MS } from './constants.js';
import { launchToken } from './token.js';
import { planReplacement, rememberListed } from './plan.js';
import type { LaunchRecord, PeerFacts, Placement, ProviderInstance, ReplacementInput } from './types.js';

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

  it('the launcher itself interrupted: the next lowest launches its slot at once, whether the provider still lists it or it has left and terminated itself', () => {
    const listing: ProviderInstance[] = five.map((p) => ({ instanceId: p.instanceId!, slot: p.slot!, state: 'running', token: `t-${p.peerId}`, launchedAt: 0 }));
    const noticed = five.map((p) => (p.peerId === 'a' ? { ...p, interrupted: 'terminate' as const } : p));
    const whileDraining = planReplacement(input({ peers: noticed, self: 'b', providerCount: 5, providerSlots: listing, providerListedAt: 1_000_000 }));
    assert.deepEqual(whileDraining.launches.map((d) => [d.slot, d.replaces]), [['0', 'i-a']]);
    // It drained, said goodbye (gone from the view) and terminated its own instance (gone from the listing).
    const gone = five.filter((p) => p.peerId !== 'a');
    const memory = rememberListed(new Map(), listing, 999_000);
    const after = planReplacement(input({ peers: gone, self: 'b', providerCount: 4, providerSlots: listing.slice(1), providerListedAt: 1_000_000, memory }));
    assert.deepEqual(after.launches.map((d) => [d.slot, d.replaces, d.token]), [['0', 'i-a', whileDraining.launches[0]!.token]], 'the same launch, the same token: once');
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
    const confirmed = planReplacement(input({ peers, providerCount: 3, providerSlots: ['0', '1', '3'].map((slot) => ({ instanceId: `i-${slot}`, slot })) }));
    assert.deepEqual(confirmed.launches.map((l) => l.slot), ['2', '4']);
    // The deprecated form (bare slot strings) keeps its old meaning.
    const legacy = planReplacement(input({ peers, providerCount: 3, providerSlots: ['0', '1', '3'] }));
    assert.deepEqual(legacy.launches.map((l) => l.slot), ['2', '4']);
  });

  it('a single first node started by hand takes slot 0 and grows the fleet through the provider count', () => {
    const plan = planReplacement(input({ peers: [peer('a', null, { instanceId: null })], providerCount: 0 }));
    assert.deepEqual(plan.launches.map((l) => l.slot), ['1', '2', '3', '4']);
    assert.ok(plan.launches.every((l) => l.replaces === null && l.generation === 0));
    // Slot 1 starts its walk at the second spot placement (p1); the on-demand one stays last.
    assert.equal(plan.launches[0]?.token, 'f1:1:-:g0:p1');
    assert.deepEqual(plan.launches[0]?.attempts.map((a) => a.placementIndex), [1, 0, 2]);
  });

  it('spreads the slots over the spot placements: each starts its walk in another pool, tokens keep naming placements', () => {
    const plan = planReplacement(input({ peers: [peer('a', '0')], providerCount: 1 }));
    assert.deepEqual(
      plan.launches.map((l) => [l.slot, l.attempts.map((a) => a.placementIndex)]),
      [['1', [1, 0, 2]], ['2', [0, 1, 2]], ['3', [1, 0, 2]], ['4', [0, 1, 2]]],
    );
    for (const l of plan.launches) for (const a of l.attempts) assert.equal(a.token, `f1:${l.slot}:-:g0:p${a.placementIndex}`);
  });

  it('tokens stay within 64 ASCII characters and hash deterministically when long', () => {
    const long = launchToken({ fleet: 'x'.repeat(60), slot: '12', replaces: 'i-0123456789abcdef0', generation: 3, placementIndex: 1 });
    assert.match(long, /^s1-[0-9a-f]{32}$/);
    assert.equal(long, launchToken({ fleet: 'x'.repeat(60), slot: '12', replaces: 'i-0123456789abcdef0', generation: 3, placementIndex: 1 }));
    const odd = launchToken({ fleet: 'my fleet:ü', slot: '1', replaces: null, generation: 0, placementIndex: 0 });
    assert.match(odd, /^s1-/);
    assert.notEqual(odd, launchToken({ fleet: 'my fleet:ü', slot: '1', replaces: null, generation: 0, placementIndex: 1 }));
  });

  it('tokens carry the deployment epoch: a fleet recreated under the same name never reuses the old tokens', () => {
    const facts = { fleet: 'f1', slot: '0', replaces: null, generation: 0, placementIndex: 0 };
    assert.equal(launchToken(facts), 'f1:0:-:g0:p0', 'no epoch: the form it always had');
    const first = launchToken({ ...facts, epoch: 'lt-0aaaaaaaaaaaaaaaa' });
    const second = launchToken({ ...facts, epoch: 'lt-0bbbbbbbbbbbbbbbb' });
    assert.notEqual(first, second);
    assert.notEqual(first, launchToken(facts));
    assert.equal(first, 'lt-0aaaaaaaaaaaaaaaa:f1:0:-:g0:p0');
    const plan = planReplacement(input({ peers: [peer('a', '0')], providerCount: 1, epoch: 'dep-2' }));
    assert.ok(plan.launches.every((l) => l.attempts.every((a) => a.token.startsWith('dep-2:f1:'))));
  });

  it('an on-demand fallback asking for spot is replaced at once, walking spot placements only', () => {
    const peers = five.map((p) => (p.peerId === 'e' ? { ...p, interrupted: 'rebalance' as const, spotReturn: true } : p));
    const plan = planReplacement(input({ peers }));
    assert.deepEqual(plan.launches.map((d) => [d.slot, d.replaces]), [['4', 'i-e']]);
    assert.ok(plan.launches[0]!.attempts.every((a) => a.placement.onDemand !== true), 'never on-demand for on-demand');
    const plain = planReplacement(input({ peers: five.map((p) => (p.peerId === 'e' ? { ...p, interrupted: 'rebalance' as const } : p)) }));
    assert.ok(plain.launches[0]!.attempts.some((a) => a.placement.onDemand === true), 'a cloud rebalance keeps its on-demand fallback');
  });

  it('reports self-unknown and no-placements', () => {
    assert.equal(planReplacement(input({ peers: five.slice(1), self: 'a' })).hold, 'self-unknown');
    const peers = five.map((p) => (p.peerId === 'e' ? { ...p, alive: false } : p));
    assert.equal(planReplacement(input({ peers, placements: [] })).hold, 'no-placements');
  });
  describe('with the provider listing as ground truth', () => {
    const listed = (slot: string, instanceId: string, over: Partial<ProviderInstance> = {}): ProviderInstance => ({ instanceId, slot, ...over });
    const fiveListed = five.map((p) => listed(p.slot!, p.instanceId!));

    it('never launches into a slot that holds an instance it does not know, even with quorum', () => {
      // The holder of slot 2 is gone from this view; the provider lists an instance there this
      // side never heard of (a replacement launched or joined across a partition).
      const peers = five.filter((p) => p.peerId !== 'c');
      const providerSlots = [...fiveListed.filter((i) => i.slot !== '2'), listed('2', 'i-other', { launchedAt: 990_000 })];
      const plan = planReplacement(input({ peers, providerCount: 5, providerSlots }));
      assert.equal(plan.quorum, true);
      assert.equal(plan.hold, 'provider-occupied');
      assert.deepEqual(plan.launches, []);
    });

    it('replaces a listed holder with a notice at once, without fencing it (it drains)', () => {
      const peers = five.map((p) => (p.peerId === 'e' ? { ...p, interrupted: 'terminate' as const } : p));
      const plan = planReplacement(input({ peers, providerCount: 5, providerSlots: fiveListed }));
      assert.deepEqual(plan.launches.map((d) => [d.slot, d.replaces, d.fence]), [['4', 'i-e', []]]);
    });

    it('a suspect holder still listed holds its slot; once dead (past deadAfter) a strict quorum fences it', () => {
      const peers = five.map((p) => (p.peerId === 'e' ? { ...p, alive: false } : p));
      assert.equal(planReplacement(input({ peers, providerCount: 5, providerSlots: fiveListed })).hold, 'provider-occupied');
      const dead = five.map((p) => (p.peerId === 'e' ? { ...p, alive: false, dead: true } : p));
      assert.deepEqual(planReplacement(input({ peers: dead, providerCount: 5, providerSlots: fiveListed })).launches[0]?.fence, ['i-e']);
    });

    it('a suspect holder the listing does not show yet holds its slot while it is new; once dead, or if it is old (the provider dropped it), it is replaced', () => {
      // The race CI hit: a replacement joined, was suspect for a moment 3 s later, and EC2 did not
      // list it yet; both launchers replaced the replacement and the slot held two instances.
      const now = 1_000_000;
      const unlisted = fiveListed.filter((i) => i.slot !== '4');
      const fresh = five.map((p) => (p.peerId === 'e' ? { ...p, alive: false, incarnation: now - 3_000 } : p));
      const held = planReplacement(input({ peers: fresh, providerCount: 4, providerSlots: unlisted, providerListedAt: now }));
      assert.equal(held.hold, 'new-holder-suspect');
      assert.deepEqual(held.freeSlots, ['4'], 'the slot is free in the view; only the launch waits');
      const dead = fresh.map((p) => (p.peerId === 'e' ? { ...p, dead: true } : p));
      assert.deepEqual(planReplacement(input({ peers: dead, providerCount: 4, providerSlots: unlisted, providerListedAt: now })).launches.map((d) => [d.slot, d.replaces, d.fence]), [['4', 'i-e', []]]);
      // Started long before the listing: the provider no longer lists it because it is gone (a reclaim).
      const old = five.map((p) => (p.peerId === 'e' ? { ...p, alive: false } : p));
      assert.deepEqual(planReplacement(input({ peers: old, providerCount: 4, providerSlots: unlisted, providerListedAt: now })).launches.map((d) => d.slot), ['4']);
      // Draining or noticed: it leaves on its own, new or not.
      for (const over of [{ draining: true }, { interrupted: 'terminate' as const }]) {
        const leaving = fresh.map((p) => (p.peerId === 'e' ? { ...p, ...over } : p));
        assert.deepEqual(planReplacement(input({ peers: leaving, providerCount: 4, providerSlots: unlisted, providerListedAt: now })).launches.map((d) => d.slot), ['4'], JSON.stringify(over));
      }
      // Its clock runs two minutes behind (an old incarnation), but this agent first heard it 3 s ago: still new.
      const skewed = five.map((p) => (p.peerId === 'e' ? { ...p, alive: false, incarnation: now - 123_000, firstSeenAt: now - 3_000 } : p));
      assert.equal(planReplacement(input({ peers: skewed, providerCount: 4, providerSlots: unlisted, providerListedAt: now })).hold, 'new-holder-suspect');
      // One free slot waits on a new suspect, the other holds an instance this view does not know: provider-occupied names the rest.
      const both = fresh.filter((p) => p.peerId !== 'd');
      const other = [...unlisted.filter((i) => i.slot !== '3'), listed('3', 'i-other', { launchedAt: now - 10_000 })];
      const mixed = planReplacement(input({ peers: both, providerCount: 4, providerSlots: other, providerListedAt: now }));
      assert.deepEqual([mixed.hold, mixed.freeSlots], ['provider-occupied', ['3', '4']]);
    });

    it('with a strict quorum, fences a dead holder the provider still lists, then replaces it', () => {
      const peers = five.filter((p) => p.peerId !== 'e');
      const memory = new Map([['4', { instanceId: 'i-e', incarnation: 1, seenAsPeer: true }]]);
      const plan = planReplacement(input({ peers, providerCount: 5, providerSlots: fiveListed, memory }));
      assert.deepEqual(plan.launches.map((d) => [d.slot, d.replaces, d.fence, d.token]), [['4', 'i-e', ['i-e'], 'f1:4:i-e:g0:p0']]);
      // Known only from a listing (it never joined) and young: still booting, never fenced.
      const booting = new Map([['4', { instanceId: 'i-e', incarnation: 1 }]]);
      assert.equal(planReplacement(input({ peers, providerCount: 5, providerSlots: fiveListed, memory: booting })).hold, 'provider-occupied');
      // Two alive of five: no quorum, no fencing, and the provider does not confirm a deficit.
      const few = peers.slice(0, 2);
      assert.equal(planReplacement(input({ peers: few, providerCount: 5, providerSlots: fiveListed, memory })).hold, 'no-quorum');
      // An unknown instance is fenced only once it is older than the launch timeout.
      const stray = [...fiveListed.filter((i) => i.slot !== '4'), listed('4', 'i-stray', { launchedAt: 0 })];
      assert.deepEqual(planReplacement(input({ peers, providerCount: 5, providerSlots: stray })).launches[0]?.fence, ['i-stray']);
      const young = [...fiveListed.filter((i) => i.slot !== '4'), listed('4', 'i-stray', { launchedAt: 900_000 })];
      assert.equal(planReplacement(input({ peers, providerCount: 5, providerSlots: young })).hold, 'provider-occupied');
    });

    it('a holder that said goodbye is replaced at once and not fenced while it terminates itself; still listed long after, it is', () => {
      // The race CI hit: the interrupted node drained and said goodbye before the launcher had
      // acted on its notice; fencing it killed it in the middle of its own clean stop.
      const peers = five.filter((p) => p.peerId !== 'e');
      const memory = new Map([['4', { instanceId: 'i-e', incarnation: 1, seenAsPeer: true }]]);
      const departed = new Map([['i-e', 1_000_000 - 1_000]]);
      const plan = planReplacement(input({ peers, providerCount: 5, providerSlots: fiveListed, memory, departed }));
      assert.deepEqual(plan.launches.map((d) => [d.slot, d.replaces, d.fence]), [['4', 'i-e', []]]);
      const later = planReplacement(input({ peers, providerCount: 5, providerSlots: fiveListed, memory, departed, now: 1_000_000 + DEPARTED_SELF_TERMINATE_MS }));
      assert.deepEqual(later.launches[0]?.fence, ['i-e']);
    });

    it('a stray in a held slot (its agent left and never terminated it, died, or never joined) is for the launcher to terminate', () => {
      const withOld = (extra: ProviderInstance) => [...fiveListed, extra];
      const departedLong = new Map([['i-old', 1_000_000 - DEPARTED_SELF_TERMINATE_MS]]);
      assert.deepEqual(planReplacement(input({ peers: five, providerCount: 6, providerSlots: withOld(listed('0', 'i-old')), departed: departedLong })).strays, ['i-old']);
      const departedNow = new Map([['i-old', 1_000_000 - 1]]);
      assert.deepEqual(planReplacement(input({ peers: five, providerCount: 6, providerSlots: withOld(listed('0', 'i-old')), departed: departedNow })).strays, [], 'it is still terminating itself');
      assert.deepEqual(planReplacement(input({ peers: five, self: 'b', providerCount: 6, providerSlots: withOld(listed('0', 'i-old')), departed: departedLong })).strays, [], 'only the launcher acts');
      const deadPeer = [...five, peer('z', '0', { alive: false, dead: true, instanceId: 'i-old' })];
      assert.deepEqual(planReplacement(input({ peers: deadPeer, providerCount: 6, providerSlots: withOld(listed('0', 'i-old')) })).strays, ['i-old']);
      const surplus = [...five, peer('z', '0', { instanceId: 'i-old' })];
      assert.deepEqual(planReplacement(input({ peers: surplus, providerCount: 6, providerSlots: withOld(listed('0', 'i-old')) })).strays, [], 'a live surplus peer is the surplus rule\'s');
      assert.deepEqual(planReplacement(input({ peers: five, providerCount: 6, providerSlots: withOld(listed('0', 'i-old', { launchedAt: 1_000_000 - 600_000 })) })).strays, ['i-old'], 'never joined within the launch timeout');
      assert.deepEqual(planReplacement(input({ peers: five, providerCount: 6, providerSlots: withOld(listed('0', 'i-old', { launchedAt: 1_000_000 - 1_000 })) })).strays, [], 'may still be booting');
      const two = five.slice(0, 2);
      assert.deepEqual(planReplacement(input({ peers: two, providerCount: 6, providerSlots: withOld(listed('0', 'i-old')), departed: departedLong })).strays, [], 'no fencing quorum, no terminating');
    });

    it('alive peers beyond the target do not make a fencing quorum', () => {
      // Target 5: three at-risk peers and one healthy are alive (4 > 2.5) but seat only one slot.
      const peers = [peer('a', '0'), ...['1', '2', '3'].map((s) => peer(`r${s}`, s, { interrupted: 'rebalance' }))];
      const memory = new Map([['4', { instanceId: 'i-e', incarnation: 1 }]]);
      const plan = planReplacement(input({ peers, providerCount: 5, providerSlots: fiveListed, memory }));
      assert.equal(plan.quorum, true);
      assert.ok(!plan.launches.some((d) => d.slot === '4'), 'slot 4 is listed and may be alive elsewhere');
      assert.ok(plan.launches.every((d) => d.fence.length === 0));
    });

    it('a launch the provider stopped listing failed: retried with the next generation once the listing lag has passed', () => {
      const peers = five.filter((p) => p.peerId !== 'c');
      const memory = new Map([['2', { instanceId: 'i-c', incarnation: 1 }]]);
      const record: LaunchRecord = { token: 'f1:2:i-c:g0:p0', slot: '2', startedAt: 1_000_000, returnedAt: 1_000_000, generation: 0, replaces: 'i-c', placementIndex: 0, launcher: 'a' };
      const providerSlots = fiveListed.filter((i) => i.slot !== '2');
      const early = planReplacement(input({ peers, launches: [record], memory, now: 1_050_000, providerCount: 4, providerSlots, providerListedAt: 1_040_000 }));
      assert.equal(early.hold, 'no-deficit');
      const late = planReplacement(input({ peers, launches: [record], memory, now: 1_100_000, providerCount: 4, providerSlots, providerListedAt: 1_090_000 }));
      assert.equal(late.launches[0]?.token, 'f1:2:i-c:g1:p0');
      // Still listed (booting): it counts until it joins.
      const booting = [...providerSlots, listed('2', 'i-new', { token: record.token })];
      assert.equal(planReplacement(input({ peers, launches: [record], memory, now: 1_100_000, providerCount: 5, providerSlots: booting, providerListedAt: 1_090_000 })).hold, 'no-deficit');
    });

    it('a slow walk is never superseded while it runs; the listing lag counts from when it returned', () => {
      // Finding: the lag clock started before the walk, so a walk slowed by throttling read as
      // failed 60 s after it began and the next generation launched a second instance.
      const peers = five.filter((p) => p.peerId !== 'c');
      const memory = new Map([['2', { instanceId: 'i-c', incarnation: 1 }]]);
      const providerSlots = fiveListed.filter((i) => i.slot !== '2');
      const walking: LaunchRecord = { token: 'f1:2:i-c:g0:p0', slot: '2', startedAt: 1_000_000, generation: 0, replaces: 'i-c', placementIndex: 0, launcher: 'a' };
      const later = { peers, memory, now: 1_200_000, providerCount: 4, providerSlots, providerListedAt: 1_190_000 };
      assert.equal(planReplacement(input({ ...later, launches: [walking] })).hold, 'no-deficit', 'still walking after 190 s: it holds the slot');
      const returned = { ...walking, returnedAt: 1_150_000, instanceId: 'i-late' };
      assert.equal(planReplacement(input({ ...later, launches: [returned] })).hold, 'no-deficit', '40 s after it returned: the listing may lag');
      assert.equal(planReplacement(input({ ...later, now: 1_230_000, providerListedAt: 1_220_000, launches: [returned] })).launches[0]?.generation, 1, '70 s after: failed');
      // Listed under its instance ID (the token of another placement): it counts.
      const byId = [...providerSlots, listed('2', 'i-late', { token: 'f1:2:i-c:g0:p1' })];
      assert.equal(planReplacement(input({ ...later, now: 1_230_000, providerListedAt: 1_220_000, providerSlots: byId, providerCount: 5, launches: [returned] })).hold, 'no-deficit');
    });

    it('a launch whose instance joined and then got a notice is replaced at once, not after the launch timeout', () => {
      const record: LaunchRecord = { token: 'f1:2:i-c:g0:p0', slot: '2', startedAt: 1_000_000, generation: 0, replaces: 'i-c', placementIndex: 0, launcher: 'a' };
      const peers = [...five.filter((p) => p.peerId !== 'c'), peer('x', '2', { instanceId: 'i-x', incarnation: 2, interrupted: 'terminate' })];
      const providerSlots = [...fiveListed.filter((i) => i.slot !== '2'), listed('2', 'i-x', { token: record.token })];
      const plan = planReplacement(input({ peers, launches: [record], now: 1_200_000, providerCount: 5, providerSlots, providerListedAt: 1_190_000 }));
      assert.deepEqual(plan.settle, [record.token]);
      assert.deepEqual(plan.launches.map((d) => [d.slot, d.replaces]), [['2', 'i-x']]);
    });

    it('two sides that remember different holders but read the same listings derive the same token', () => {
      // Side A saw i-d join slot 2 (and die); side B only ever saw i-3. Both polled the provider
      // while i-d was listed, so both name it: one instance, whichever side launches.
      const listing = [listed('2', 'i-d', { launchedAt: 2_000 })];
      const a = rememberListed(new Map([['2', { instanceId: 'i-d', incarnation: 2_090 }]]), listing, 2_030);
      const b = rememberListed(new Map([['2', { instanceId: 'i-3', incarnation: 10 }]]), listing, 2_030);
      const peersA = [peer('a', '0'), peer('b', '1')];
      const peersB = [peer('p', '3'), peer('q', '4')];
      const view = (peers: PeerFacts[], memory: typeof a, self: string) =>
        planReplacement(input({ self, target: 5, peers, memory, providerCount: 4, providerSlots: [listed('0', 'i-a'), listed('1', 'i-b'), listed('3', 'i-p'), listed('4', 'i-q')] }));
      const ta = view(peersA, a, 'a').launches.find((d) => d.slot === '2')?.token;
      const tb = view(peersB, b, 'p').launches.find((d) => d.slot === '2')?.token;
      assert.equal(ta, 'f1:2:i-d:g0:p0');
      assert.equal(ta, tb);
    });
  });
});
