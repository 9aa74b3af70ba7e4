import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { closeSync, existsSync, openSync } from 'node:fs';
import { cp, mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, it } from 'node:test';
import { type LocalInstanceRecord, LocalLedger, localInstanceId } from '@synkti/cloud';
import { generateSwarmKey, peerIdOfStateDir } from '@synkti/mesh';
import type * as Spawn from '../../agent/src/local/spawn.js';
import type { LocalFleetFile } from '../../agent/src/local/fleet-file.js';
import { alive } from '../harness/local-up.js';
import { repoRoot } from '../harness/paths.js';
import { freeBasePort } from '../harness/ports.js';
import { waitFor } from '../harness/wait.js';
import { createNet, destroyNet, leftovers, type Net, netNames, nsOf, removeStale, setLink, type Side, startTime, tryAddNamespace } from './netns.js';
import { brief, healthyIds, knownEngineOrphans, ledgerRecords, MODEL, traffic, unsentTcp, view, watchLedger } from './observe.js';

const NODES = 5;
const MINORITY = [3, 4];
const FAST = ['--heartbeat-ms=200', '--suspect-after-ms=700', '--dead-after-ms=2000'];
/**
 * Watched after the views first agree: a late delivery (the cut-off side's unacknowledged data,
 * retransmitted on a backoff that reaches seconds during the cut) and what it sets off show by then.
 */
const SETTLE_MS = 8_000;

// Not in the agent package's public surface: loaded from its build like the CLI is.
const { localAgentArgs, portsOf } = (await import(pathToFileURL(`${repoRoot}agent/dist/local/spawn.js`).href)) as typeof Spawn;

const owner = process.pid;
const started = new Set<number>();

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

/** Stops everything and removes what the run made; the fleet directory is copied first when asked (agent logs and the ledger, for a failure seen in CI). */
async function teardown(): Promise<void> {
  const dir = netNames(owner).dir;
  lastPids = await knownPids(dir).catch(() => lastPids);
  const keep = process.env.SYNKTI_CHAOS_KEEP_DIR;
  if (keep !== undefined && existsSync(dir)) await cp(dir, join(keep, `partition-${owner}`), { recursive: true }).catch(() => undefined);
  cleanupSync();
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

interface Fleet {
  dir: string;
  file: LocalFleetFile;
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
    closeSync(log);
    if (child.pid === undefined) throw new Error(`cannot start agent ${node.index}`);
    started.add(child.pid); // `ip netns exec` execs the command: this is the agent's PID
    node.pid = child.pid;
    await ledger.writeInstance({ instanceId, index: node.index, fleet: 'default', slot: String(node.index), token: null, replaces: null, pid: child.pid, createdAt: new Date().toISOString(), terminated: false });
  }
  await writeFile(join(dir, 'fleet.json'), JSON.stringify(file, null, 2));
  return { dir, file, sideOf };
}

/** The API URL of a live instance, from the namespace it actually runs in (replacements run where their launcher does). */
function apiUrlOf(net: Net, fleet: Fleet, record: LocalInstanceRecord): string {
  const ns = nsOf(record.pid!);
  const side = ns === net.majority.ns ? net.majority : ns === net.minority.ns ? net.minority : undefined;
  if (side === undefined) throw new Error(`${record.instanceId} (pid ${record.pid}) runs in namespace '${ns}', not one of the test's`);
  return `http://${side.ip}:${portsOf(fleet.file.basePort, record.index).apiPort}`;
}

/** The views last read, for the failure message. */
let lastViews = new Map<string, string[]>();

