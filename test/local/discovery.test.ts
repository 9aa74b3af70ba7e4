import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, it } from 'node:test';
import { alive, localUp } from '../harness/local-up.js';
import { cliPath } from '../harness/paths.js';
import { freeBasePort } from '../harness/ports.js';
import { waitFor } from '../harness/wait.js';

const run = promisify(execFile);
const NODES = 5;
const TIMINGS = ['--agent-arg=--heartbeat-ms=300', '--agent-arg=--suspect-after-ms=1000', '--agent-arg=--dead-after-ms=3000'];

interface Instance {
  instanceId: string;
  slot: string;
  replaces: string | null;
  pid: number | null;
  terminated?: boolean;
}

async function instances(dir: string): Promise<Instance[]> {
  const names = await readdir(join(dir, 'provider', 'instances'));
  return Promise.all(names.filter((n) => n.endsWith('.json')).map(async (n) => JSON.parse(await readFile(join(dir, 'provider', 'instances', n), 'utf8')) as Instance));
}

async function healthyPeers(url: string): Promise<number> {
  const view = (await (await fetch(`${url}/fleet`, { signal: AbortSignal.timeout(3_000) })).json()) as { peers: { healthy: boolean }[] };
  return view.peers.filter((p) => p.healthy).length;
}

describe('joining with no fixed node', { timeout: 240_000 }, () => {
  it('every node was bootstrapped only from node 0: kill node 0, then another; both replacements join through the provider listing and the fleet is back to 5', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'synkti-discovery-'));
    const fleet = await localUp(join(dir, 'fleet'), NODES, await freeBasePort(NODES + 4), TIMINGS);
    const observer = `http://127.0.0.1:${fleet.basePort + 1}`;
    try {
      await waitFor('5 healthy peers', async () => ((await healthyPeers(observer)) === NODES ? true : undefined), 60_000, 200);
      await run(process.execPath, [cliPath, 'local', 'kill', '0', '--dir', fleet.dir]);
      const first = await waitFor('a replacement for slot 0', async () => (await instances(fleet.dir)).find((i) => i.slot === '0' && i.replaces === 'local-0' && i.pid !== null), 60_000);
      await waitFor('the fleet back to 5 after losing node 0', async () => ((await healthyPeers(observer)) === NODES ? true : undefined), 60_000, 200);
      // Its only bootstrap address is node 0's, which is gone: it can only have joined through the listing.
      assert.ok(first.pid !== null);
      await run(process.execPath, [cliPath, 'local', 'kill', '2', '--dir', fleet.dir]);
      await waitFor('a replacement for slot 2', async () => (await instances(fleet.dir)).find((i) => i.slot === '2' && i.replaces === 'local-2' && i.pid !== null), 60_000);
      await waitFor('the fleet back to 5 after losing node 2', async () => ((await healthyPeers(observer)) === NODES ? true : undefined), 60_000, 200);
    } finally {
      if (fleet.child.exitCode === null) {
        fleet.child.kill('SIGTERM');
        await fleet.exited;
      }
      for (const i of await instances(fleet.dir).catch(() => [])) if (i.pid !== null && alive(i.pid)) process.kill(i.pid, 'SIGKILL');
      await rm(dir, { recursive: true, force: true });
    }
  });
});
