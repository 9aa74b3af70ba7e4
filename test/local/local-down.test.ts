import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, it } from 'node:test';
import { alive, fleetPids, localUp } from '../harness/local-up.js';
import { cliPath } from '../harness/paths.js';
import { freeBasePort } from '../harness/ports.js';
import { waitFor } from '../harness/wait.js';

const run = promisify(execFile);

describe('a local fleet leaves nothing running', { timeout: 180_000 }, () => {
  it('SIGHUP (the terminal closed) stops every agent and engine', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'synkti-hup-'));
    const fleet = await localUp(join(dir, 'fleet'), 2, await freeBasePort(2));
    const pids = await fleetPids(fleet.dir);
    try {
      assert.equal(pids.length, 4, 'two agents and two engines');
      fleet.child.kill('SIGHUP');
      assert.equal(await fleet.exited, 0);
      await waitFor('every agent and engine to be gone', () => (pids.every((pid) => !alive(pid)) ? true : undefined), 20_000);
    } finally {
      for (const pid of pids) if (alive(pid)) process.kill(pid, 'SIGKILL');
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('`synkti local down` stops a fleet whose `local up` was SIGKILLed: agents and engines', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'synkti-down-'));
    const fleet = await localUp(join(dir, 'fleet'), 2, await freeBasePort(2));
    const pids = await fleetPids(fleet.dir);
    try {
      fleet.child.kill('SIGKILL');
      await fleet.exited;
      assert.ok(pids.every((pid) => alive(pid)), 'without its supervisor the fleet keeps running');
      const { stdout } = await run(process.execPath, [cliPath, 'local', 'down', '--dir', fleet.dir]);
      assert.match(stdout, /stopped the local fleet .* \(2 agent\(s\) were running\)/);
      await waitFor('every agent and engine to be gone', () => (pids.every((pid) => !alive(pid)) ? true : undefined), 20_000);
      await assert.rejects(run(process.execPath, [cliPath, 'local', 'down', '--dir', fleet.dir]), /no local fleet|not found/i, 'a second down says there is no fleet');
    } finally {
      for (const pid of pids) if (alive(pid)) process.kill(pid, 'SIGKILL');
      await rm(dir, { recursive: true, force: true });
    }
  });
});
