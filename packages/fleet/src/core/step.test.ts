import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { PeerFacts, SurplusPeer } from '../replacement/index.js';
import { PROVIDER_FAST_REFRESH_MS, PROVIDER_IDLE_REFRESH_MS, PROVIDER_REFRESH_MS } from './listing.js';
import { initialCoreState, stepFleet } from './step.js';
import type { CoreConfig, CoreState, CoreView, ProviderSnapshot } from './types.js';

const T0 = 1_000_000;
const config: CoreConfig = { fleet: 'f', placements: [{ instanceType: 'g5', subnet: 's-a' }], launchTimeoutMs: 600_000, startupGraceMs: 3_000, rebalanceWindowMs: 900_000, unknownGraceMs: 10_000, replaces: true };

function peer(peerId: string, slot: string, extra: Partial<PeerFacts> = {}): PeerFacts {
  return { peerId, alive: true, interrupted: null, draining: false, slot, instanceId: `i-${slot}`, incarnation: 1, ...extra };
}

function surplusOf(p: PeerFacts, noticedAt = 0): SurplusPeer {
  return { peerId: p.peerId, alive: p.alive, interrupted: p.interrupted, noticedAt, draining: p.draining, warm: true, slot: p.slot };
}

function view(peers: PeerFacts[], target = 3, noticedAt = 0): CoreView {
  return { peers, surplusPeers: peers.map((p) => surplusOf(p, noticedAt)), gossiped: [], target };
}

function listing(slots: string[], at: number): ProviderSnapshot {
  return { count: slots.length, instances: slots.map((slot) => ({ instanceId: `i-${slot}`, slot, token: null, launchedAt: 0 })), listedAt: at, stale: false };
}

/** `a` (the lowest ID, so the launcher) past its start-up grace, with the provider listing `slots`. */
function started(slots: string[], self = 'a'): CoreState {
  const s = initialCoreState(self, T0, 0.5);
  return stepFleet(config, s, { kind: 'listed', snapshot: listing(slots, T0), jitter: 0.5 }, T0).state;
}

