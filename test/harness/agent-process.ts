import { type ChildProcess, spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import type { FleetJson } from '@synkti/gateway';
import { AGENT_NODE_FLAGS, readRuntimeFile } from 'synkti-agent';
import { cliPath } from './paths.js';
import { waitFor } from './wait.js';

export interface AgentProcessOptions {
  stateDir: string;
  swarmKeyFile: string;
  bootstrap?: string[];
  /** Extra `synkti agent` flags, e.g. ['--heartbeat-ms', '200']. */
  args?: string[];
  env?: Record<string, string>;
}

/** Short timings so failure detection finishes in seconds in tests. */
export const FAST_TIMINGS = ['--heartbeat-ms', '200', '--suspect-after-ms', '700', '--dead-after-ms', '2000', '--forget-after-ms', '30000'];

/** A `synkti agent` child process, with its logs parsed and its API at hand. */
export class AgentProcess {
  readonly options: AgentProcessOptions;
  readonly logs: Record<string, unknown>[] = [];
  child: ChildProcess | undefined;
  peerId = '';
  apiUrl = '';
  addrs: string[] = [];
  #exit: Promise<number | null> | undefined;

  constructor(options: AgentProcessOptions) {
    this.options = options;
  }

  get pid(): number {
    if (this.child?.pid === undefined) throw new Error('not started');
    return this.child.pid;
  }

  async start(timeoutMs = 20_000): Promise<this> {
    const o = this.options;
    const args = [
      cliPath, 'agent',
      '--state-dir', o.stateDir,
      '--swarm-key-file', o.swarmKeyFile,
      '--listen', '/ip4/127.0.0.1/tcp/0',
      '--api-host', '127.0.0.1',
      '--api-port', '0',
      '--log-format', 'json',
      ...(o.bootstrap?.length ? ['--bootstrap', o.bootstrap.join(',')] : []),
      // Mesh-only agents unless the test asks for an engine.
      ...((o.args ?? []).includes('--engine-runtime') ? [] : ['--engine-runtime', 'none']),
      ...(o.args ?? []),
    ];
    // The agent's own V8 flags, as systemd and `synkti local` start it: memory figures are the real ones.
    const child = spawn(process.execPath, [...AGENT_NODE_FLAGS, ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...o.env } });
    this.child = child;
    this.#exit = new Promise((resolve) => child.once('exit', (code) => resolve(code)));
    const lines = createInterface({ input: child.stderr! });
    lines.on('line', (line) => {
      try {
        this.logs.push(JSON.parse(line) as Record<string, unknown>);
      } catch {
        this.logs.push({ msg: line });
      }
    });
    child.stdout!.resume();
    const started = await waitFor(`agent ${o.stateDir} to start`, () => this.logs.find((l) => l['msg'] === 'agent started') ?? (child.exitCode !== null ? Promise.reject(new Error(`agent exited ${child.exitCode}: ${JSON.stringify(this.logs.slice(-3))}`)) : undefined), timeoutMs).catch((err: unknown) => {
      // Say where it stood: the last lines it logged.
      throw new Error(`${(err as Error).message}; last log lines: ${this.logs.slice(-6).map((l) => JSON.stringify(l).slice(0, 300)).join(' | ')}`);
    });
    this.peerId = started['peerId'] as string;
    this.apiUrl = started['api'] as string;
    this.addrs = (started['addrs'] as string[]).map((a) => (a.includes('/p2p/') ? a : `${a}/p2p/${this.peerId}`));
    return this;
  }

  async fleet(): Promise<FleetJson> {
    const res = await fetch(`${this.apiUrl}/fleet`, { signal: AbortSignal.timeout(2_000) });
    if (!res.ok) throw new Error(`/fleet answered ${res.status}`);
    return (await res.json()) as FleetJson;
  }

  /** When (this agent's clock, epoch ms) it recorded `kind` for `peerId` in its fleet events. */
  async eventAt(peerId: string, kind: string): Promise<number | undefined> {
    const fleet = await this.fleet();
    return fleet.events.find((e) => e.peerId === peerId && e.kind === kind)?.at;
  }

  /** The status this agent gives `peerId`, or 'absent'. */
  async statusOf(peerId: string): Promise<string> {
    const fleet = await this.fleet();
    return fleet.peers.find((p) => p.peerId === peerId)?.status ?? 'absent';
  }

  kill(signal: NodeJS.Signals = 'SIGKILL'): void {
    if (this.child?.pid !== undefined && this.child.exitCode === null && this.child.signalCode === null) process.kill(this.child.pid, signal);
  }

  async exited(): Promise<number | null> {
    return this.#exit ?? null;
  }

  /**
   * Clean stop (SIGTERM), then SIGKILL if it does not exit in time — and then its engine too:
   * the engine runs in its own process group so that a restarted agent can adopt it, so an agent
   * killed while draining (a long drain, a node that was frozen) would leave it running.
   */
  async stop(timeoutMs = 10_000): Promise<void> {
    if (this.child === undefined || this.child.exitCode !== null || this.child.signalCode !== null) return;
    this.kill('SIGCONT');
    this.kill('SIGTERM');
    let killed = false;
    const timer = setTimeout(() => {
      killed = true;
      this.kill('SIGKILL');
    }, timeoutMs);
    await this.exited();
    clearTimeout(timer);
    if (killed) await this.#killEngine();
  }

  /** SIGKILLs the engine's process group named in the agent's runtime file, if any is alive. */
  async #killEngine(): Promise<void> {
    const pid = await this.enginePidNow();
    if (pid !== null) signalGroup(pid, 'SIGKILL');
  }

  /** The engine's process id from the runtime file the agent keeps in its state directory, or null. */
  async enginePidNow(): Promise<number | null> {
    return (await readRuntimeFile(this.options.stateDir))?.enginePid ?? null;
  }
}

/** Signals a process group we started (the engine runs in its own group), ignoring one already gone. */
export function signalGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ESRCH') throw err;
  }
}
