import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { CloudErrorCode, type LaunchRequest, SynktiError } from '@synkti/interface';
import { TAG_FLEET, TAG_REPLACES, TAG_SLOT, TAG_TOKEN } from '../constants.js';
import { launchWithPlacements } from '../launch-with-placements.js';
import { codesOf } from './aws-errors.js';
import { str } from '../testing/query.js';
import { TEMPLATE_ID, ec2Harness } from './test-helpers.js';

type Harness = Awaited<ReturnType<typeof ec2Harness>>;

function request(token: string, over: Partial<LaunchRequest> = {}): LaunchRequest {
  return {
    fleet: 'f1',
    slot: '0',
    replaces: 'i-0aaaaaaaaaaaaaaaa',
    token,
    placement: { instanceType: 'g5.xlarge', subnet: 'subnet-a' },
    ...over,
  };
}

async function codeOf(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (err) {
    assert.ok(err instanceof SynktiError, `expected a SynktiError, got ${String(err)}`);
    return err.code;
  }
  assert.fail('expected a rejection');
}

describe('ec2 provider against a fake EC2 endpoint', () => {
  let h: Harness;
  before(async () => {
    h = await ec2Harness();
  });
  after(async () => {
    await h.close();
  });

  it('sends RunInstances from the launch template, spot, with the token and tags on instance and volume', async () => {
    const provider = h.provider();
    const result = await provider.launch(request('f1:0:a:g0:p0'));
    assert.equal(result.lifecycle, 'spot');
    assert.equal(result.existing, false);
    const call = h.fake.callsOf('RunInstances').at(-1)!;
    assert.equal(str(call.params, 'ClientToken'), 'f1:0:a:g0:p0');
    assert.deepEqual(call.params['LaunchTemplate'], { LaunchTemplateId: TEMPLATE_ID, Version: '$Default' });
    assert.equal(str(call.params, 'InstanceType'), 'g5.xlarge');
    assert.equal(str(call.params, 'SubnetId'), 'subnet-a');
    assert.deepEqual(call.params['InstanceMarketOptions'], {
      MarketType: 'spot',
      SpotOptions: { SpotInstanceType: 'one-time', InstanceInterruptionBehavior: 'terminate' },
    });
    const instance = h.fake.instances().find((i) => i.instanceId === result.instanceId)!;
    const expected = { [TAG_FLEET]: 'f1', [TAG_SLOT]: '0', [TAG_REPLACES]: 'i-0aaaaaaaaaaaaaaaa', [TAG_TOKEN]: 'f1:0:a:g0:p0' };
    assert.deepEqual(Object.fromEntries(instance.tags), expected);
    const volume = h.fake.volumes().find((v) => v.instanceId === result.instanceId)!;
    assert.deepEqual(Object.fromEntries(volume.tags), expected);
  });

  it('omits synkti:replaces on a first launch and the market options on demand', async () => {
    const result = await h.provider().launch(
      request('f1:1:-:g0:p0', { slot: '1', replaces: null, placement: { instanceType: 'g5.xlarge', subnet: 'subnet-a', onDemand: true } }),
    );
    assert.equal(result.lifecycle, 'on-demand');
    const call = h.fake.callsOf('RunInstances').at(-1)!;
    assert.equal(call.params['InstanceMarketOptions'], undefined);
    const instance = h.fake.instances().find((i) => i.instanceId === result.instanceId)!;
    assert.equal(instance.tags.has(TAG_REPLACES), false);
  });

  it('launches one instance for the same token twice; the second reports existing', async () => {
    const provider = h.provider();
    const first = await provider.launch(request('twice'));
    const second = await h.provider().launch(request('twice'));
    assert.equal(second.instanceId, first.instanceId);
    assert.equal(first.existing, false);
    assert.equal(second.existing, true);
    assert.equal(h.fake.instances().filter((i) => i.clientToken === 'twice').length, 1);
  });

  it('reports a token reused with other parameters as IDEMPOTENT_PARAMETER_MISMATCH', async () => {
    const provider = h.provider();
    await provider.launch(request('reused'));
    const other = request('reused', { placement: { instanceType: 'g5.2xlarge', subnet: 'subnet-a' } });
    assert.equal(await codeOf(provider.launch(other)), CloudErrorCode.IDEMPOTENT_PARAMETER_MISMATCH);
    assert.equal(h.fake.instances().filter((i) => i.clientToken === 'reused').length, 1);
  });

  it('refuses a token EC2 would reject without calling EC2', async () => {
    const before = h.fake.calls.length;
    assert.equal(await codeOf(h.provider().launch(request('x'.repeat(65)))), 'CLOUD_BAD_REQUEST');
    assert.equal(h.fake.calls.length, before);
  });

  it('rejects a bad config with CLOUD_BAD_CONFIG', () => {
    assert.throws(
      () => h.provider({ maxAttempts: 0 }),
      (err: unknown) => err instanceof SynktiError && err.code === 'CLOUD_BAD_CONFIG',
    );
  });
});

