import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ManualClock } from '@synkti/interface';
import { ec2Provider } from './provider.js';
import { Pacer } from './pacer.js';
import { TEMPLATE_ID } from './test-helpers.js';
import { startFakeEc2 } from '../testing/fake-ec2.js';

describe('RunInstances pacing', () => {
  it('spaces calls at the rate after a burst, each caller told its wait at once', async () => {
    const clock = new ManualClock(0);
    const waits: number[] = [];
    const pacer = new Pacer(2, 2, clock, async (ms) => void waits.push(ms));
    for (let i = 0; i < 5; i++) await pacer.take();
    assert.deepEqual(waits, [500, 1_000, 1_500]);
    clock.advance(10_000);
    waits.length = 0;
    await pacer.take();
    await pacer.take();
    assert.deepEqual(waits, [], 'idle long enough: a full burst again');
  });

  it('a wave of eight launches (the replacer runs at most eight at once) is never throttled by EC2 at its documented RunInstances bucket', async () => {
    // Finding: eight concurrent walks against a bucket of 5 refilled 2/s were throttled and,
    // with under 4 s of backoff, could give up, each costing a generation (≥ 60 s).
    const fake = await startFakeEc2({ throttling: true });
    try {
      const provider = ec2Provider({ region: fake.region, endpoint: fake.url, launchTemplate: { id: TEMPLATE_ID }, requestTimeoutMs: 15_000 }, { credentials: { accessKeyId: 'test', secretAccessKey: 'test' } });
      const launches = Array.from({ length: 8 }, (_, i) =>
        provider.launch({ fleet: 'wave', slot: String(i), replaces: null, token: `wave:${i}:-:g0:p0`, placement: { instanceType: 'g5.xlarge', subnet: 'subnet-a' } }),
      );
      const results = await Promise.all(launches);
      assert.equal(new Set(results.map((r) => r.instanceId)).size, 8, 'every launch got its instance');
      const throttled = fake.callsOf('RunInstances').filter((c) => c.status === 503);
      assert.equal(throttled.length, 0, 'EC2 never had to throttle a RunInstances call');
      provider.close();
    } finally {
      await fake.close();
    }
  });
});