/** Every live instance's view: the same healthy peers, exactly the live instances, `count` of them. */
async function converged(net: Net, fleet: Fleet, count: number): Promise<Map<string, string[]> | undefined> {
  const live = (await ledgerRecords(fleet.dir)).filter((r) => !r.terminated && alive(r.pid));
  const ids = await Promise.all(live.map(async (r) => (JSON.parse(await readFile(join(fleet.dir, `node-${r.index}`, 'agent.json'), 'utf8')) as { peerId: string }).peerId));
  const expected = JSON.stringify([...ids].sort());
  const views = new Map<string, string[]>();
  for (const r of live) views.set(r.instanceId, healthyIds(await view(apiUrlOf(net, fleet, r))));
  lastViews = views;
  return live.length === count && [...views.values()].every((v) => JSON.stringify(v) === expected) ? views : undefined;
}

describe('a real network partition between agents in Linux network namespaces', { timeout: 180_000 }, () => {
  it('the majority fences and replaces the cut-off minority once per slot, serves without a failure, and every view converges after the heal', async (t) => {
    const t0 = Date.now();
    if (process.getuid?.() !== 0) return t.skip('needs root to create network namespaces (ip netns)');
    // Registered before anything exists, so a failure halfway still removes what was made.
    t.after(teardown);
    const cannot = tryAddNamespace(netNames(owner).majority.ns);
    if (cannot !== null) return t.skip(`cannot create a network namespace here: ${cannot.split('\n')[0]}`);
    const stale = removeStale();
    if (stale.length > 0) t.diagnostic(`removed leftovers of aborted runs ${stale.join(', ')}`);
    const net = createNet(owner);

    const fleet = await startFleet(net);
    const urls = (indexes: number[]) => indexes.map((i) => `http://${fleet.sideOf(i).ip}:${portsOf(fleet.file.basePort, i).apiPort}`);
    const all = urls([0, 1, 2, 3, 4]);
    // The healthy peer count each agent reports, for the message of a wait that times out.
    let counts = '';
    const allSee = (targets: string[]) => async () => {
      const views = await Promise.all(targets.map((u) => view(u).catch(() => undefined)));
      counts = JSON.stringify(Object.fromEntries(views.map((v, i) => [targets[i]!, v === undefined ? 'no answer' : healthyIds(v).length])));
      return views.every((v) => v !== undefined && healthyIds(v).length === NODES) ? true : undefined;
    };
    const seeing = (err: unknown) => assert.fail(`${(err as Error).message}; healthy peers seen: ${counts}`);
    await waitFor('all 5 agents to see 5 healthy peers across the bridge', allSee(all), 60_000, 200).catch(seeing);
    t.diagnostic(`fleet warm after ${Date.now() - t0} ms`);

    let cutAt = Number.NaN;
    const when = (t: number) => (Number.isNaN(cutAt) ? 'before the cut' : `${t - cutAt} ms from the cut`);
    const load = traffic(urls([0, 1, 2]), when);
    t.after(() => {
      load.state.stop = true;
    });
    await waitFor('traffic to flow', () => (load.state.ok.length > 10 ? true : undefined), 20_000);

    const ledgerWatch = watchLedger(fleet.dir, when);
    t.after(() => {
      ledgerWatch.state.stop = true;
    });
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
    await waitFor('the majority to see 5 healthy peers again, replacements included', allSee(urls([0, 1, 2])), 60_000, 200).catch(seeing);
    const orphans = await knownEngineOrphans(fleet.dir, minorityIds);
    if (orphans.length > 0) t.diagnostic(`engines of fenced instances still running (the local provider SIGKILLs only the agent): ${orphans.join(', ')}`);

    const healedAt = Date.now();
    const buffered = unsentTcp(net.minority.ns);
    if (buffered > 0) t.diagnostic(`the cut-off namespace's kernel still holds unsent data on ${buffered} TCP socket(s) of its killed agents: delivered late after the heal`);
    setLink(net.minority.hostVeth, 'up');
    const convergedAt = await waitFor('every live view to agree on the same 5 healthy peers', () => converged(net, fleet, NODES), 60_000, 250)
      .then(() => Date.now() - healedAt, () => null);
    if (convergedAt !== null) t.diagnostic(`views converged ${convergedAt} ms after the heal`);
    await new Promise((r) => setTimeout(r, SETTLE_MS));
    const views = await converged(net, fleet, NODES).catch(() => undefined);
    load.state.stop = true;
    ledgerWatch.state.stop = true;
    await Promise.all([load.done(), ledgerWatch.done()]);
    const { launchedIn, doubles } = ledgerWatch.state;

    // Every violation at once, with what was seen: one run of this test is costly to repeat.
    const records = await ledgerRecords(fleet.dir);
    const problems: string[] = [];
    const launches = records.filter((r) => r.replaces !== null);
    for (const slot of MINORITY.map(String)) {
      const n = launches.filter((r) => r.slot === slot).length;
      if (n !== 1) problems.push(`lost slot ${slot} got ${n} launches across both sides, not exactly 1`);
    }
    const stray = launches.filter((r) => !MINORITY.map(String).includes(r.slot!));
    if (stray.length > 0) problems.push(`launches for slots that were not lost: ${stray.map((r) => r.instanceId).join(', ')}`);
    for (const r of launches) if (launchedIn.get(r.instanceId) !== net.majority.ns) problems.push(`${r.instanceId} ran in namespace '${launchedIn.get(r.instanceId) ?? 'unknown'}', not the majority's`);
    const live = records.filter((r) => !r.terminated && alive(r.pid));
    for (let slot = 0; slot < NODES; slot++) {
      const n = live.filter((r) => r.slot === String(slot)).length;
      if (n !== 1) problems.push(`slot ${slot} has ${n} live instances after the heal, not 1`);
    }
    if (doubles.length > 0) problems.push(`two live instances in one slot: ${doubles.join('; ')}`);
    const undead = records.filter((r) => r.terminated && alive(r.pid)).map((r) => r.instanceId);
    if (undead.length > 0) problems.push(`terminated instances still running: ${undead.join(', ')}`);
    if (load.state.failed.length > 0) problems.push(`${load.state.failed.length} requests failed on the majority side: ${load.state.failed.slice(0, 5).join(' | ')}`);
    // From 2 s after the cut: peers need suspectAfter to stop routing to the cut-off side.
    const during = load.state.ok.filter((r) => r.start > cutAt + 2_000 && r.start < healedAt).length;
    const after = load.state.ok.filter((r) => r.start > healedAt).length;
    if (during === 0 || after === 0) problems.push(`the majority served ${during} requests sent during the partition and ${after} after the heal: it should serve throughout`);
    const slow = load.state.ok.filter((r) => r.ms > 2_000);
    if (slow.length > 0) t.diagnostic(`${slow.length} requests took over 2 s (slowest ${Math.max(...slow.map((r) => r.ms))} ms, sent ${slow.map((r) => when(r.start)).join(', ')}): stuck on a cut-off peer until the heal`);
    if (convergedAt === null) problems.push('views did not converge within 60 s of the heal');
    else if (views === undefined) problems.push(`views disagreed again ${SETTLE_MS} ms after converging`);

    const seen = `views (healthy peer IDs by instance): ${JSON.stringify(Object.fromEntries(lastViews))}\nledger: ${brief(records)}`;
    const made = (await knownPids(fleet.dir)).map((pid) => ({ pid, since: startTime(pid) })).filter((p) => p.since !== undefined);
    await teardown();
    const left = leftovers(owner);
    if (left.length > 0) problems.push(`left behind: ${left.join(', ')}`);
    const running = made.filter((p) => alive(p.pid) && startTime(p.pid) === p.since).map((p) => p.pid);
    if (running.length > 0) problems.push(`processes left running: ${running.join(', ')}`);
    if (existsSync(fleet.dir)) problems.push(`${fleet.dir} is still there`);
    t.diagnostic(`total ${Date.now() - t0} ms; ${load.state.ok.length} requests succeeded`);
    assert.deepEqual(problems, [], `${problems.join('; ')}\n${seen}`);
  });
});
