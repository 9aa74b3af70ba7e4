import { type ChildProcess, spawn } from 'node:child_process';
import { openSync } from 'node:fs';
import { mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { LocalLedger, localInstanceId } from '@synkti/cloud';
import type { FleetJson } from '@synkti/gateway';
import { SynktiError } from '@synkti/interface';
import { generateSwarmKey, peerIdOfStateDir } from '@synkti/mesh';
import { readRuntimeFile } from '../runtime-file.js';
import { renderTable } from '../table.js';
import { isAlive, type LocalFleetFile, type LocalNode, readFleetFile, removeFleetFile, writeFleetFile } from './fleet-file.js';
import { ephemeralOverlap, ephemeralPortRange } from './ephemeral.js';
import { killGroup } from './kill.js';
import { localAgentArgs, PORT_OFFSETS, portsOf } from './spawn.js';

export { killGroup };

/** Node indexes (replacements included) a local fleet may use: one port group's width. */
export const MAX_LOCAL_NODES = PORT_OFFSETS.p2p - PORT_OFFSETS.api;
/** Replacements in a local fleet: boot and warm-up take seconds here, not minutes as on EC2. */
export const LOCAL_LAUNCH_TIMEOUT_MS = 60_000;
/** How long `up` waits for every engine to be warm before it gives up. */
export const WARM_TIMEOUT_MS = 120_000;
/** Grace for agents to drain and say goodbye on stop, before SIGKILL. */
export const STOP_GRACE_MS = 15_000;

export interface LocalUpOptions {
  nodes: number;
  basePort: number;
  dir: string;
  model: string;
  /** Extra flags for every agent (tests shorten timings with these). */
  agentArgs?: string[];
  out?: (line: string) => void;
}

/**
 * `synkti local up`: N agents as separate processes on 127.0.0.1, each with its own state
 * directory, fake engine and ports, one fresh swarm key, all bootstrapped from the first.
 */
export class LocalFleet {
  readonly options: LocalUpOptions;
  readonly dir: string;
  readonly children = new Map<number, ChildProcess>();
  #file: LocalFleetFile | undefined;
  #stopping = false;

  constructor(options: LocalUpOptions) {
    this.options = options;
    this.dir = resolve(options.dir);
  }

  /**
   * `synkti local down`: stops a fleet another process started. Its supervisor (`local up`)
   * gets SIGTERM and the time to stop everything itself; whatever is left — agents, replacements,
   * engines, when the supervisor is gone (SIGKILLed, its terminal lost) — is stopped from here.
   */
  static async down(dir: string): Promise<number> {
    const file = await readFleetFile(resolve(dir));
    if (file.supervisorPid !== process.pid && isAlive(file.supervisorPid)) {
      process.kill(file.supervisorPid, 'SIGTERM');
      const deadline = Date.now() + STOP_GRACE_MS + 5_000;
      while (isAlive(file.supervisorPid) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    }
    const fleet = new LocalFleet({ dir, nodes: file.nodes.length, basePort: file.basePort, model: file.model, agentArgs: [] });
    fleet.#file = file;
    const nodes = await listNodes(file);
    const running = nodes.filter((n) => n.pid !== null && isAlive(n.pid)).length;
    await fleet.stop();
    return running;
  }

  get file(): LocalFleetFile {
    if (this.#file === undefined) throw new Error('fleet not started');
    return this.#file;
  }

  async start(): Promise<void> {
    const { nodes, basePort } = this.options;
    if (basePort + PORT_OFFSETS.metadata + nodes - 1 > 65_535) throw new SynktiError('BAD_PORT', `--base-port ${basePort} leaves no room for ${nodes} nodes (ports up to base+${PORT_OFFSETS.metadata + nodes - 1})`);
    // Replacements take the next indexes, up to the next port group.
    const last = basePort + PORT_OFFSETS.metadata + MAX_LOCAL_NODES - 1;
    const range = ephemeralPortRange();
    const overlap = ephemeralOverlap(basePort, last, range);
    if (overlap !== null) {
      throw new SynktiError('EPHEMERAL_PORTS', `--base-port ${basePort}: the fleet's ports ${basePort}-${last} overlap the kernel's ephemeral range ${range[0]}-${range[1]} (net.ipv4.ip_local_port_range), where outbound connections take ports at random; use a base port of at most ${range[0] - (last - basePort) - 1} or above ${range[1]}`);
    }
    await this.#refuseIfRunning();
    // Each `up` starts a fresh fleet: an old run's ledger and node directories would shift indexes and ports.
    await rm(join(this.dir, 'provider'), { recursive: true, force: true });
    for (const name of await readdir(this.dir).catch(() => [] as string[])) {
      if (/^node-\d+$/.test(name)) await rm(join(this.dir, name), { recursive: true, force: true });
    }
    await mkdir(this.dir, { recursive: true });
    const swarmKeyFile = join(this.dir, 'swarm.key');
    await writeFile(swarmKeyFile, generateSwarmKey(), { mode: 0o600 });
    const ledger = new LocalLedger(join(this.dir, 'provider'));
    await ledger.init();
    const layout: LocalNode[] = [];
    for (let index = 0; index < nodes; index++) {
      const index_ = await ledger.reserveIndex(this.dir, index);
      const stateDir = join(this.dir, `node-${index_}`);
      layout.push({ index: index_, stateDir, ...portsOf(basePort, index_), pid: null, peerId: await peerIdOfStateDir(stateDir) });
    }
    this.#file = {
      version: 1, supervisorPid: process.pid, startedAt: new Date().toISOString(), dir: this.dir, basePort, model: this.options.model, swarmKeyFile,
      targetSize: nodes, launchTimeoutMs: LOCAL_LAUNCH_TIMEOUT_MS, agentArgs: this.options.agentArgs ?? [], nodes: layout,
    };
    await writeFleetFile(this.dir, this.#file);
    const first = layout[0]!;
    const bootstrap = `/ip4/127.0.0.1/tcp/${first.p2pPort}/p2p/${first.peerId}`;
    for (const node of layout) {
      node.pid = this.#spawn(node, node.index === first.index ? [] : [bootstrap]);
      // The first nodes are "instances" of the fleet too: the ledger is the provider's ground truth.
      await ledger.writeInstance({ instanceId: localInstanceId(node.index), index: node.index, fleet: 'default', slot: String(node.index), token: null, replaces: null, pid: node.pid, createdAt: new Date().toISOString(), terminated: false });
    }
    await writeFleetFile(this.dir, this.#file);
  }

  #spawn(node: LocalNode, bootstrap: string[]): number {
    const log = openSync(join(node.stateDir, 'agent.log'), 'a');
    const args = localAgentArgs(this.file, { index: node.index, instanceId: localInstanceId(node.index), slot: String(node.index) }, bootstrap);
    const child = spawn(process.execPath, args, { stdio: ['ignore', log, log] });
    if (child.pid === undefined) throw new SynktiError('SPAWN_FAILED', `cannot start agent ${node.index}`);
    this.children.set(node.index, child);
    child.once('exit', (code, signal) => {
      if (!this.#stopping) this.options.out?.(`node ${node.index} exited (${signal ?? `code ${code}`}); see ${join(node.stateDir, 'agent.log')}`);
    });
    return child.pid;
  }

  /** Resolves once every agent's own engine is warm and the first agent sees them all healthy. */
  async waitWarm(timeoutMs = WARM_TIMEOUT_MS): Promise<FleetJson> {
    const deadline = Date.now() + timeoutMs;
    const firstUrl = `http://127.0.0.1:${this.file.nodes[0]!.apiPort}`;
    for (;;) {
      const fleet = await fetchFleet(firstUrl).catch(() => undefined);
      if (fleet !== undefined && fleet.peers.filter((p) => p.healthy).length >= this.file.nodes.length) return fleet;
      for (const node of this.file.nodes) {
        if (!isAlive(node.pid)) {
          const log = join(node.stateDir, 'agent.log');
          throw new SynktiError('NODE_DIED', `node ${node.index} exited during start-up (${await lastError(log)}); see ${log}`);
        }
      }
      if (Date.now() > deadline) throw new SynktiError('WARM_TIMEOUT', `the fleet was not warm after ${timeoutMs / 1_000} s; see the logs in ${this.dir}/node-*/agent.log`);
      await new Promise((r) => setTimeout(r, 200));
    }
  }

  table(fleet: FleetJson): string {
    const rows = this.file.nodes.map((node) => {
      const peer = fleet.peers.find((p) => p.peerId === node.peerId);
      return [String(node.index), node.peerId, `http://127.0.0.1:${node.apiPort}`, peer === undefined ? 'unknown' : `${peer.engine.state} (${peer.status})`];
    });
    return renderTable(['#', 'PEER ID', 'API URL', 'ENGINE'], rows);
  }

  /** Stops every process of the fleet, replacements included: SIGTERM (agents stop their engines), then SIGKILL. */
  async stop(): Promise<void> {
    if (this.#stopping) return;
    this.#stopping = true;
    const nodes = this.#file === undefined ? [] : await listNodes(this.#file);
    const runtime = await Promise.all(nodes.map((n) => readRuntimeFile(n.stateDir)));
    await Promise.all(nodes.map((node) => stopProcess(node.pid, this.children.get(node.index))));
    // An agent killed hard cannot stop its engine: whatever engine is left goes now, group and all.
    for (const info of runtime) {
      if (info?.enginePid != null && isAlive(info.enginePid)) killGroup(info.enginePid);
    }
    if (this.#file !== undefined) await removeFleetFile(this.dir);
  }

  async #refuseIfRunning(): Promise<void> {
    const existing = await readFleetFile(this.dir).catch(() => undefined);
    if (existing !== undefined && isAlive(existing.supervisorPid) && existing.supervisorPid !== process.pid) {
      throw new SynktiError('FLEET_RUNNING', `a local fleet is already running in ${this.dir} (pid ${existing.supervisorPid}); stop it or pick another --dir`);
    }
  }
}

/** Every node of the fleet: those `up` started and the replacements the local provider launched. */
export async function listNodes(fleet: LocalFleetFile): Promise<LocalNode[]> {
  const byIndex = new Map(fleet.nodes.map((n) => [n.index, n]));
  for (const record of await new LocalLedger(join(fleet.dir, 'provider')).instances()) {
    const known = byIndex.get(record.index);
    if (known !== undefined) {
      known.pid = record.pid ?? known.pid;
      continue;
    }
    const stateDir = join(fleet.dir, `node-${record.index}`);
    const runtime = await readRuntimeFile(stateDir);
    byIndex.set(record.index, { index: record.index, stateDir, ...portsOf(fleet.basePort, record.index), pid: record.pid, peerId: runtime?.peerId ?? '' });
  }
  return [...byIndex.values()].sort((a, b) => a.index - b.index);
}

async function stopProcess(pid: number | null, child: ChildProcess | undefined): Promise<void> {
  if (pid === null || !isAlive(pid)) return;
  try {
    process.kill(pid, 'SIGTERM');
  } catch {
    return;
  }
  const deadline = Date.now() + STOP_GRACE_MS;
  while (isAlive(pid) && Date.now() < deadline) {
    // A child of ours must be reaped to stop counting as alive.
    if (child !== undefined && (child.exitCode !== null || child.signalCode !== null)) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  if (isAlive(pid)) killGroup(pid);
}

export async function fetchFleet(apiUrl: string): Promise<FleetJson> {
  const res = await fetch(`${apiUrl}/fleet`, { signal: AbortSignal.timeout(2_000) });
  if (!res.ok) throw new SynktiError('FLEET_UNAVAILABLE', `${apiUrl}/fleet answered ${res.status}`);
  return (await res.json()) as FleetJson;
}


/** The last error an agent logged (its message and cause), or its last line: why it exited. */
async function lastError(logPath: string): Promise<string> {
  const lines = (await readFile(logPath, 'utf8').catch(() => '')).split('\n').filter((l) => l.trim() !== '');
  for (const line of [...lines].reverse()) {
    try {
      const entry = JSON.parse(line) as { level?: number; msg?: string; err?: { message?: string } };
      if ((entry.level ?? 0) >= 50) return [entry.msg, entry.err?.message].filter(Boolean).join(': ').slice(0, 300);
    } catch {
      // a line that is not JSON (pretty logs): fall through to the last line
    }
  }
  return lines.at(-1)?.slice(0, 300) ?? 'it logged nothing';
}