describe('ec2 provider: capacity, placements and racing peers', () => {
  let h: Harness;
  before(async () => {
    h = await ec2Harness();
  });
  after(async () => {
    await h.close();
  });

  const walk = (slot: string) => ({
    fleet: 'f2',
    slot,
    replaces: null,
    attempts: [
      { token: `f2:${slot}:-:g0:p0`, placement: { instanceType: 'g5.xlarge', subnet: 'subnet-a' } },
      { token: `f2:${slot}:-:g0:p1`, placement: { instanceType: 'g5.xlarge', subnet: 'subnet-b' } },
      { token: `f2:${slot}:-:g0:p2`, placement: { instanceType: 'g5.xlarge', subnet: 'subnet-b', onDemand: true } },
    ],
  });

  it('maps each capacity code to INSUFFICIENT_CAPACITY without retrying the placement', async () => {
    assert.ok(codesOf('capacity').length >= 12, 'the table holds every capacity-style code, the subnet and quota ones included');
    for (const code of codesOf('capacity')) {
      h.fake.failCapacity({ instanceType: 'p4d.24xlarge', code });
      const runsBefore = h.fake.callsOf('RunInstances').length;
      const launch = h.provider().launch(request(`cap-${code}`, { placement: { instanceType: 'p4d.24xlarge', subnet: 'subnet-a' } }));
      assert.equal(await codeOf(launch), CloudErrorCode.INSUFFICIENT_CAPACITY, code);
      assert.equal(h.fake.callsOf('RunInstances').length, runsBefore + 1, `${code} tried once`);
      h.fake.clearCapacityFailures();
    }
  });

  it('moves to the next placement on a capacity error, then to on-demand', async () => {
    h.fake.failCapacity({ subnet: 'subnet-a' });
    h.fake.failCapacity({ subnet: 'subnet-b', market: 'spot', code: 'MaxSpotInstanceCountExceeded' });
    const skipped: string[] = [];
    const outcome = await launchWithPlacements(h.provider(), walk('0'), { onSkip: (a) => skipped.push(a.token) });
    assert.equal(outcome.attemptIndex, 2);
    assert.equal(outcome.lifecycle, 'on-demand');
    assert.deepEqual(skipped, ['f2:0:-:g0:p0', 'f2:0:-:g0:p1']);
    assert.deepEqual(
      outcome.skipped.map((s) => (s.error as SynktiError).code),
      [CloudErrorCode.INSUFFICIENT_CAPACITY, CloudErrorCode.INSUFFICIENT_CAPACITY],
    );
    const instance = h.fake.instances().find((i) => i.instanceId === outcome.instanceId)!;
    assert.equal(instance.subnetId, 'subnet-b');
    assert.equal(instance.clientToken, 'f2:0:-:g0:p2');
    h.fake.clearCapacityFailures();
  });

  it('every capacity-style code moves the walk to the next placement (a full subnet or a used-up family quota never blocks a slot)', async () => {
    for (const [i, code] of codesOf('capacity').entries()) {
      h.fake.failCapacity({ subnet: 'subnet-a', code });
      const outcome = await launchWithPlacements(h.provider(), walk(`walk-${i}`));
      assert.equal(outcome.attemptIndex, 1, `${code}: launched in the next placement`);
      h.fake.clearCapacityFailures();
    }
  });

  it('stops at the first placement that has capacity', async () => {
    h.fake.failCapacity({ subnet: 'subnet-a' });
    const outcome = await launchWithPlacements(h.provider(), walk('1'));
    assert.equal(outcome.attemptIndex, 1);
    assert.equal(outcome.lifecycle, 'spot');
    h.fake.clearCapacityFailures();
  });

  it('throws the last capacity error when no placement has capacity', async () => {
    h.fake.failCapacity({});
    assert.equal(await codeOf(launchWithPlacements(h.provider(), walk('2'))), CloudErrorCode.INSUFFICIENT_CAPACITY);
    assert.equal(h.fake.instances().filter((i) => i.tags.get(TAG_SLOT) === '2').length, 0);
    h.fake.clearCapacityFailures();
  });

  it('two providers racing through the same failures end with exactly one instance', async () => {
    h.fake.failCapacity({ subnet: 'subnet-a' });
    h.fake.failCapacity({ subnet: 'subnet-b', market: 'spot' });
    const [a, b] = await Promise.all([launchWithPlacements(h.provider(), walk('3')), launchWithPlacements(h.provider(), walk('3'))]);
    assert.equal(a.instanceId, b.instanceId);
    assert.equal(h.fake.instances().filter((i) => i.tags.get(TAG_SLOT) === '3' && i.tags.get(TAG_FLEET) === 'f2').length, 1);
    h.fake.clearCapacityFailures();
  });
});
