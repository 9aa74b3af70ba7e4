import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { CreateTagsCommand, type EC2Client, RunInstancesCommand, type RunInstancesCommandInput, TerminateInstancesCommand } from '@aws-sdk/client-ec2';
import { type FakeEc2, startFakeEc2 } from './fake-ec2.js';
import { CAPACITY_CODES, FAULT_STATUS } from './faults.js';
import { describeIds, faultOf, rawClient, runInput } from './sdk-support.js';

const SUBNETS = { 'subnet-a': 'us-east-1a', 'subnet-a2': 'us-east-1a', 'subnet-b': 'us-east-1b' };

describe('fake EC2: idempotency keyed by (token, zone)', () => {
  let fake: FakeEc2;
  let client: EC2Client;
  before(async () => {
    fake = await startFakeEc2({ subnets: SUBNETS });
    client = rawClient(fake);
  });
  after(async () => {
    client.destroy();
    await fake.close();
  });
  const run = async (token: string, over: Partial<RunInstancesCommandInput> = {}) => {
    const out = await client.send(new RunInstancesCommand(runInput(token, over)));
    return { instanceId: out.Instances![0]!.InstanceId!, reservationId: out.ReservationId!, zone: out.Instances![0]!.Placement?.AvailabilityZone };
  };

  it('answers a retry in the same zone with the same reservation, and launches again in another zone', async () => {
    const first = await run('tok-1');
    assert.deepEqual(await run('tok-1'), first);
    const other = await run('tok-1', { SubnetId: 'subnet-b' });
    assert.notEqual(other.instanceId, first.instanceId);
    assert.equal(other.zone, 'us-east-1b');
    // The subnet and zone are outside the parameter fingerprint: another subnet of the same zone is the same request.
    assert.equal((await run('tok-1', { SubnetId: 'subnet-a2' })).instanceId, first.instanceId);
    // Placement.AvailabilityZone names the zone as well as a subnet does.
    assert.equal((await run('tok-1', { SubnetId: undefined, Placement: { AvailabilityZone: 'us-east-1b' } })).instanceId, other.instanceId);
    assert.equal(fake.instances().filter((i) => i.clientToken === 'tok-1').length, 2);
  });

  it('answers IdempotentParameterMismatch (400) to the token reused with other parameters in its zone', async () => {
    await run('tok-2');
    assert.deepEqual(await faultOf(run('tok-2', { InstanceType: 'g5.2xlarge' })), { code: 'IdempotentParameterMismatch', status: 400 });
    assert.deepEqual(await faultOf(run('tok-2', { SubnetId: 'subnet-a2', InstanceMarketOptions: { MarketType: 'spot' } })), {
      code: 'IdempotentParameterMismatch',
      status: 400,
    });
    assert.equal(fake.instances().filter((i) => i.clientToken === 'tok-2').length, 1);
  });

  it('keys a launch with neither subnet nor zone Region-wide', async () => {
    const first = await run('tok-3', { SubnetId: undefined });
    assert.deepEqual(await run('tok-3', { SubnetId: undefined }), first);
  });

  it('refuses a subnet and a zone that disagree', async () => {
    assert.deepEqual(await faultOf(run('tok-4', { SubnetId: 'subnet-a', Placement: { AvailabilityZone: 'us-east-1b' } })), {
      code: 'InvalidParameterValue',
      status: 400,
    });
  });

  it('filters DescribeInstances by client-token and availability-zone', async () => {
    const a = await run('tok-5');
    const b = await run('tok-5', { SubnetId: 'subnet-b' });
    const byToken = await describeIds(client, { Filters: [{ Name: 'client-token', Values: ['tok-5'] }] });
    assert.deepEqual(byToken.sort(), [a.instanceId, b.instanceId].sort());
    const inB = await describeIds(client, {
      Filters: [
        { Name: 'client-token', Values: ['tok-5', 'no-such-token'] },
        { Name: 'availability-zone', Values: ['us-east-1b'] },
        { Name: 'instance-state-name', Values: ['pending', 'running'] },
      ],
    });
    assert.deepEqual(inB, [b.instanceId]);
  });
});

