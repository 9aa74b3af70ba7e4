import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
import { fmtMs, procCpuPercent, procRssBytes, type Summary, summarize } from './stats.js';

/**
 * Serf (HashiCorp memberlist + gossip) on loopback, as the yardstick for our gossip figures:
 * N `serf agent` processes (LAN profile) joined through the first; user-event propagation and
 * failure detection are read from each agent's own log lines as they arrive, so no event
 * handler scripts (and their fork cost, or the agent's event coalescing) sit in the path.
 */

export interface SerfOptions {
  nodes: number;
  events: number;
  idleMs: number;
  /** Per-event wait for full delivery. */
  eventTimeoutMs: number;
  log: (msg: string) => void;
}

export interface SerfDetection {
  /** Time from the signal until the last other member logged the victim failed. */
  failedEverywhereMs: number | null;
  failedFirstMs: number | null;
  /** First time any prober logged "Suspect <victim> has failed" (others learn it silently). */
  firstSuspicionMs: number | null;
  /** Members that had not marked it failed when the wait ended. */
  missing: number;
}

export interface SerfResult {
  version: string;
  nodes: number;
  /** Sender's own receipt of the event to the last other member's receipt. */
  propagation: Summary;
  /** The same, but counted from the `serf event` CLI call (adds the CLI's start and RPC). */
  propagationFromCli: Summary;
  eventsMissed: number;
  killed: SerfDetection;
  frozen: SerfDetection;
  idleCpuPercentPerAgent: number;
  rssMiBPerAgent: number;
}

const JOIN_TIMEOUT_MS = 60_000;
const DETECT_TIMEOUT_MS = 30_000;

class SerfNode {
  readonly name: string;
  readonly bind: string;
  readonly rpc: string;
  readonly child: ChildProcess;
  readonly joined = new Set<string>();
  readonly userEvents = new Map<string, number>();
  readonly failed = new Map<string, number>();
  running = false;

  constructor(name: string, bind: string, rpc: string, join: string | undefined, suspicions: Map<string, number>) {
    this.name = name;
    this.bind = bind;
    this.rpc = rpc;
    const args = ['agent', `-node=${name}`, `-bind=${bind}`, `-rpc-addr=${rpc}`, '-profile=lan', '-log-level=info'];
    if (join !== undefined) args.push(`-retry-join=${join}`, '-retry-interval=1s');
    this.child = spawn('serf', args, { stdio: ['ignore', 'pipe', 'pipe'] });
    const firstTime = (map: Map<string, number>, key: string, at: number): void => {
      if (!map.has(key)) map.set(key, at);
    };
    const onLine = (line: string): void => {
      const now = performance.now();
      if (line.includes('Serf agent running')) this.running = true;
      const user = /user-event: (\S+)/.exec(line);
      if (user !== null) firstTime(this.userEvents, user[1]!, now);
      const join = /EventMemberJoin: (\S+)/.exec(line);
      if (join !== null) this.joined.add(join[1]!);
      const failed = /EventMemberFailed: (\S+)/.exec(line);
      if (failed !== null) firstTime(this.failed, failed[1]!, now);
      const suspect = /Suspect (\S+) has failed/.exec(line);
      if (suspect !== null) firstTime(suspicions, suspect[1]!, now);
    };
    createInterface({ input: this.child.stdout! }).on('line', onLine);
    createInterface({ input: this.child.stderr! }).on('line', onLine);
  }

  get pid(): number {
    return this.child.pid ?? -1;
  }

