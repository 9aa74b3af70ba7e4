import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { CloudErrorCode, ManualClock, SynktiError } from '@synkti/interface';
import { ProviderFailedError } from '../errors.js';
import { classifyAwsError } from './aws-errors.js';
import { backoffDelayMs, clockSleep, withRetry } from './retry.js';
import { ec2Harness } from './test-helpers.js';

type Harness = Awaited<ReturnType<typeof ec2Harness>>;

const launchRequest = (token: string) => ({
  fleet: 'f3',
  slot: '0',
  replaces: null,
  token,
  placement: { instanceType: 'g5.xlarge', subnet: 'subnet-a' },
});

describe('ec2 provider retries through the real SDK', () => {
  let h: Harness;
  before(async () => {
    h = await ec2Harness();
  });
  after(async () => {
    await h.close();
  });

  it('retries RequestLimitExceeded (503) with jittered exponential backoff and succeeds', async () => {
    h.delays.length = 0;
    const runs = h.fake.callsOf('RunInstances').length;
    h.fake.throttleNext(2, 'RunInstances');
    const result = await h.provider().launch(launchRequest('throttled'));
    assert.equal(result.existing, false);
    assert.equal(h.fake.callsOf('RunInstances').length - runs, 3);
    // Throttling backs off longer than other faults: rng 0.5, half of 1 s, then half of 2 s.
    assert.deepEqual(h.delays, [500, 1_000]);
  });

  it('retries RequestLimitExceeded sent as 400, a 500 and a 503 ServiceUnavailable', async () => {
    for (const [i, fault] of [
      { code: 'RequestLimitExceeded', status: 400 },
      { code: 'InternalError', status: 500 },
      { code: 'ServiceUnavailable', status: 503 },
      { code: 'SomethingNew', status: 502 },
    ].entries()) {
      const runs = h.fake.callsOf('RunInstances').length;
      h.fake.failNext(1, { ...fault, action: 'RunInstances' });
      await h.provider().launch(launchRequest(`transient-${i}`));
      assert.equal(h.fake.callsOf('RunInstances').length - runs, 2, fault.code);
    }
  });

  it('does not retry other 4xx: PROVIDER_FAILED with the AWS code, and EC2 saw exactly one call', async () => {
    const runs = h.fake.callsOf('RunInstances').length;
    h.fake.failNext(1, { code: 'InvalidParameterValue', status: 400, action: 'RunInstances', message: 'bad subnet' });
    await assert.rejects(h.provider().launch(launchRequest('bad-param')), (err: unknown) => {
      assert.ok(err instanceof ProviderFailedError);
      assert.equal(err.code, CloudErrorCode.PROVIDER_FAILED);
      assert.equal(err.awsCode, 'InvalidParameterValue');
      assert.equal(err.status, 400);
      assert.match(err.message, /InvalidParameterValue/);
      return true;
    });
    assert.equal(h.fake.callsOf('RunInstances').length - runs, 1);
  });

  it('gives up after throttleMaxAttempts on persistent throttling', async () => {
    const runs = h.fake.callsOf('RunInstances').length;
    h.fake.throttleNext(10, 'RunInstances');
    await assert.rejects(h.provider({ throttleMaxAttempts: 3 }).launch(launchRequest('always-throttled')), (err: unknown) => {
      assert.ok(err instanceof ProviderFailedError);
      assert.equal(err.awsCode, 'RequestLimitExceeded');
      assert.equal(err.status, 503);
      return true;
    });
    assert.equal(h.fake.callsOf('RunInstances').length - runs, 3);
    h.fake.clearFaults();
  });

  it('retries a throttled DescribeInstances while listing', async () => {
    h.fake.throttleNext(1, 'DescribeInstances');
    const before = h.fake.callsOf('DescribeInstances').length;
    await h.provider().listInstances('f3');
    assert.equal(h.fake.callsOf('DescribeInstances').length - before, 2);
  });
});

describe('retry policy', () => {
  const policy = { maxAttempts: 4, baseMs: 100, maxMs: 300, attemptTimeoutMs: 1_000 };
  const throttled = Object.assign(new Error('slow down'), { name: 'RequestLimitExceeded', $metadata: { httpStatusCode: 503 } });

  it('caps the backoff ceiling at maxMs', () => {
    assert.deepEqual(
      [0, 1, 2, 3].map((n) => backoffDelayMs(policy, n, () => 0.999)),
      [99, 199, 299, 299],
    );
  });

  it('classifies capacity before the 5xx rule', () => {
    const capacity = Object.assign(new Error('no'), { name: 'InsufficientInstanceCapacity', $metadata: { httpStatusCode: 500 } });
    assert.equal(classifyAwsError(capacity), 'capacity');
    assert.equal(classifyAwsError(throttled), 'retryable');
    assert.equal(classifyAwsError(Object.assign(new Error('reset'), { code: 'ECONNRESET' })), 'retryable');
    assert.equal(classifyAwsError(Object.assign(new Error('x'), { name: 'UnauthorizedOperation', $metadata: { httpStatusCode: 403 } })), 'fatal');
  });

  it('waits on the injected clock and stops when the caller aborts', async () => {
    const clock = new ManualClock();
    const controller = new AbortController();
    let calls = 0;
    const run = withRetry(
      async () => {
        calls++;
        throw throttled;
      },
      { policy, rng: () => 0.5, sleep: clockSleep(clock), signal: controller.signal },
    );
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal(calls, 1);
    assert.equal(clock.pendingTimers, 1);
    clock.advance(50);
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal(calls, 2);
    controller.abort(new SynktiError('ABORTED', 'stop'));
    await assert.rejects(run, (err: unknown) => err instanceof SynktiError && err.code === 'ABORTED');
    assert.equal(clock.pendingTimers, 0);
  });
});
