import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { type CloudProvider, type FleetInstance, type InstanceQuery, ManualClock, silentLogger } from '@synkti/interface';
import { ProviderView } from './provider-view.js';

const inst = (instanceId: string, slot: string, zone: string): FleetInstance => ({ instanceId, slot, state: 'running', lifecycle: 'spot', token: `t-${instanceId}`, launchedAt: 0, zone });

/** A provider whose listing can fail as EC2's does while a zone is impaired; look-ups by ID fail only in impaired zones. */
function provider(instances: FleetInstance[]) {
  const state = { instances, impaired: new Set<string>(), listCalls: 0, findCalls: 0 };
  const p: CloudProvider = {
    kind: 'memory',
    launch: () => Promise.reject(new Error('not here')),
    terminate: () => Promise.resolve(),
    listInstances: async () => {
      state.listCalls++;
      if (state.impaired.size > 0) throw new Error('Unavailable: a zone is impaired');
      return [...state.instances];
    },
    findInstances: async (query: InstanceQuery) => {
      state.findCalls++;
      const ids = 'instanceIds' in query ? query.instanceIds : [];
      const asked = state.instances.filter((i) => ids.includes(i.instanceId));
      if (ids.some((id) => state.impaired.has(instances.find((i) => i.instanceId === id)?.zone ?? ''))) throw new Error('Unavailable');
      return asked;
    },
  };
  return { p, state };
}

function view(p: CloudProvider, clock: ManualClock) {
  return new ProviderView({ provider: p, fleet: 'f', clock, logger: silentLogger, launchTimeoutMs: 600_000 });
}

describe('ProviderView', () => {
  it('a failed listing keeps the last good one as the gate, each zone that still answers by ID brought up to date', async () => {
    const clock = new ManualClock(1_000_000);
    const { p, state } = provider([inst('i-a', '0', 'az-1'), inst('i-b', '1', 'az-2'), inst('i-c', '2', 'az-2')]);
    const v = view(p, clock);
    await v.refresh();
    const listedAt = clock.now();
    clock.advance(30_000);
    state.impaired.add('az-2');
    state.instances = state.instances.filter((i) => i.instanceId !== 'i-a'); // terminated meanwhile, in a zone that answers
    const snap = await v.refresh();
    assert.equal(snap.stale, true);
    assert.equal(snap.listedAt, listedAt, 'the age of what it plans on: the last good listing');
    assert.deepEqual(snap.instances?.map((i) => i.instanceId).sort(), ['i-b', 'i-c'], 'az-1 re-checked (i-a gone); az-2 kept as it was');
    assert.equal(snap.count, 2);
  });

  it('with no good listing within the launch timeout, the count is unknown (the rule then needs a quorum)', async () => {
    const clock = new ManualClock(1_000_000);
    const { p, state } = provider([inst('i-a', '0', 'az-1')]);
    const v = view(p, clock);
    await v.refresh();
    state.impaired.add('az-1');
    clock.advance(600_000);
    const snap = await v.refresh();
    assert.deepEqual(snap, { count: null, instances: null, listedAt: null, stale: true });
  });

  it('concurrent refreshes share one call', async () => {
    const clock = new ManualClock(0);
    const { p, state } = provider([]);
    const v = view(p, clock);
    await Promise.all([v.refresh(), v.refresh(), v.refresh()]);
    assert.equal(state.listCalls, 1);
  });
});
