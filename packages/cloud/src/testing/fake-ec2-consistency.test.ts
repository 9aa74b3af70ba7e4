import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CreateTagsCommand, DescribeInstancesCommand, type EC2Client, RunInstancesCommand, TerminateInstancesCommand } from '@aws-sdk/client-ec2';
import { type FakeEc2, type FakeEc2Options, startFakeEc2 } from './fake-ec2.js';
import { describeIds, faultOf, rawClient, runInput } from './sdk-support.js';

const SUBNETS = { 'subnet-a': 'us-east-1a', 'subnet-b': 'us-east-1b' };

/** A fake on a manual clock and a raw client; `fn` gets both and the clock's hand. */
async function withFake(options: FakeEc2Options, fn: (fake: FakeEc2, client: EC2Client, advance: (ms: number) => void) => Promise<void>): Promise<void> {
  let t = Date.UTC(2026, 0, 1);
  const fake = await startFakeEc2({ subnets: SUBNETS, now: () => t, ...options });
  const client = rawClient(fake);
  try {
    await fn(fake, client, (ms) => (t += ms));
  } finally {
    client.destroy();
    await fake.close();
  }
}

const launch = async (client: EC2Client, token: string, subnet = 'subnet-a'): Promise<string> =>
  (await client.send(new RunInstancesCommand(runInput(token, { SubnetId: subnet })))).Instances![0]!.InstanceId!;

describe('fake EC2: eventual consistency after RunInstances', () => {
  it('hides a new instance for visibilityLagMs from every listing and from calls naming it', () =>
    withFake({ visibilityLagMs: 2_000 }, async (fake, client, advance) => {
      const id = await launch(client, 'lagging');
      assert.deepEqual(await describeIds(client), []);
      assert.deepEqual(await describeIds(client, { Filters: [{ Name: 'client-token', Values: ['lagging'] }] }), []);
      assert.deepEqual(await describeIds(client, { Filters: [{ Name: 'instance-state-name', Values: ['pending'] }], MaxResults: 5 }), []);
      const notFound = { code: 'InvalidInstanceID.NotFound', status: 400 };
      assert.deepEqual(await faultOf(describeIds(client, { InstanceIds: [id] })), notFound);
      assert.deepEqual(await faultOf(client.send(new TerminateInstancesCommand({ InstanceIds: [id] }))), notFound);
      assert.deepEqual(await faultOf(client.send(new CreateTagsCommand({ Resources: [id], Tags: [{ Key: 'k', Value: 'v' }] }))), notFound);
      // NotFound from TerminateInstances did not terminate it: the instance runs on.
      assert.equal(fake.instances()[0]!.state, 'pending');
      // The idempotency record is not lagging: a retry gets the same instance, not a second one.
      assert.equal(await launch(client, 'lagging'), id);

      advance(1_999);
      assert.deepEqual(await describeIds(client), []);
      advance(1);
      assert.deepEqual(await describeIds(client), [id]);
      assert.deepEqual(await describeIds(client, { InstanceIds: [id] }), [id]);
      await client.send(new TerminateInstancesCommand({ InstanceIds: [id] }));
      assert.equal(fake.instances()[0]!.state, 'terminated');
    }));

  it('applies a lag set at run time to later launches only', () =>
    withFake({}, async (fake, client) => {
      const before = await launch(client, 'before');
      fake.configure({ visibilityLagMs: 60_000 });
      await launch(client, 'after');
      assert.deepEqual(await describeIds(client), [before]);
    }));
});

describe('fake EC2: empty pages that carry a NextToken', () => {
  it('serves empty pages with a NextToken; a client that pages on sees every instance once', () =>
    withFake({ emptyPages: 2 }, async (_fake, client) => {
      const launched: string[] = [];
      for (let i = 0; i < 7; i++) launched.push(await launch(client, `page-${i}`));
      const pages: { ids: string[]; next: string | undefined }[] = [];
      let next: string | undefined;
      do {
        const out = await client.send(new DescribeInstancesCommand({ MaxResults: 5, ...(next === undefined ? {} : { NextToken: next }) }));
        next = out.NextToken || undefined;
        pages.push({ ids: (out.Reservations ?? []).flatMap((r) => r.Instances ?? []).map((i) => i.InstanceId!), next });
        assert.ok(pages.length < 50, 'paging terminates');
      } while (next !== undefined);
      assert.deepEqual(pages[0], { ids: [], next: pages[0]!.next });
      assert.equal(typeof pages[0]!.next, 'string');
      assert.ok(pages.filter((p) => p.ids.length === 0 && p.next !== undefined).length >= 4, 'several empty pages said there was more');
      assert.deepEqual(pages.flatMap((p) => p.ids).sort(), launched.sort());
      // A client that stops at the first empty page sees nothing.
      assert.equal(pages[0]!.ids.length, 0);
    }));

  it('answers InvalidPaginationToken to a token it did not issue', () =>
    withFake({ emptyPages: 1 }, async (_fake, client) => {
      const got = await faultOf(client.send(new DescribeInstancesCommand({ MaxResults: 5, NextToken: 'not-a-token' })));
      assert.deepEqual(got, { code: 'InvalidPaginationToken', status: 400 });
    }));
});

describe('fake EC2: an impaired Availability Zone', () => {
  it('fails DescribeInstances without instance IDs, and with IDs in the zone; IDs elsewhere still work', () =>
    withFake({}, async (fake, client) => {
      const inA = await launch(client, 'zone-a', 'subnet-a');
      const inB = await launch(client, 'zone-b', 'subnet-b');
      fake.impairZone('us-east-1a');
      assert.deepEqual(fake.impairedZones(), ['us-east-1a']);
      const unavailable = { code: 'Unavailable', status: 503 };
      assert.deepEqual(await faultOf(describeIds(client)), unavailable);
      assert.deepEqual(await faultOf(describeIds(client, { Filters: [{ Name: 'tag-key', Values: ['x'] }], MaxResults: 5 })), unavailable);
      assert.deepEqual(await faultOf(describeIds(client, { InstanceIds: [inA] })), unavailable);
      assert.deepEqual(await faultOf(describeIds(client, { InstanceIds: [inA, inB] })), unavailable);
      assert.deepEqual(await describeIds(client, { InstanceIds: [inB] }), [inB]);

      fake.restoreZone('us-east-1a');
      assert.deepEqual((await describeIds(client)).sort(), [inA, inB].sort());
    }));

  it('refuses launches into the zone with InsufficientInstanceCapacity (500); other zones launch', () =>
    withFake({}, async (fake, client) => {
      fake.impairZone('us-east-1a');
      assert.deepEqual(await faultOf(launch(client, 'into-a', 'subnet-a')), { code: 'InsufficientInstanceCapacity', status: 500 });
      await launch(client, 'into-b', 'subnet-b');
      // Regional idempotency (no subnet, no zone) could fail while any zone is down.
      const regional = client.send(new RunInstancesCommand(runInput('regional', { SubnetId: undefined })));
      assert.deepEqual(await faultOf(regional), { code: 'Unavailable', status: 503 });
      fake.restoreZone('us-east-1a');
      await launch(client, 'into-a', 'subnet-a');
    }));
});
