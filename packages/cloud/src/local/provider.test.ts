import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import type { LaunchRequest } from '@synkti/interface';
import { localProvider } from './provider.js';

const dirs: string[] = [];
after(async () => Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true }))));

async function setup() {
  const dir = await mkdtemp(join(tmpdir(), 'synkti-local-provider-'));
  dirs.push(dir);
  const spawned: number[] = [];
  const spawn = async (node: { index: number }) => {
    spawned.push(node.index);
    return process.pid; // a live PID stands in for the agent process
  };
  const make = () => localProvider({ dir: join(dir, 'provider'), nodesDir: dir, spawn });
  return { make, spawned };
}

const request = (token: string, slot = '3'): LaunchRequest => ({ fleet: 'f', slot, token, placement: { instanceType: 'local', subnet: 'local' }, replaces: 'local-1' });

describe('local provider', () => {
  it('launches a token once, however many times and from however many providers it is asked', async () => {
    const { make, spawned } = await setup();
    const providers = [make(), make(), make()];
    const results = await Promise.all(providers.flatMap((p) => [p.launch(request('t1')), p.launch(request('t1'))]));
    assert.equal(spawned.length, 1);
    assert.equal(new Set(results.map((r) => r.instanceId)).size, 1);
    assert.equal(results.filter((r) => !r.existing).length, 1);
    const listed = await providers[0]!.listInstances('f');
    assert.equal(listed.length, 1);
    assert.equal(listed[0]?.slot, '3');
  });

  it('reports a reused token with other parameters', async () => {
    const { make } = await setup();
    const p = make();
    await p.launch(request('t2', '1'));
    await assert.rejects(p.launch(request('t2', '2')), (err: unknown) => (err as { code?: string }).code === 'IDEMPOTENT_PARAMETER_MISMATCH');
  });

  it('gives distinct tokens distinct instances and indexes', async () => {
    const { make, spawned } = await setup();
    const p = make();
    const [a, b] = await Promise.all([p.launch(request('a', '0')), p.launch(request('b', '1'))]);
    assert.notEqual(a.instanceId, b.instanceId);
    assert.equal(new Set(spawned).size, 2);
    assert.deepEqual((await p.listInstances('other-fleet')).length, 0);
  });
});
