import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, openSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, it } from 'node:test';
import { type LocalInstanceRecord, LocalLedger, localInstanceId } from '@synkti/cloud';
import type { FleetJson } from '@synkti/gateway';
import { generateSwarmKey, peerIdOfStateDir } from '@synkti/mesh';
import type * as Spawn from '../../agent/src/local/spawn.js';
import type { LocalFleetFile } from '../../agent/src/local/fleet-file.js';
import { alive } from '../harness/local-up.js';
import { repoRoot } from '../harness/paths.js';
import { freeBasePort } from '../harness/ports.js';
import { waitFor } from '../harness/wait.js';
import { createNet, destroyNet, leftovers, type Net, netNames, nsOf, removeStale, setLink, type Side, tryAddNamespace } from './netns.js';

const NODES = 5;
const MINORITY = [3, 4];
const MODEL = 'synkti/fake-model';
const FAST = ['--heartbeat-ms=200', '--suspect-after-ms=700', '--dead-after-ms=2000'];
/** After the heal: longer than deadAfter, so a duplicate launch or a lingering stale view would show. */
const SETTLE_MS = 4_000;
const TRAFFIC_MAX_MS = 150_000;
const chatBody = JSON.stringify({ model: MODEL, messages: [{ role: 'user', content: 'Hello' }], max_tokens: 8 });

// Not in the agent package's public surface: loaded from its build like the CLI is.
const { localAgentArgs, portsOf } = (await import(pathToFileURL(`${repoRoot}agent/dist/local/spawn.js`).href)) as typeof Spawn;

const owner = process.pid;
const started = new Set<number>();
const children: ChildProcess[] = [];

/** Every PID the run made or the ledger knows: agents, replacements and their engines. */
async function knownPids(dir: string): Promise<number[]> {
  const pids = new Set(started);
  for (const r of await ledgerRecords(dir).catch(() => [])) {
    if (r.pid !== null) pids.add(r.pid);
    const runtime = JSON.parse(await readFile(join(dir, `node-${r.index}`, 'agent.json'), 'utf8').catch(() => '{}')) as { enginePid?: number | null };
    if (runtime.enginePid != null) pids.add(runtime.enginePid);
  }
  return [...pids];
}

let cleaned = false;
let lastPids: number[] = [];
function cleanupSync(): void {
  if (cleaned) return;
  cleaned = true;
  destroyNet(owner, lastPids.concat([...started]));
}
process.once('exit', cleanupSync);
for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
  process.once(sig, () => {
    cleanupSync();
    process.kill(process.pid, sig);
  });
}

async function ledgerRecords(dir: string): Promise<LocalInstanceRecord[]> {
  return new LocalLedger(join(dir, 'provider')).instances();
}

const brief = (records: LocalInstanceRecord[]) => JSON.stringify(records.map((r) => ({ id: r.instanceId, slot: r.slot, replaces: r.replaces, pid: r.pid, alive: alive(r.pid), terminated: r.terminated })));

async function view(url: string): Promise<FleetJson> {
  return (await (await fetch(`${url}/fleet`, { signal: AbortSignal.timeout(2_000) })).json()) as FleetJson;
}

const healthyIds = (v: FleetJson) => v.peers.filter((p) => p.healthy).map((p) => p.peerId).sort();

