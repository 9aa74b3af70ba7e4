import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ec2Harness } from './test-helpers.js';

type Harness = Awaited<ReturnType<typeof ec2Harness>>;

const HOUR = 3_600_000;

describe('ec2 provider: spot prices at one past instant', () => {
  let h: Harness;
  before(async () => {
    h = await ec2Harness({ subnets: { 'subnet-a': 'us-east-1a', 'subnet-b': 'us-east-1b' } });
  });
  after(() => h.close());

  it('gives each spot placement the price in effect at the instant (a later change does not count), on-demand and unknown pools none', async () => {
    const hour = Math.floor(Date.now() / HOUR) * HOUR;
    h.fake.setSpotPrice('g5.xlarge', 'us-east-1a', 0.42, hour - 2 * HOUR);
    h.fake.setSpotPrice('g5.xlarge', 'us-east-1a', 0.4, hour - HOUR);
    h.fake.setSpotPrice('g5.xlarge', 'us-east-1a', 0.9, hour + 60_000); // after the instant: another hour's answer
    h.fake.setSpotPrice('g5.xlarge', 'us-east-1b', 0.35, hour - 3 * HOUR);
    const placements = [
      { instanceType: 'g5.xlarge', subnet: 'subnet-a' },
      { instanceType: 'g5.xlarge', subnet: 'subnet-b' },
      { instanceType: 'g6.xlarge', subnet: 'subnet-a' },
      { instanceType: 'g5.xlarge', subnet: 'subnet-a', onDemand: true },
    ];
    const provider = h.provider();
    const prices = await provider.spotPrices!(placements, hour);
    assert.deepEqual([...prices.entries()].sort(), [[0, 0.4], [1, 0.35]]);
    // Subnets are asked once: their zones never change.
    await provider.spotPrices!(placements, hour);
    assert.equal(h.fake.callsOf('DescribeSubnets').length, 1);
  });
});
