import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ec2Provider } from '@synkti/cloud';
import { type FakeEc2, startFakeEc2 } from '@synkti/cloud/testing';
import { EXIT } from 'synkti-agent';
import { FAST_TIMINGS } from '../harness/agent-process.js';
import { TestFleet } from '../harness/fleet.js';
import { freePort } from '../harness/ports.js';
import { waitFor } from '../harness/wait.js';

const TEMPLATE = 'lt-0123456789abcdef0';
const PLACEMENT = 'g5.xlarge@subnet-0a';
const CREDENTIALS = { AWS_ACCESS_KEY_ID: 'test', AWS_SECRET_ACCESS_KEY: 'test', AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' };

describe('leaving means terminated: an agent on (fake) EC2', { timeout: 120_000 }, () => {
  let ec2: FakeEc2;
  before(async () => {
    // The agent processes inherit them: the fake accepts any signature.
    Object.assign(process.env, CREDENTIALS);
    ec2 = await startFakeEc2();
  });
  after(() => ec2.close());

  it('drains after a terminate notice, terminates its own instance through the API and exits with the status systemd does not restart', async () => {
    const provider = ec2Provider({ region: ec2.region, endpoint: ec2.url, launchTemplate: { id: TEMPLATE } }, { credentials: { accessKeyId: 'test', secretAccessKey: 'test' } });
    const self = await provider.launch({ fleet: 'default', slot: '0', token: 'synkti-test-leave-0', placement: { instanceType: 'g5.xlarge', subnet: 'subnet-0a' }, replaces: null });
    const fleet = await TestFleet.create();
    try {
      const imds = await freePort();
      const enginePort = await freePort();
      const node = await fleet.startAgent('ec2-node', [
        ...FAST_TIMINGS,
        '--provider', 'ec2', '--ec2-endpoint', ec2.url, '--ec2-region', ec2.region, '--ec2-launch-template', TEMPLATE, '--placements', PLACEMENT,
        '--instance-id', self.instanceId, '--emulate-imds-port', String(imds), '--imds-poll-ms', '200', '--drain-margin-ms', '500',
        '--engine-runtime', 'fake', '--engine-port', String(enginePort), '--engine-args=--ttft-ms=2,--tokens-per-s=2000',
      ]);
      ec2.setState(self.instanceId, 'running');
      const res = await fetch(`http://127.0.0.1:${imds}/_synkti/notice`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ kind: 'terminate', inSeconds: 3 }) });
      assert.equal(res.status, 200);
      assert.equal(await node.exited(), EXIT.LEFT_FLEET);
      const state = ec2.instances().find((i) => i.instanceId === self.instanceId)?.state;
      assert.ok(state === 'shutting-down' || state === 'terminated', `the departed node's instance is terminated (${state})`);
      assert.equal(ec2.callsOf('TerminateInstances').filter((c) => c.status === 200).length, 1);
      assert.ok(node.logs.some((l) => l['msg'] === 'left the fleet; own instance terminated'));
      await waitFor('no running instance of the fleet', () => (ec2.instances().every((i) => i.state !== 'running') ? true : undefined), 5_000);
    } finally {
      await fleet.close();
    }
  });
});
