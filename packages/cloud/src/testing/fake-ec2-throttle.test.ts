import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DescribeInstancesCommand, type EC2Client, RunInstancesCommand } from '@aws-sdk/client-ec2';
import { type FakeEc2, startFakeEc2 } from './fake-ec2.js';
import { faultOf, rawClient, runInput } from './sdk-support.js';
import { EC2_REQUEST_BUCKETS } from './throttle.js';

const THROTTLED = { code: 'RequestLimitExceeded', status: 503 };

async function withThrottledFake(fn: (fake: FakeEc2, client: EC2Client, advance: (ms: number) => void) => Promise<void>): Promise<void> {
  let t = Date.UTC(2026, 0, 1);
  const fake = await startFakeEc2({ throttling: true, now: () => t });
  const client = rawClient(fake);
  try {
    await fn(fake, client, (ms) => (t += ms));
  } finally {
    client.destroy();
    await fake.close();
  }
}

describe('fake EC2: throttling at the documented token buckets', () => {
  it('RunInstances: 5 pass, the 6th is RequestLimitExceeded (503), a second later 2 more pass', () =>
    withThrottledFake(async (fake, client, advance) => {
      const run = (n: number) => client.send(new RunInstancesCommand(runInput(`burst-${n}`)));
      for (let n = 0; n < 5; n++) await run(n);
      assert.deepEqual(await faultOf(run(5)), THROTTLED);
      advance(1_000);
      await run(6);
      await run(7);
      assert.deepEqual(await faultOf(run(8)), THROTTLED);
      // Half a second refills one token at 2 per second.
      advance(500);
      await run(9);
      assert.equal(fake.instances().length, 8);
      assert.equal(fake.callsOf('RunInstances').filter((c) => c.status === 503).length, 2);
    }));

  it('throttles each API on its own: Describe still answers while RunInstances is throttled', () =>
    withThrottledFake(async (_fake, client) => {
      for (let n = 0; n < 5; n++) await client.send(new RunInstancesCommand(runInput(`own-${n}`)));
      assert.deepEqual(await faultOf(client.send(new RunInstancesCommand(runInput('own-5')))), THROTTLED);
      await client.send(new DescribeInstancesCommand({ Filters: [{ Name: 'client-token', Values: ['own-0'] }] }));
    }));

  it('gives unfiltered, unpaginated DescribeInstances the smaller bucket (50, 10/s); filtered calls draw on 100', () =>
    withThrottledFake(async (_fake, client, advance) => {
      assert.equal(EC2_REQUEST_BUCKETS.unfilteredNonMutating.capacity, 50);
      for (let n = 0; n < 50; n++) await client.send(new DescribeInstancesCommand({}));
      assert.deepEqual(await faultOf(client.send(new DescribeInstancesCommand({}))), THROTTLED);
      // A paginated call is in the non-mutating bucket, still full.
      await client.send(new DescribeInstancesCommand({ MaxResults: 5 }));
      advance(100);
      await client.send(new DescribeInstancesCommand({}));
      assert.deepEqual(await faultOf(client.send(new DescribeInstancesCommand({}))), THROTTLED);
    }));

  it('is off by default, and can be turned on at run time', async () => {
    const fake = await startFakeEc2();
    const client = rawClient(fake);
    try {
      for (let n = 0; n < 8; n++) await client.send(new RunInstancesCommand(runInput(`free-${n}`)));
      fake.configure({ throttling: true });
      for (let n = 0; n < 5; n++) await client.send(new RunInstancesCommand(runInput(`on-${n}`)));
      assert.deepEqual(await faultOf(client.send(new RunInstancesCommand(runInput('on-5')))), THROTTLED);
    } finally {
      client.destroy();
      await fake.close();
    }
  });
});
