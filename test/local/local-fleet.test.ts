import assert from 'node:assert/strict';
import { execFile, spawnSync } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { after, before, describe, it } from 'node:test';
import { alive, fleetPids, type LocalFleetProcess, localUp } from '../harness/local-up.js';
import { cliPath } from '../harness/paths.js';
import { freeBasePort } from '../harness/ports.js';
import { waitFor } from '../harness/wait.js';

const run = promisify(execFile);
const chatBody = JSON.stringify({ model: 'synkti/fake-model', messages: [{ role: 'user', content: 'Hello' }] });

describe('synkti local up', { timeout: 180_000 }, () => {
  let dir: string;
  let fleet: LocalFleetProcess;
  let pids: number[];

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'synkti-local-'));
    fleet = await localUp(join(dir, 'fleet'), 3, await freeBasePort(3));
    pids = await fleetPids(join(dir, 'fleet'));
  });
  after(async () => {
    if (fleet.child.exitCode === null) fleet.child.kill('SIGKILL');
    for (const pid of pids) if (alive(pid)) process.kill(pid, 'SIGKILL');
    await rm(dir, { recursive: true, force: true });
  });

  it('brings up agents that each answer a chat completion sent with curl', async () => {
    assert.ok(fleet.output.some((l) => l.includes('PEER ID')), 'printed the fleet table');
    for (let i = 0; i < 3; i++) {
      const { stdout } = await run('curl', ['-sS', '--max-time', '10', `http://127.0.0.1:${fleet.basePort + i}/v1/chat/completions`, '-H', 'content-type: application/json', '-d', chatBody]);
      const body = JSON.parse(stdout) as { object: string; choices: unknown[] };
      assert.equal(body.object, 'chat.completion');
      assert.equal(body.choices.length, 1);
    }
  });

  it('shows a killed agent dead within the mesh bounds while requests keep succeeding on the others', async (t) => {
    const url = `http://127.0.0.1:${fleet.basePort}`;
    let stop = false;
    // Whatever happens below, the traffic loop ends with the test (and within 3 minutes regardless).
    t.after(() => {
      stop = true;
    });
    const trafficDeadline = Date.now() + 180_000;
    let failures = 0;
    let successes = 0;
    const traffic = (async () => {
      while (!stop && Date.now() < trafficDeadline) {
        const res = await fetch(`${url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: chatBody, signal: AbortSignal.timeout(10_000) });
        await res.arrayBuffer();
        if (res.status === 200) successes++;
        else failures++;
      }
    })();
    await waitFor('some traffic', () => (successes > 10 ? true : undefined));
    const killed = await run(process.execPath, [cliPath, 'local', 'kill', '1', '--dir', fleet.dir]);
    assert.match(killed.stdout, /killed node 1/);
    const killedAt = Date.now();
    let deadAt: number | undefined;
    await waitFor('node 1 dead in /fleet', async () => {
      const view = (await (await fetch(`${url}/fleet`)).json()) as { peers: { peerId: string; apiUrl: string; status: string }[]; events: { peerId: string; kind: string; at: number }[] };
      const peer = view.peers.find((p) => p.apiUrl?.endsWith(`:${fleet.basePort + 1}`));
      deadAt = view.events.find((e) => e.peerId === peer?.peerId && e.kind === 'dead')?.at;
      // /fleet computes status live; the event is logged at the agent's next tick (a quarter heartbeat).
      return peer?.status === 'dead' && deadAt !== undefined ? true : undefined;
    }, 15_000);
    // The agent's own record of when it declared the peer dead, not this test's polling.
    const elapsed = (deadAt ?? Number.POSITIVE_INFINITY) - killedAt;
    const { stdout: statusLocal } = await run(process.execPath, [cliPath, 'local', 'status', '--dir', fleet.dir]);
    assert.match(statusLocal, /dead/);
    const { stdout: statusAfter } = await run(process.execPath, [cliPath, 'status', '--api', url]);
    assert.match(statusAfter, /dead/);
    await new Promise((r) => setTimeout(r, 500));
    stop = true;
    await traffic;
    assert.equal(failures, 0, `requests failed after the kill (${successes} succeeded)`);
    assert.ok(elapsed < 2_000 + 200 + 2_000, `dead after ${elapsed} ms (deadAfter 2 s + a heartbeat, with slack for a loaded machine)`);
  });

  it('stops every process it started on SIGTERM', async () => {
    fleet.child.kill('SIGTERM');
    assert.equal(await fleet.exited, 0);
    await waitFor('every recorded process to be gone', () => (pids.every((pid) => !alive(pid)) ? true : undefined), 10_000);
  });
});

describe('synkti CLI input errors', () => {
  const cli = (...args: string[]) => spawnSync(process.execPath, [cliPath, ...args], { encoding: 'utf8', timeout: 20_000 });
  for (const [what, args] of [
    ['an unknown command', ['frobnicate']],
    ['a bad port', ['local', 'up', '--base-port', 'http']],
    ['N < 1', ['local', 'up', '--nodes', '0']],
    ['a directory without a fleet', ['local', 'status', '--dir', join(tmpdir(), 'synkti-no-fleet-here')]],
    ['kill without a fleet', ['local', 'kill', '1', '--dir', join(tmpdir(), 'synkti-no-fleet-here')]],
    ['a bad agent config value', ['agent', '--api-port', 'eighty']],
    ['a bad status URL', ['status', '--api', 'not a url']],
  ] as const) {
    it(`exits non-zero with one readable line for ${what}`, () => {
      const result = cli(...args);
      assert.notEqual(result.status, 0);
      const lines = result.stderr.trim().split('\n').filter((l) => !l.startsWith('(Did you mean'));
      assert.equal(lines.length, 1, `stderr: ${result.stderr}`);
      assert.match(lines[0]!, /^synkti: /);
    });
  }
});
