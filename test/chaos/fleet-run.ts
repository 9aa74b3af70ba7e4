/**
 * A local fleet of agents spread over the two network namespaces of netns.ts, for chaos tests:
 * agent processes launched through `ip netns exec`, the local provider's ledger as the cloud,
 * and a teardown that removes everything the run made, also when the test process is killed.
 */
import { spawn } from 'node:child_process';
import { closeSync, existsSync, openSync } from 'node:fs';
import { cp, mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { type LocalInstanceRecord, LocalLedger, localInstanceId } from '@synkti/cloud';
import { generateSwarmKey, peerIdOfStateDir } from '@synkti/mesh';
import type * as Spawn from '../../agent/src/local/spawn.js';
import type { LocalFleetFile } from '../../agent/src/local/fleet-file.js';
import { alive } from '../harness/local-up.js';
import { repoRoot } from '../harness/paths.js';
import { freeBasePort } from '../harness/ports.js';
import { destroyNet, type Net, netNames, nsOf, type Side } from './netns.js';
import { healthyIds, ledgerRecords, MODEL, view } from './observe.js';
import { readRuntimeFile } from 'synkti-agent';

// Not in the agent package's public surface: loaded from its build like the CLI is.
export const { localAgentArgs, portsOf } = (await import(pathToFileURL(`${repoRoot}agent/dist/local/spawn.js`).href)) as typeof Spawn;

export interface Fleet {
  dir: string;
  file: LocalFleetFile;
  sideOf: (index: number) => Side;
  /** The API URLs of the first agents, by index. */
  urls: (indexes: number[]) => string[];
}

export interface FleetOptions {
  nodes: number;
  /** Indexes of the agents that run in the minority namespace. */
  minority: readonly number[];
  /** Extra agent flags (timings). */
  agentArgs: string[];
}

/** One chaos run: the processes it started, and a teardown registered for every way out. */
export class ChaosRun {
  readonly owner = process.pid;
  readonly started = new Set<number>();
  #lastPids: number[] = [];
  #cleaned = false;

  constructor(readonly name: string) {
    process.once('exit', () => this.#cleanupSync());
    for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
      process.once(sig, () => {
        this.#cleanupSync();
        process.kill(process.pid, sig);
      });
    }
  }

  /** Every PID the run made or the ledger knows: agents, replacements and their engines. */
  async knownPids(dir: string): Promise<number[]> {
    const pids = new Set(this.started);
    for (const r of await ledgerRecords(dir).catch(() => [])) {
      if (r.pid !== null) pids.add(r.pid);
      const enginePid = (await readRuntimeFile(join(dir, `node-${r.index}`)))?.enginePid;
      if (enginePid != null) pids.add(enginePid);
    }
    return [...pids];
  }

  /** Stops everything and removes what the run made; the fleet directory is copied first when SYNKTI_CHAOS_KEEP_DIR asks (agent logs and the ledger, for a failure seen in CI). */
  readonly teardown = async (): Promise<void> => {
    const dir = netNames(this.owner).dir;
    this.#lastPids = await this.knownPids(dir).catch(() => this.#lastPids);
    const keep = process.env.SYNKTI_CHAOS_KEEP_DIR;
    if (keep !== undefined && existsSync(dir)) await cp(dir, join(keep, `${this.name}-${this.owner}`), { recursive: true }).catch(() => undefined);
    this.#cleanupSync();
  };

  #cleanupSync(): void {
    if (this.#cleaned) return;
    this.#cleaned = true;
    destroyNet(this.owner, this.#lastPids.concat([...this.started]));
  }

  /** Starts `nodes` agents (the minority's in its namespace), each seeded with all the others. */
  async startFleet(net: Net, options: FleetOptions): Promise<Fleet> {
    const dir = net.dir;
    await mkdir(dir, { recursive: true });
    const swarmKeyFile = join(dir, 'swarm.key');
    await writeFile(swarmKeyFile, generateSwarmKey(), { mode: 0o600 });
    const ledger = new LocalLedger(join(dir, 'provider'));
    await ledger.init();
    const basePort = await freeBasePort(options.nodes + 4);
    const sideOf = (index: number) => (options.minority.includes(index) ? net.minority : net.majority);
    const nodes: LocalFleetFile['nodes'] = [];
    for (let i = 0; i < options.nodes; i++) {
      const index = await ledger.reserveIndex(dir, i);
      const stateDir = join(dir, `node-${index}`);
      nodes.push({ index, stateDir, ...portsOf(basePort, index), pid: null, peerId: await peerIdOfStateDir(stateDir) });
    }
    const file: LocalFleetFile = {
      version: 1, supervisorPid: this.owner, startedAt: new Date().toISOString(), dir, basePort, model: MODEL, swarmKeyFile,
      targetSize: options.nodes, launchTimeoutMs: 60_000, agentArgs: options.agentArgs, bindHost: '0.0.0.0', nodes,
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
      this.started.add(child.pid); // `ip netns exec` execs the command: this is the agent's PID
      node.pid = child.pid;
      await ledger.writeInstance({ instanceId, index: node.index, fleet: 'default', slot: String(node.index), token: null, replaces: null, pid: child.pid, createdAt: new Date().toISOString(), terminated: false });
    }
    await writeFile(join(dir, 'fleet.json'), JSON.stringify(file, null, 2));
    const urls = (indexes: number[]) => indexes.map((i) => `http://${sideOf(i).ip}:${portsOf(basePort, i).apiPort}`);
    return { dir, file, sideOf, urls };
  }
}

/** The API URL of a live instance, from the namespace it actually runs in (replacements run where their launcher does). */
export function apiUrlOf(net: Net, fleet: Fleet, record: LocalInstanceRecord): string {
  const ns = nsOf(record.pid!);
  const side = ns === net.majority.ns ? net.majority : ns === net.minority.ns ? net.minority : undefined;
  if (side === undefined) throw new Error(`${record.instanceId} (pid ${record.pid}) runs in namespace '${ns}', not one of the test's`);
  return `http://${side.ip}:${portsOf(fleet.file.basePort, record.index).apiPort}`;
}

/** Every live instance's view: the same healthy peers, exactly the live instances, `count` of them (the views, or undefined). */
export async function converged(net: Net, fleet: Fleet, count: number, lastViews: Map<string, string[]>): Promise<Map<string, string[]> | undefined> {
  const live = (await ledgerRecords(fleet.dir)).filter((r) => !r.terminated && alive(r.pid));
  const ids = await Promise.all(live.map(async (r) => (JSON.parse(await readFile(join(fleet.dir, `node-${r.index}`, 'agent.json'), 'utf8')) as { peerId: string }).peerId));
  const expected = JSON.stringify([...ids].sort());
  lastViews.clear();
  for (const r of live) lastViews.set(r.instanceId, healthyIds(await view(apiUrlOf(net, fleet, r))));
  return live.length === count && [...lastViews.values()].every((v) => JSON.stringify(v) === expected) ? new Map(lastViews) : undefined;
}
