import assert from 'node:assert/strict';
import { cp, mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { alive, type LocalFleetProcess, localUp } from '../harness/local-up.js';
import { freeBasePort } from '../harness/ports.js';
import { waitFor } from '../harness/wait.js';

const MIN_NODES = 2;
const MAX_NODES = 5;
/**
 * Short windows and cooldowns: the rule is the production one, only its numbers shrink. The
 * scale-in window stays several seconds: on 2 busy cores, demand as the engines count it dips
 * for seconds while requests wait in the agents' event loops instead (seen: a 3 s window flapped).
 * Dead-after is 5 s, not 2 s: the entry agent carries every stream and its event loop stalls for
 * seconds on a loaded machine, and a node taken for dead is fenced.
 */
const ARGS = [
  '--agent-arg=--heartbeat-ms=300', '--agent-arg=--suspect-after-ms=1500', '--agent-arg=--dead-after-ms=5000',
  '--agent-arg=--autoscale=true', `--agent-arg=--min-nodes=${MIN_NODES}`, `--agent-arg=--max-nodes=${MAX_NODES}`, '--agent-arg=--target-load-per-node=2',
  '--agent-arg=--scale-out-window-ms=1500', '--agent-arg=--scale-in-window-ms=8000',
  '--agent-arg=--scale-out-cooldown-ms=2000', '--agent-arg=--scale-in-cooldown-ms=3000',
];
const streamBody = JSON.stringify({ model: 'synkti/fake-model', messages: [{ role: 'user', content: 'Hello' }], max_tokens: 300, ignore_eos: true, stream: true });
/** Longest the load runs, so a failed test cannot leave it going. */
const LOAD_MAX_MS = 120_000;

interface Instance { instanceId: string; slot: string; replaces: string | null; token: string | null; pid: number; terminated?: boolean }

async function instances(dir: string): Promise<Instance[]> {
  const names = await readdir(join(dir, 'provider', 'instances'));
  return Promise.all(names.filter((n) => n.endsWith('.json')).map(async (n) => JSON.parse(await readFile(join(dir, 'provider', 'instances', n), 'utf8')) as Instance));
}
const running = async (dir: string) => (await instances(dir)).filter((i) => !i.terminated && alive(i.pid));

/** Stops `local up` (and with it every node), kills any straggler by PID, keeps the logs when asked, removes the directory. */
async function stopFleet(fleet: LocalFleetProcess, dir: string, name: string): Promise<void> {
  if (fleet.child.exitCode === null) {
    fleet.child.kill('SIGTERM');
    await fleet.exited;
  }
  for (const i of await instances(fleet.dir).catch(() => [])) if (alive(i.pid)) process.kill(i.pid, 'SIGKILL');
  // Agent logs and the ledger, for a failure seen in CI.
  const keep = process.env.SYNKTI_TEST_KEEP_DIR;
  if (keep !== undefined) await cp(dir, join(keep, `${name}-${process.pid}`), { recursive: true }).catch(() => undefined);
  await rm(dir, { recursive: true, force: true });
}

/** `clients` streams at a time through `url`, each read to its end, until stopped. */
function streams(url: string, clients: number) {
  const state = { stop: false, ok: 0, failed: [] as string[] };
  const deadline = Date.now() + LOAD_MAX_MS;
  const loops = Array.from({ length: clients }, async () => {
    while (!state.stop && Date.now() < deadline && state.failed.length < 20) {
      try {
        const res = await fetch(`${url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: streamBody, signal: AbortSignal.timeout(60_000) });
        const text = await res.text();
        if (res.status === 200 && text.includes('"finish_reason":"length"') && text.trimEnd().endsWith('data: [DONE]')) state.ok++;
        else state.failed.push(`${res.status} ${text.slice(-200)}`);
      } catch (err) {
        state.failed.push(String(err));
      }
    }
  });
  return { state, done: () => Promise.all(loops) };
}

describe('autoscaling on a local fleet: decided by load, leader-free', { timeout: 300_000 }, () => {
  let dir: string;
  let fleet: LocalFleetProcess;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'synkti-autoscale-'));
    fleet = await localUp(join(dir, 'fleet'), MIN_NODES, await freeBasePort(MAX_NODES + 8), ARGS);
  });
  after(() => stopFleet(fleet, dir, 'autoscale'));

  it(`grows from ${MIN_NODES} to ${MAX_NODES} under sustained load (never above, each slot launched once), then shrinks back to ${MIN_NODES} once idle, every extra node drained and terminated; no stream fails or is cut`, async (t) => {
    const url = `http://127.0.0.1:${fleet.basePort}`;
    const load = streams(url, 14);
    t.after(() => {
      load.state.stop = true;
    });
    let peak = 0;
    await waitFor(`${MAX_NODES} running instances`, async () => {
      const n = (await running(fleet.dir)).length;
      peak = Math.max(peak, n);
      return n >= MAX_NODES ? true : undefined;
    }, 90_000, 250);
    await waitFor(`${MAX_NODES} healthy peers`, async () => {
      const v = (await (await fetch(`${url}/fleet`)).json()) as { peers: { healthy: boolean }[] };
      return v.peers.filter((p) => p.healthy).length === MAX_NODES ? true : undefined;
    }, 60_000, 250);
    // Keep the load a little longer: the fleet must stay at the maximum, not go past it.
    await new Promise((r) => setTimeout(r, 3_000));
    peak = Math.max(peak, (await running(fleet.dir)).length);
    load.state.stop = true;
    await load.done();
    assert.equal(peak, MAX_NODES, 'never above maxNodes');
    if (load.state.failed.length > 0) t.diagnostic(`failed streams: ${JSON.stringify(load.state.failed)}`);
    assert.deepEqual(load.state.failed, [], `no stream failed or was cut (${load.state.ok} whole)`);

    await waitFor(`the fleet back at ${MIN_NODES} running instances`, async () => ((await running(fleet.dir)).length === MIN_NODES ? true : undefined), 120_000, 250);
    const all = await instances(fleet.dir);
    for (let slot = MIN_NODES; slot < MAX_NODES; slot++) assert.equal(all.filter((i) => i.slot === String(slot)).length, 1, `slot ${slot} launched exactly once: ${JSON.stringify(all)}`);
    const terminated = all.filter((i) => i.terminated);
    assert.equal(terminated.length, MAX_NODES - MIN_NODES, `the extra nodes are terminated in the ledger: ${JSON.stringify(all)}`);
    // An agent marks its own instance terminated and then exits: its process may outlive the record by a moment.
    for (const i of terminated) await waitFor(`${i.instanceId}'s process gone`, async () => (alive(i.pid) ? undefined : true), 10_000, 100);
    // Whoever was the launcher at the time decided; the decisions are in its log.
    const nodeDirs = (await readdir(fleet.dir)).filter((n) => n.startsWith('node-'));
    const logs = (await Promise.all(nodeDirs.map((n) => readFile(join(fleet.dir, n, 'agent.log'), 'utf8').catch(() => '')))).join('\n');
    assert.match(logs, /"reason":"load-high"[^\n]*"msg":"fleet size decided"/);
    assert.match(logs, /"reason":"load-low"[^\n]*"msg":"fleet size decided"/);
    // And it stays there: the decision outlives the peers that made it (they drained too).
    await new Promise((r) => setTimeout(r, 4_000));
    assert.equal((await running(fleet.dir)).length, MIN_NODES, `still ${MIN_NODES} running instances: ${JSON.stringify(await instances(fleet.dir))}`);
    assert.equal((await instances(fleet.dir)).length, MAX_NODES, 'nothing launched after the scale-in');
    const metrics = await (await fetch(`${url}/metrics`)).text();
    assert.match(metrics, new RegExp(`synkti_fleet_size\\{kind="desired"[^}]*\\} ${MIN_NODES}\\n`), 'the desired size is exported');
    assert.match(metrics, new RegExp(`synkti_fleet_size\\{kind="healthy"[^}]*\\} ${MIN_NODES}\\n`), 'and the healthy size beside it');
  });
});

describe('autoscaling with duelling deciders (every agent forced to act as the launcher)', { timeout: 240_000 }, () => {
  let dir: string;
  let fleet: LocalFleetProcess;
  const DUEL_MAX = 4;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'synkti-autoscale-duel-'));
    const args = ARGS.map((a) => a.replace(`--max-nodes=${MAX_NODES}`, `--max-nodes=${DUEL_MAX}`)).concat('--agent-arg=--test-assume-launcher=true');
    fleet = await localUp(join(dir, 'fleet'), MIN_NODES, await freeBasePort(DUEL_MAX + 8), args);
  });
  after(() => stopFleet(fleet, dir, 'autoscale-duel'));

  it(`two agents both act as the launcher: the fleet grows by exactly the decided number, each new slot launched once`, async (t) => {
    const url = `http://127.0.0.1:${fleet.basePort}`;
    const load = streams(url, 14);
    t.after(() => {
      load.state.stop = true;
    });
    await waitFor(`${DUEL_MAX} healthy peers`, async () => {
      const v = (await (await fetch(`${url}/fleet`)).json()) as { peers: { healthy: boolean }[] };
      return v.peers.filter((p) => p.healthy).length === DUEL_MAX ? true : undefined;
    }, 90_000, 250);
    // Let both deciders run on with the load a while: any double launch would show by now.
    await new Promise((r) => setTimeout(r, 4_000));
    load.state.stop = true;
    await load.done();
    const all = await instances(fleet.dir);
    const launched = all.filter((i) => i.token !== null);
    assert.deepEqual(launched.map((i) => i.slot).sort(), ['2', '3'], `exactly ${DUEL_MAX - MIN_NODES} launches, one per new slot: ${JSON.stringify(all)}`);
    const nodeDirs = (await readdir(fleet.dir)).filter((n) => n.startsWith('node-'));
    const logs = await Promise.all(nodeDirs.map((n) => readFile(join(fleet.dir, n, 'agent.log'), 'utf8').catch(() => '')));
    // Every agent plans as the launcher, but whether two of them act in the same instant is up to
    // timing: a decision or a launch record gossiped first is adopted by the other within a
    // heartbeat. The count of agents that decided and launched says how hard this run duelled.
    const deciders = logs.filter((l) => /"msg":"fleet size decided"/.test(l)).length;
    const launchers = logs.filter((l) => /"msg":"launching a replacement"/.test(l)).length;
    t.diagnostic(`${deciders} agent(s) decided a size; ${launchers} agent(s) launched`);
    assert.deepEqual(load.state.failed, [], `no stream failed (${load.state.ok} whole)`);
  });
});