  get alive(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  signal(sig: NodeJS.Signals): void {
    if (this.child.pid !== undefined && this.alive) {
      try {
        process.kill(this.child.pid, sig);
      } catch {
        // already gone
      }
    }
  }
}

export function serfVersion(): string | null {
  try {
    return execFileSync('serf', ['version'], { encoding: 'utf8', timeout: 5_000 }).split('\n')[0]!.trim();
  } catch {
    return null;
  }
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

async function until(what: string, check: () => boolean, timeoutMs: number, intervalMs = 10): Promise<boolean> {
  const deadline = performance.now() + timeoutMs;
  while (!check()) {
    if (performance.now() > deadline) return false;
    await sleep(intervalMs);
  }
  void what;
  return true;
}

/** Runs the whole Serf side; every agent it spawns is SIGKILLed before it returns or throws. */
export async function runSerf(opts: SerfOptions): Promise<SerfResult> {
  const version = serfVersion();
  if (version === null) throw new Error('serf is not installed');
  const nodes: SerfNode[] = [];
  const suspicions = new Map<string, number>();
  const killAll = (): void => {
    for (const n of nodes) n.signal('SIGKILL');
  };
  process.on('exit', killAll);
  try {
    // Ports well away from the usual 7946/7373, randomised so parallel runs rarely collide.
    const bindBase = 30_000 + Math.floor(Math.random() * 90) * 100;
    const rpcBase = bindBase + 10_000;
    const seed = `127.0.0.1:${bindBase}`;
    const spawnNode = (i: number) => {
      const node = new SerfNode(`s${i}`, `127.0.0.1:${bindBase + i}`, `127.0.0.1:${rpcBase + i}`, i === 0 ? undefined : seed, suspicions);
      nodes.push(node);
      return node;
    };
    const first = spawnNode(0);
    if (!(await until('seed serf agent', () => first.running || !first.alive, 15_000)) || !first.alive) throw new Error('the first serf agent did not start');
    for (let i = 1; i < opts.nodes; i += 10) {
      const batch: SerfNode[] = [];
      for (let j = i; j < Math.min(opts.nodes, i + 10); j++) batch.push(spawnNode(j));
      await until('serf batch', () => batch.every((n) => n.running || !n.alive), 15_000);
    }
    // An agent that could not bind its port exits; the cluster is the ones still running.
    const running = () => nodes.filter((n) => n.alive);
    const converged = await until('serf membership', () => running().every((n) => n.joined.size >= running().length), JOIN_TIMEOUT_MS, 100);
    const live = running().length;
    if (!converged) throw new Error(`serf cluster did not converge: ${running().filter((n) => n.joined.size < live).length} of ${live} running agents see fewer than ${live} members`);
    if (live < opts.nodes) opts.log(`serf: only ${live} of ${opts.nodes} agents started`);
    nodes.splice(0, nodes.length, ...running());
    opts.log(`serf: ${opts.nodes} agents joined; settling`);
    await sleep(2_000);

    const cpu = await procCpuPercent(nodes.map((n) => n.pid), opts.idleMs);
    const idleCpuPercentPerAgent = cpu.reduce((s, v) => s + v, 0) / cpu.length;
    const rssMiBPerAgent = nodes.reduce((s, n) => s + procRssBytes(n.pid), 0) / nodes.length / 2 ** 20;

    const fromSender: number[] = [];
    const fromCli: number[] = [];
    let eventsMissed = 0;
    for (let k = 0; k < opts.events; k++) {
      const sender = nodes[k % nodes.length]!;
      const name = `bench-${k}`;
      const tCli = performance.now();
      const cli = spawn('serf', ['event', `-rpc-addr=${sender.rpc}`, '-coalesce=false', name], { stdio: 'ignore' });
      const done = await until(name, () => nodes.every((n) => n.userEvents.has(name)), opts.eventTimeoutMs);
      cli.kill('SIGKILL');
      if (!done) {
        eventsMissed++;
        continue;
      }
      const t0 = sender.userEvents.get(name)!;
      const last = Math.max(...nodes.filter((n) => n !== sender).map((n) => n.userEvents.get(name)!));
      fromSender.push(last - t0);
      fromCli.push(last - tCli);
      await sleep(100 + Math.random() * 200);
    }
    opts.log(`serf: ${fromSender.length} events delivered to all, p50 ${fmtMs(summarize(fromSender).p50)} ms`);

    const detect = async (victim: SerfNode, sig: NodeJS.Signals, watchers: SerfNode[]): Promise<SerfDetection> => {
      const t0 = performance.now();
      victim.signal(sig);
      await until(`${victim.name} failed`, () => watchers.every((n) => n.failed.has(victim.name)), DETECT_TIMEOUT_MS, 20);
      const times = watchers.map((n) => n.failed.get(victim.name)).filter((t): t is number => t !== undefined);
      const suspicion = suspicions.get(victim.name);
      return {
        failedEverywhereMs: times.length === watchers.length ? Math.max(...times) - t0 : null,
        failedFirstMs: times.length > 0 ? Math.min(...times) - t0 : null,
        firstSuspicionMs: suspicion !== undefined && suspicion >= t0 ? suspicion - t0 : null,
        missing: watchers.length - times.length,
      };
    };
    const killedVictim = nodes[nodes.length - 1]!;
    const frozenVictim = nodes[nodes.length - 2]!;
    const killed = await detect(killedVictim, 'SIGKILL', nodes.slice(0, -2).concat(frozenVictim));
    opts.log(`serf: killed member failed everywhere after ${fmtMs(killed.failedEverywhereMs)} ms`);
    const frozen = await detect(frozenVictim, 'SIGSTOP', nodes.slice(0, -2));
    frozenVictim.signal('SIGKILL');
    opts.log(`serf: frozen member failed everywhere after ${fmtMs(frozen.failedEverywhereMs)} ms`);

    return {
      version,
      nodes: nodes.length,
      propagation: summarize(fromSender),
      propagationFromCli: summarize(fromCli),
      eventsMissed,
      killed,
      frozen,
      idleCpuPercentPerAgent,
      rssMiBPerAgent,
    };
  } finally {
    killAll();
    await Promise.all(nodes.map((n) => (n.alive ? new Promise((r) => n.child.once('exit', r)) : undefined)).map((p) => Promise.race([p, sleep(5_000)])));
    process.off('exit', killAll);
  }
}

/** `npm run bench -- serf --nodes 20`: the Serf side alone. */
export async function main(argv: string[]): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    options: { nodes: { type: 'string', default: '20' }, events: { type: 'string', default: '60' }, json: { type: 'boolean', default: false } },
  });
  const result = await runSerf({ nodes: Number(values.nodes), events: Number(values.events), idleMs: 10_000, eventTimeoutMs: 5_000, log: (m) => console.error(m) });
  console.log(JSON.stringify(result, null, 2));
}