describe('fake EC2: EC2 status per error code', () => {
  let fake: FakeEc2;
  let client: EC2Client;
  before(async () => {
    fake = await startFakeEc2();
    client = rawClient(fake);
  });
  after(async () => {
    client.destroy();
    await fake.close();
  });

  it('has the documented status for each code (server errors 5xx, the rest 400)', () => {
    const expected: Record<string, number> = {
      InsufficientInstanceCapacity: 500,
      InsufficientCapacity: 500,
      InsufficientVolumeCapacity: 500,
      InsufficientHostCapacity: 500,
      InsufficientReservedInstanceCapacity: 500,
      InternalError: 500,
      RequestLimitExceeded: 503,
      Unavailable: 503,
      IdempotentParameterMismatch: 400,
      'InvalidInstanceID.NotFound': 400,
      Unsupported: 400,
      InsufficientFreeAddressesInSubnet: 400,
      VcpuLimitExceeded: 400,
      InstanceLimitExceeded: 400,
      MaxSpotInstanceCountExceeded: 400,
      SpotMaxPriceTooLow: 400,
      UnfulfillableCapacity: 400,
    };
    for (const [code, status] of Object.entries(expected)) assert.equal(FAULT_STATUS[code] ?? 400, status, code);
  });

  it('lets a capacity rule produce every capacity code with its status, and launches nothing', async () => {
    for (const code of CAPACITY_CODES) {
      fake.failCapacity({ instanceType: 'p4d.24xlarge', code });
      const got = await faultOf(client.send(new RunInstancesCommand(runInput(`cap-${code}`, { InstanceType: 'p4d.24xlarge' }))));
      assert.deepEqual(got, { code, status: FAULT_STATUS[code] ?? 400 }, code);
      fake.clearCapacityFailures();
    }
    assert.equal(fake.instances().length, 0);
  });

  it('matches capacity rules by zone', async () => {
    await fake.close();
    fake = await startFakeEc2({ subnets: SUBNETS });
    client.destroy();
    client = rawClient(fake);
    fake.failCapacity({ availabilityZone: 'us-east-1a', code: 'Unsupported' });
    assert.deepEqual(await faultOf(client.send(new RunInstancesCommand(runInput('zone-a', { SubnetId: 'subnet-a2' })))), { code: 'Unsupported', status: 400 });
    await client.send(new RunInstancesCommand(runInput('zone-b', { SubnetId: 'subnet-b' })));
    fake.clearCapacityFailures();
  });

  it('answers InvalidInstanceID.NotFound (400) for an unknown instance in Describe, Terminate and CreateTags', async () => {
    const ghost = 'i-0000000000000dead';
    assert.deepEqual(await faultOf(describeIds(client, { InstanceIds: [ghost] })), { code: 'InvalidInstanceID.NotFound', status: 400 });
    assert.deepEqual(await faultOf(client.send(new TerminateInstancesCommand({ InstanceIds: [ghost] }))), { code: 'InvalidInstanceID.NotFound', status: 400 });
    const tag = new CreateTagsCommand({ Resources: [ghost], Tags: [{ Key: 'k', Value: 'v' }] });
    assert.deepEqual(await faultOf(client.send(tag)), { code: 'InvalidInstanceID.NotFound', status: 400 });
  });

  it('refuses instance IDs together with MaxResults, as EC2 does', async () => {
    const out = await client.send(new RunInstancesCommand(runInput('ids-and-max')));
    const input = { InstanceIds: [out.Instances![0]!.InstanceId!], MaxResults: 5 };
    assert.deepEqual(await faultOf(describeIds(client, input)), { code: 'InvalidParameterCombination', status: 400 });
  });

  it('tags an instance and caps a resource at 50 tags', async () => {
    const out = await client.send(new RunInstancesCommand(runInput('tagged')));
    const id = out.Instances![0]!.InstanceId!;
    await client.send(new CreateTagsCommand({ Resources: [id], Tags: [{ Key: 'role', Value: 'engine' }] }));
    assert.equal(fake.instances().find((i) => i.instanceId === id)!.tags.get('role'), 'engine');
    const many = Array.from({ length: 50 }, (_, n) => ({ Key: `k${n}`, Value: 'v' }));
    assert.deepEqual(await faultOf(client.send(new CreateTagsCommand({ Resources: [id], Tags: many }))), { code: 'TagLimitExceeded', status: 400 });
  });
});