describe('fleet core: stepFleet', () => {
  it('lists at once, plans nothing within the start-up grace, and wakes when it ends', () => {
    const s = initialCoreState('a', T0, 0.5);
    const r = stepFleet(config, s, { kind: 'tick', view: view([peer('a', '0')], 3) }, T0);
    assert.deepEqual(r.decisions, [{ kind: 'list' }]);
    assert.equal(r.state.plan, null);
    assert.equal(r.wakeAt, T0 + config.startupGraceMs);
    assert.deepEqual(stepFleet(config, r.state, { kind: 'tick', view: view([peer('a', '0')], 3) }, T0 + 1).decisions, [], 'one listing at a time');
  });

  it('the launcher launches each free slot once, gossips the launch, and records what the walk returned', () => {
    const now = T0 + 5_000;
    const v = view([peer('a', '0'), peer('b', '1')], 3);
    const r = stepFleet(config, started(['0', '1']), { kind: 'tick', view: v }, now);
    const launches = r.decisions.filter((d) => d.kind === 'launch');
    assert.equal(launches.length, 1);
    const launch = launches[0]!.kind === 'launch' ? launches[0]!.launch : assert.fail();
    assert.equal(launch.slot, '2');
    const begun = stepFleet(config, r.state, { kind: 'launch-begun', launch }, now + 10);
    assert.deepEqual(begun.decisions, [{ kind: 'publish' }]);
    assert.equal(begun.state.own[0]?.startedAt, now + 10);
    const again = stepFleet(config, begun.state, { kind: 'tick', view: v }, now + 20);
    assert.equal(again.decisions.filter((d) => d.kind === 'launch').length, 0, 'its own launch in flight holds the slot');
    assert.equal(again.wakeAt, now + 10 + config.launchTimeoutMs, 'the next thing that can change: its timeout');
    const returned = stepFleet(config, again.state, { kind: 'launch-returned', token: launch.token, attemptToken: launch.token, placementIndex: 0, instanceId: 'i-new' }, now + 30);
    assert.deepEqual(returned.state.own.map((r) => [r.instanceId, r.returnedAt]), [['i-new', now + 30]]);
    assert.deepEqual(returned.state.walking, []);
    assert.equal(returned.state.listing.checkedAt, Number.NEGATIVE_INFINITY, 'lists afresh to see the new instance');
  });

  it('a peer that is not the lowest launches nothing and reports the hold once', () => {
    const v = view([peer('a', '0'), peer('b', '1')], 3);
    const r = stepFleet(config, started(['0', '1'], 'b'), { kind: 'tick', view: v }, T0 + 5_000);
    assert.deepEqual(r.decisions.map((d) => d.kind), ['hold']);
    assert.deepEqual(stepFleet(config, r.state, { kind: 'tick', view: v }, T0 + 6_000).decisions, []);
  });

  it('lists by role: the launcher and backup every 10 s, a launcher waiting on the listing every second, others about a minute (jittered)', () => {
    const peers = [peer('a', '0'), peer('b', '1'), peer('c', '2')];
    const due = (self: string, after: number, jitter: number) => {
      let s = initialCoreState(self, T0, jitter);
      s = stepFleet(config, s, { kind: 'listed', snapshot: listing(['0', '1', '2'], T0), jitter }, T0).state;
      s = stepFleet(config, s, { kind: 'tick', view: view(peers, 3) }, T0 + 3_000).state;
      return stepFleet(config, s, { kind: 'tick', view: view(peers, 3) }, T0 + after).decisions.some((d) => d.kind === 'list');
    };
    assert.deepEqual([due('a', PROVIDER_REFRESH_MS - 1, 0.9), due('a', PROVIDER_REFRESH_MS, 0.9)], [false, true], 'launcher');
    assert.deepEqual([due('b', PROVIDER_REFRESH_MS - 1, 0.9), due('b', PROVIDER_REFRESH_MS, 0.9)], [false, true], 'backup');
    assert.deepEqual([due('c', PROVIDER_IDLE_REFRESH_MS * 1.4 - 1, 0.9), due('c', PROVIDER_IDLE_REFRESH_MS * 1.4, 0.9)], [false, true], 'other, jitter 0.9');
    // Slot 2's holder is suspect and still listed: the launcher waits on the provider, listing every second.
    const waiting = view([peers[0]!, peers[1]!, peer('c', '2', { alive: false })], 3);
    const listedAt = T0 + 3_000;
    let s = stepFleet(config, started(['0', '1', '2']), { kind: 'listed', snapshot: listing(['0', '1', '2'], listedAt), jitter: 0.5 }, listedAt);
    s = stepFleet(config, s.state, { kind: 'tick', view: waiting }, listedAt);
    assert.equal(s.state.plan?.hold, 'provider-occupied');
    assert.equal(s.wakeAt, listedAt + PROVIDER_FAST_REFRESH_MS);
    s = stepFleet(config, s.state, { kind: 'tick', view: waiting }, listedAt + PROVIDER_FAST_REFRESH_MS);
    assert.ok(s.decisions.some((d) => d.kind === 'list'));
  });

  it('settles its own launch once its instance joined, and keeps one whose walk still runs', () => {
    const now = T0 + 5_000;
    const v = view([peer('a', '0'), peer('b', '1')], 3);
    const r = stepFleet(config, started(['0', '1']), { kind: 'tick', view: v }, now);
    const launch = r.decisions.find((d) => d.kind === 'launch');
    assert.ok(launch?.kind === 'launch');
    let s = stepFleet(config, r.state, { kind: 'launch-begun', launch: launch.launch }, now).state;
    const joined = view([peer('a', '0'), peer('b', '1'), peer('c', '2')], 3);
    assert.equal(stepFleet(config, s, { kind: 'tick', view: joined }, now + 1_000).state.own.length, 1, 'walking: kept');
    s = stepFleet(config, s, { kind: 'launch-returned', token: launch.launch.token, attemptToken: launch.launch.token, placementIndex: 0, instanceId: 'i-c' }, now + 1_000).state;
    const settled = stepFleet(config, s, { kind: 'tick', view: joined }, now + 2_000);
    assert.equal(settled.state.own.length, 0);
    assert.ok(settled.decisions.some((d) => d.kind === 'publish'));
  });

  it('the surplus rule names the at-risk peer once its replacement is warm, and wakes at the end of its window otherwise', () => {
    const atRisk = peer('c', '2', { interrupted: 'rebalance' });
    const r = stepFleet(config, started(['0', '1', '2']), { kind: 'tick', view: view([peer('a', '0'), peer('b', '1'), atRisk], 3, T0) }, T0 + 5_000);
    assert.equal(r.decisions.some((d) => d.kind === 'drain'), false);
    assert.ok(r.wakeAt <= T0 + config.rebalanceWindowMs);
    const warm = view([peer('a', '0'), peer('b', '1'), peer('d', '2'), atRisk], 3, T0);
    const w = stepFleet(config, r.state, { kind: 'tick', view: warm }, T0 + 6_000);
    assert.deepEqual(w.decisions.filter((d) => d.kind === 'drain'), [{ kind: 'drain', peerId: 'c', reason: 'replaced-at-risk' }]);
  });

  it('after a partition heals, an instance the other side launched long ago is not fenced in the beat before its agent is heard', () => {
    // Slot 2's holder (i-2) died on this side long ago; the other side replaced it with i-x, whose
    // agent this view has not heard yet. The listing shows i-x in slot 2, past the launch timeout.
    const healed = () => {
      let s = started(['0', '1']);
      const instances = [...listing(['0', '1'], T0).instances!, { instanceId: 'i-x', slot: '2', token: 'other-side', launchedAt: T0 - 3_600_000 }];
      const at = T0 + 5_000;
      s = stepFleet(config, s, { kind: 'listed', snapshot: { count: 3, instances, listedAt: at, stale: false }, jitter: 0.5 }, at).state;
      return { s, at };
    };
    const { s, at } = healed();
    const v = view([peer('a', '0'), peer('b', '1')], 3);
    const first = stepFleet(config, s, { kind: 'tick', view: v }, at);
    assert.deepEqual(first.decisions.filter((d) => d.kind === 'launch'), [], 'unknown for less than the grace: no fencing, no launch');
    assert.equal(first.state.plan?.hold, 'unknown-instance');
    assert.ok(first.wakeAt <= at + config.unknownGraceMs, 'it wakes by the end of the grace (sooner, to list again while it waits)');
    // Its agent is heard within the beat: the slot is held, nothing to do.
    const heard = stepFleet(config, first.state, { kind: 'tick', view: view([peer('a', '0'), peer('b', '1'), { ...peer('x', '2'), instanceId: 'i-x' }], 3) }, at + 1_000);
    assert.equal(heard.state.plan?.deficit, 0);
    // Never heard: once unknown for the grace, it is fenced and the slot refilled.
    const late = stepFleet(config, first.state, { kind: 'tick', view: v }, at + config.unknownGraceMs);
    const launch = late.decisions.find((d) => d.kind === 'launch');
    assert.ok(launch?.kind === 'launch');
    assert.deepEqual(launch.launch.fence, ['i-x']);
  });

  it('an agent without a provider runs only the surplus rule', () => {
    const r = stepFleet({ ...config, replaces: false }, initialCoreState('a', T0, 0.5), { kind: 'tick', view: view([peer('a', '0')], 3) }, T0 + 5_000);
    assert.deepEqual(r.decisions, []);
    assert.equal(r.state.plan, null);
  });
});
