import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { LaunchRequest } from '@synkti/interface';
import { ec2Harness } from './test-helpers.js';

type Harness = Awaited<ReturnType<typeof ec2Harness>>;

function request(fleet: string, slot: string, onDemand = false): LaunchRequest {
  return { fleet, slot, replaces: null, token: `${fleet}:${slot}:-:g0:p0`, placement: { instanceType: 'g5.xlarge', subnet: 'subnet-a', onDemand } };
}

describe('ec2 provider: listInstances and terminate', () => {
  let h: Harness;
  before(async () => {
    h = await ec2Harness();
  });
  after(async () => {
    await h.close();
  });

  it('counts pending and running instances of the fleet by tag; excludes terminated and other fleets', async () => {
    const provider = h.provider();
    const a0 = await provider.launch(request('alpha', '0'));
    const a1 = await provider.launch(request('alpha', '1', true));
    const a2 = await provider.launch(request('alpha', '2'));
    const a3 = await provider.launch(request('alpha', '3'));
    await provider.launch(request('beta', '0'));
    h.fake.setState(a1.instanceId, 'running');
    h.fake.setState(a3.instanceId, 'stopped');
    await provider.terminate(a2.instanceId);

    const listed = await provider.listInstances('alpha');
    assert.deepEqual(
      listed.sort((x, y) => x.instanceId.localeCompare(y.instanceId)).map(({ token: _t, launchedAt: _l, ...rest }) => rest),
      [
        { instanceId: a0.instanceId, slot: '0', state: 'pending', lifecycle: 'spot', addrs: [], zone: 'us-east-1a' },
        { instanceId: a1.instanceId, slot: '1', state: 'running', lifecycle: 'on-demand', addrs: [], zone: 'us-east-1a' },
      ],
    );
    // With the fleet's libp2p port, each instance's private IP says where its agent listens.
    const addrs = (await h.provider({ agentPort: 4001 }).listInstances('alpha')).map((i) => i.addrs?.[0]);
    const ips = h.fake.instances().filter((i) => i.instanceId === a0.instanceId || i.instanceId === a1.instanceId).map((i) => `/ip4/${i.privateIpAddress}/tcp/4001`);
    assert.deepEqual(addrs.sort(), ips.sort());
    // The replacement rule matches launch records to instances by token and ages them by launch time.
    for (const instance of listed) {
      assert.ok(typeof instance.token === 'string' && instance.token.length > 0, 'ClientToken reported');
      assert.ok(typeof instance.launchedAt === 'number' && instance.launchedAt > 0, 'LaunchTime reported');
    }
    const call = h.fake.callsOf('DescribeInstances').at(-1)!;
    assert.deepEqual(call.params['Filter'], [
      { Name: 'tag:synkti:fleet', Value: ['alpha'] },
      { Name: 'instance-state-name', Value: ['pending', 'running'] },
    ]);
  });

  it('reads every page', async () => {
    const provider = h.provider({ pageSize: 5 });
    for (let i = 0; i < 12; i++) await provider.launch(request('gamma', String(i)));
    const before = h.fake.callsOf('DescribeInstances').length;
    const listed = await provider.listInstances('gamma');
    assert.equal(listed.length, 12);
    assert.deepEqual(new Set(listed.map((i) => i.slot)).size, 12);
    const pages = h.fake.callsOf('DescribeInstances').slice(before);
    assert.equal(pages.length, 3);
    assert.equal(pages[0]!.params['NextToken'], undefined);
    assert.equal(typeof pages[1]!.params['NextToken'], 'string');
  });

  it('terminates an instance, and treats an instance already gone as terminated', async () => {
    const provider = h.provider();
    const d0 = await provider.launch(request('delta', '0'));
    await provider.terminate(d0.instanceId);
    assert.equal(h.fake.instances().find((i) => i.instanceId === d0.instanceId)!.state, 'terminated');
    await provider.terminate('i-0000000000000dead');
    assert.deepEqual(await provider.listInstances('delta'), []);
  });

  it('finds instances by ID, dropping IDs EC2 does not know (it fails the whole call for one) and terminated ones', async () => {
    const provider = h.provider();
    const e0 = await provider.launch(request('epsilon', '0'));
    const e1 = await provider.launch(request('epsilon', '1'));
    await provider.terminate(e1.instanceId);
    const found = await provider.findInstances!({ instanceIds: [e0.instanceId, 'i-0000000000000dead', e1.instanceId] });
    assert.deepEqual(found.map((i) => i.instanceId), [e0.instanceId]);
  });
});