/** Steady traffic through the given agents until stopped; every non-200 or error is a failure. */
function traffic(urls: string[], since: () => number) {
  const state = { stop: false, ok: 0, failed: [] as string[] };
  const deadline = Date.now() + TRAFFIC_MAX_MS;
  const loops = urls.map(async (url) => {
    while (!state.stop && Date.now() < deadline && state.failed.length < 50) {
      const at = Date.now() - since();
      try {
        const res = await fetch(`${url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: chatBody, signal: AbortSignal.timeout(20_000) });
        const text = await res.text();
        if (res.status === 200) state.ok++;
        else state.failed.push(`${url} at ${at} ms from the cut: ${res.status} ${text.slice(0, 200)}`);
      } catch (err) {
        state.failed.push(`${url} at ${at} ms from the cut: ${String(err)}`);
        await new Promise((r) => setTimeout(r, 100));
      }
    }
  });
  return { state, done: () => Promise.all(loops) };
}

interface Fleet {
  dir: string;
  file: LocalFleetFile;
  peerIds: string[];
  sideOf: (index: number) => Side;
}

async function startFleet(net: Net): Promise<Fleet> {
  const dir = net.dir;
  await mkdir(dir, { recursive: true });
  const swarmKeyFile = join(dir, 'swarm.key');
  await writeFile(swarmKeyFile, generateSwarmKey(), { mode: 0o600 });
  const ledger = new LocalLedger(join(dir, 'provider'));
  await ledger.init();
  const basePort = await freeBasePort(NODES + 4);
  const sideOf = (index: number) => (MINORITY.includes(index) ? net.minority : net.majority);
  const nodes: LocalFleetFile['nodes'] = [];
  for (let i = 0; i < NODES; i++) {
    const index = await ledger.reserveIndex(dir, i);
    const stateDir = join(dir, `node-${index}`);
    nodes.push({ index, stateDir, ...portsOf(basePort, index), pid: null, peerId: await peerIdOfStateDir(stateDir) });
  }
  const file: LocalFleetFile = {
    version: 1, supervisorPid: owner, startedAt: new Date().toISOString(), dir, basePort, model: MODEL, swarmKeyFile,
    targetSize: NODES, launchTimeoutMs: 60_000, agentArgs: FAST, bindHost: '0.0.0.0', nodes,
  };
  await writeFile(join(dir, 'fleet.json'), JSON.stringify(file, null, 2));
  const addr = (n: (typeof nodes)[number]) => `/ip4/${sideOf(n.index).ip}/tcp/${n.p2pPort}/p2p/${n.peerId}`;
  for (const node of nodes) {
    const instanceId = localInstanceId(node.index);
    // Every seed but itself, as a launch template would list them; replacements inherit the list.
    const args = localAgentArgs(file, { index: node.index, instanceId, slot: String(node.index) }, nodes.filter((n) => n !== node).map(addr));
    const log = openSync(join(node.stateDir, 'agent.log'), 'a');
    const child = spawn('ip', ['netns', 'exec', sideOf(node.index).ns, process.execPath, ...args], { stdio: ['ignore', log, log], detached: true });
    if (child.pid === undefined) throw new Error(`cannot start agent ${node.index}`);
    children.push(child);
    started.add(child.pid); // `ip netns exec` execs the command: this is the agent's PID
    node.pid = child.pid;
    await ledger.writeInstance({ instanceId, index: node.index, fleet: 'default', slot: String(node.index), token: null, replaces: null, pid: child.pid, createdAt: new Date().toISOString(), terminated: false });
  }
  await writeFile(join(dir, 'fleet.json'), JSON.stringify(file, null, 2));
  return { dir, file, peerIds: nodes.map((n) => n.peerId), sideOf };
}

/** The API URL of a live instance, from the namespace it actually runs in (replacements run where their launcher does). */
function apiUrlOf(net: Net, fleet: Fleet, record: LocalInstanceRecord): string {
  const ns = nsOf(record.pid!);
  const side = ns === net.majority.ns ? net.majority : ns === net.minority.ns ? net.minority : undefined;
  if (side === undefined) throw new Error(`${record.instanceId} (pid ${record.pid}) runs in namespace '${ns}', not one of the test's`);
  return `http://${side.ip}:${portsOf(fleet.file.basePort, record.index).apiPort}`;
}

async function liveRecords(dir: string): Promise<LocalInstanceRecord[]> {
  return (await ledgerRecords(dir)).filter((r) => !r.terminated && alive(r.pid));
}

/** Every live instance's view: the same healthy peers, exactly the live instances, `count` of them. */
async function converged(net: Net, fleet: Fleet, count: number): Promise<Map<string, string[]> | undefined> {
  const live = await liveRecords(fleet.dir);
  const ids = await Promise.all(live.map(async (r) => (JSON.parse(await readFile(join(fleet.dir, `node-${r.index}`, 'agent.json'), 'utf8')) as { peerId: string }).peerId));
  const expected = JSON.stringify([...ids].sort());
  const views = new Map<string, string[]>();
  for (const r of live) views.set(r.instanceId, healthyIds(await view(apiUrlOf(net, fleet, r))));
  lastViews = views;
  return live.length === count && [...views.values()].every((v) => JSON.stringify(v) === expected) ? views : undefined;
}
let lastViews = new Map<string, string[]>();

describe('a real network partition between agents in Linux network namespaces', { timeout: 180_000 }, () => {
  it('the majority fences and replaces the cut-off minority once per slot, serves without a failure, and every view converges after the heal', async (t) => {
    const t0 = Date.now();
    if (process.getuid?.() !== 0) return t.skip('needs root to create network namespaces (ip netns)');
    const stale = removeStale();
    if (stale.length > 0) t.diagnostic(`removed leftovers of aborted runs ${stale.join(', ')}`);
    const names = netNames(owner);
    // Registered before anything exists, so a failure halfway still removes what was made.
    t.after(async () => {
      lastPids = await knownPids(names.dir).catch(() => lastPids);
      cleanupSync();
    });
    const cannot = tryAddNamespace(names.majority.ns);
    if (cannot !== null) return t.skip(`cannot create a network namespace here: ${cannot.split('\n')[0]}`);
    const net = createNet(owner);

    const fleet = await startFleet(net);
    const urls = (indexes: number[]) => indexes.map((i) => `http://${fleet.sideOf(i).ip}:${portsOf(fleet.file.basePort, i).apiPort}`);
    const all = urls([0, 1, 2, 3, 4]);
    await waitFor('all 5 agents to see 5 healthy peers across the bridge', async () => {
      const views = await Promise.all(all.map(view));
      return views.every((v) => healthyIds(v).length === NODES) ? true : undefined;
    }, 60_000, 200);
    t.diagnostic(`fleet warm after ${Date.now() - t0} ms`);

    let cutAt = Date.now();
    const load = traffic(urls([0, 1, 2]), () => cutAt);
    t.after(() => {
      load.state.stop = true;
    });
    await waitFor('traffic to flow', () => (load.state.ok > 10 ? true : undefined), 20_000);

    cutAt = Date.now();
    setLink(net.minority.hostVeth, 'down');
    const minorityIds = MINORITY.map(localInstanceId);
    const replaced = await waitFor('the majority to launch one replacement per minority slot', async () => {
      const records = await ledgerRecords(fleet.dir);
      const launched = records.filter((r) => r.replaces !== null && minorityIds.includes(r.replaces) && r.pid !== null);
      return launched.length >= MINORITY.length ? records : undefined;
    }, 60_000, 200).catch(async (err) => assert.fail(`${(err as Error).message}; ledger: ${brief(await ledgerRecords(fleet.dir))}`));
    t.diagnostic(`replacements launched ${Date.now() - cutAt} ms after the cut: ${brief(replaced)}`);
    await waitFor('the minority instances fenced (terminated, their processes gone)', async () => {
      const records = await ledgerRecords(fleet.dir);
      return records.filter((r) => minorityIds.includes(r.instanceId)).every((r) => r.terminated && !alive(r.pid)) ? true : undefined;
    }, 30_000, 200).catch(async (err) => assert.fail(`${(err as Error).message}; ledger: ${brief(await ledgerRecords(fleet.dir))}`));
    await waitFor('the majority to see 5 healthy peers again, replacements included', async () => {
      const views = await Promise.all(urls([0, 1, 2]).map(view));
      return views.every((v) => healthyIds(v).length === NODES) ? true : undefined;
    }, 60_000, 200);
    const orphans = await knownEngineOrphans(fleet.dir, minorityIds);
    if (orphans.length > 0) t.diagnostic(`engines of fenced instances still running (the local provider SIGKILLs only the agent): ${orphans.join(', ')}`);

    const healedAt = Date.now();
    setLink(net.minority.hostVeth, 'up');
    await waitFor('every live view to agree on the same 5 healthy peers', () => converged(net, fleet, NODES), 60_000, 250)
      .catch(async (err) => assert.fail(`${(err as Error).message}; views: ${JSON.stringify(Object.fromEntries(lastViews))}; ledger: ${brief(await ledgerRecords(fleet.dir))}`));
    t.diagnostic(`views converged ${Date.now() - healedAt} ms after the heal`);
    await new Promise((r) => setTimeout(r, SETTLE_MS));
    const views = await converged(net, fleet, NODES);
    load.state.stop = true;
    await load.done();

    const records = await ledgerRecords(fleet.dir);
    const seen = `ledger: ${brief(records)}`;
    const launches = records.filter((r) => r.replaces !== null);
    for (const slot of MINORITY.map(String)) {
      assert.equal(launches.filter((r) => r.slot === slot).length, 1, `exactly one launch for lost slot ${slot} across both sides; ${seen}`);
    }
    assert.equal(launches.length, MINORITY.length, `no launch for a slot that was not lost; ${seen}`);
    for (const r of launches) assert.equal(nsOf(r.pid!), net.majority.ns, `${r.instanceId} was launched by the majority (it runs in its namespace); ${seen}`);
    const live = records.filter((r) => !r.terminated && alive(r.pid));
    for (let slot = 0; slot < NODES; slot++) {
      assert.equal(live.filter((r) => r.slot === String(slot)).length, 1, `slot ${slot} has exactly one live instance after the heal; ${seen}`);
    }
    assert.deepEqual(records.filter((r) => r.terminated && alive(r.pid)).map((r) => r.instanceId), [], `no terminated instance still runs; ${seen}`);
    assert.deepEqual(load.state.failed, [], `no request failed on the majority side (${load.state.ok} succeeded)`);
    assert.ok(load.state.ok > 50, `traffic flowed throughout (${load.state.ok} requests succeeded)`);
    assert.ok(views !== undefined, `views still agree ${SETTLE_MS} ms after converging: ${JSON.stringify(Object.fromEntries(lastViews))}; ${seen}`);

    lastPids = await knownPids(fleet.dir);
    cleanupSync();
    assert.deepEqual(leftovers(owner), [], 'no namespace, bridge or veth is left');
    assert.deepEqual(lastPids.filter(alive), [], 'no process the test made or the ledger knew is left');
    assert.ok(!existsSync(fleet.dir), 'the fleet directory is removed');
    t.diagnostic(`total ${Date.now() - t0} ms; ${load.state.ok} requests succeeded`);
  });
});

/** Engines whose agent was fenced (SIGKILLed) but which still run: a fenced EC2 instance takes its engine with it. */
async function knownEngineOrphans(dir: string, instanceIds: string[]): Promise<string[]> {
  const out: string[] = [];
  for (const r of await ledgerRecords(dir)) {
    if (!instanceIds.includes(r.instanceId)) continue;
    const runtime = JSON.parse(await readFile(join(dir, `node-${r.index}`, 'agent.json'), 'utf8').catch(() => '{}')) as { enginePid?: number | null };
    if (runtime.enginePid != null && alive(runtime.enginePid)) out.push(`${r.instanceId} engine pid ${runtime.enginePid}`);
  }
  return out;
}
