import { writeFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { DEAD_AFTER_MS, FORGET_AFTER_MS, HEARTBEAT_INTERVAL_MS, MembershipView, SUSPECT_AFTER_MS } from '@synkti/fleet';
import { generateSwarmKey, Mesh, parseSwarmKey, type StateBody } from '@synkti/mesh';
import { type NodeState, sampleNodeState } from '@synkti/protocol';
import { AgentProcess } from '../harness/agent-process.js';
import { runSerf, type SerfResult, serfVersion } from './serf.js';
import { fmtMs, procCpuPercent, procRssBytes, type Summary, summarize } from './stats.js';

/**
 * `npm run bench -- gossip --nodes 20 [--changes 60] [--json] [--json-out file] [--no-serf] [--no-agents]`
 * (`--series 5,10,20,40`: the per-node cost as N grows, see gossip-scale.ts; `--processes`:
 * every node an agent process of its own, see gossip-processes.ts)
 *
 * N `Mesh` nodes share this one process (loopback, production timings: heartbeat 1 s, suspect
 * 3 s, dead 10 s), each with its own `MembershipView`, all bootstrapped from the first. Measures:
 *  - how long one node's state change takes to reach every other node (publisher rotates);
 *  - two real `synkti agent` processes in the same swarm: one SIGKILLed, one SIGSTOPped, and how
 *    long until every in-process view marks it suspect and dead, with the agent's
 *    connection-close hint (onPeerDisconnect -> suspect) and from gossip silence alone;
 *  - idle CPU and RSS per node, in-process and for a real agent process;
 *  - the same for Serf on loopback when the `serf` binary is installed.
 */

const FLEET = 'bench';
const JOIN_TIMEOUT_MS = 90_000;
const CHANGE_TIMEOUT_MS = 5_000;
const SETTLE_MS = 3_000;
/** Detection waits this long past deadAfter before giving up on a view. */
const DETECT_SLACK_MS = 8_000;
/** A fresh agent spends its first seconds on JIT, identify and DHT self-queries; idle means after that. */
const AGENT_SETTLE_MS = 15_000;

interface Options {
  nodes: number;
  changes: number;
  json: boolean;
  serf: boolean;
  agents: boolean;
  idleMs: number;
  maxSeconds: number;
  /** Also write the JSON result to this file (the table still goes to stdout). */
  jsonOut: string | undefined;
}

interface BenchNode {
  index: number;
  mesh: Mesh;
  peerId: string;
  /** Wired like the agent: gossip plus the connection-close hint. */
  hinted: MembershipView;
  /** Gossip only: what the view says without the hint. */
  plain: MembershipView;
  marker: string;
}

interface Detection {
  /** ms from the signal until the last view said suspect / dead (null: some view never did). */
  suspectEverywhereMs: number | null;
  suspectFirstMs: number | null;
  deadEverywhereMs: number | null;
  /** The same from gossip silence alone (views without the connection-close hint). */
  plainSuspectEverywhereMs: number | null;
  plainDeadEverywhereMs: number | null;
  /** How long before the signal the victim's last state had arrived (the oldest view). */
  lastHeardBeforeMs: number;
  missingSuspect: number;
  missingDead: number;
}

interface GossipResult {
  date: string;
  machine: { cpus: number; node: string; loadavgAtStart: number[] };
  nodes: number;
  sharedProcess: true;
  timings: { heartbeatMs: number; suspectAfterMs: number; deadAfterMs: number };
  propagation: Summary;
  /** Every single receiver's latency, not just the last one per change. */
  perReceiver: Summary;
  changesMissed: number;
  processCpuPercentDuringPropagation: number;
  /** Event-loop utilisation of the shared process during propagation: 1.0 means CPU-bound (or starved). */
  eventLoopUtilizationDuringPropagation: number;
  /** Connections opened / closed across the in-process nodes during propagation. */
  connectionChurnDuringPropagation: { opened: number; closed: number };
  /** From the first node's start until every view saw all N alive (NaN: never, see joinShort). */
  joinAllMs: number;
  joinShort: number;
  /** Per node, when propagation starts: open connections and distinct connected peers (means). */
  connectionsPerNode: number;
  peersPerNode: number;
  killed: Detection | null;
  frozen: Detection | null;
  inProcessIdleCpuPercentPerNode: number;
  inProcessRssMiBPerNode: number;
  agentIdleCpuPercent: number[] | null;
  agentRssMiB: number[] | null;
  serf: SerfResult | { skipped: string } | null;
  error?: string;
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
const log = (msg: string) => console.error(`[gossip-bench] ${msg}`);

function parse(argv: string[]): Options {
  const { values } = parseArgs({
    args: argv,
    options: {
      nodes: { type: 'string', default: '20' },
      changes: { type: 'string', default: '60' },
      json: { type: 'boolean', default: false },
      'no-serf': { type: 'boolean', default: false },
      'no-agents': { type: 'boolean', default: false },
      'idle-ms': { type: 'string', default: '10000' },
      'max-seconds': { type: 'string', default: '600' },
      'json-out': { type: 'string' },
    },
  });
  const opts = {
    nodes: Number(values.nodes),
    changes: Number(values.changes),
    json: values.json,
    serf: !values['no-serf'],
    agents: !values['no-agents'],
    idleMs: Number(values['idle-ms']),
    maxSeconds: Number(values['max-seconds']),
    jsonOut: values['json-out'],
  };
  if (!Number.isInteger(opts.nodes) || opts.nodes < 3 || opts.nodes > 99) throw new Error('--nodes must be an integer from 3 to 99');
  if (!Number.isInteger(opts.changes) || opts.changes < 1) throw new Error('--changes must be a positive integer');
  return opts;
}

function body(marker: string): StateBody {
  const { v, fleet, peerId, incarnation, seq, sentAt, addrs, leaving, ...rest } = sampleNodeState();
  return { ...rest, engine: { ...rest.engine, models: [marker] } };
}

/** Called on every state any node accepts; the propagation loop swaps it per change. */
type Probe = (receiver: number, state: NodeState) => void;

/** Connection opens and closes across all in-process nodes (a healthy mesh barely churns). */
const churn = { opens: 0, closes: 0 };

async function startFleet(opts: Options, dir: string, swarmKey: Uint8Array, probe: { fn: Probe | undefined }): Promise<{ nodes: BenchNode[]; joinMs: number; short: number }> {
  const t0 = performance.now();
  const nodes: BenchNode[] = [];
  const make = async (index: number, bootstrap: string[]): Promise<BenchNode> => {
    const mesh = new Mesh({
      fleet: FLEET,
      stateDir: join(dir, `n${index}`),
      swarmKey,
      listen: ['/ip4/127.0.0.1/tcp/0'],
      bootstrap,
      heartbeatMs: HEARTBEAT_INTERVAL_MS,
      forgetAfterMs: DEAD_AFTER_MS + FORGET_AFTER_MS,
    });
    const node: BenchNode = { index, mesh, peerId: '', hinted: new MembershipView(FLEET), plain: new MembershipView(FLEET), marker: 'idle' };
    nodes[index] = node;
    mesh.onState((state) => {
      const now = Date.now();
      node.hinted.observe(state, now);
      node.plain.observe(state, now);
      probe.fn?.(index, state);
    });
    mesh.onPeerDisconnect((peerId) => node.hinted.suspect(peerId, Date.now()));
    await mesh.start();
    mesh.libp2p.addEventListener('connection:open', () => churn.opens++);
    mesh.libp2p.addEventListener('connection:close', () => churn.closes++);
    node.peerId = mesh.peerId;
    mesh.startHeartbeat(() => body(node.marker));
    return node;
  };
  const first = await make(0, []);
  const seed = first.mesh.multiaddrs();
  for (let i = 1; i < opts.nodes; i += 10) {
    const batch = [];
    for (let j = i; j < Math.min(opts.nodes, i + 10); j++) batch.push(make(j, seed));
    await Promise.all(batch);
  }
  const deadline = performance.now() + JOIN_TIMEOUT_MS;
  for (;;) {
    const now = Date.now();
    const short = nodes.filter((n) => n.plain.alive(now).length < opts.nodes).length;
    if (short === 0) return { nodes, joinMs: performance.now() - t0, short };
    if (performance.now() > deadline) {
      // Measure anyway: the figures then show what a half-joined swarm does.
      log(`WARNING: ${short} of ${opts.nodes} nodes do not see all ${opts.nodes} alive after ${JOIN_TIMEOUT_MS} ms; measuring anyway`);
      return { nodes, joinMs: Number.NaN, short };
    }
    await sleep(250);
  }
}

async function measurePropagation(nodes: BenchNode[], changes: number, probe: { fn: Probe | undefined }) {
  const full: number[] = [];
  const each: number[] = [];
  let missed = 0;
  const cpu0 = process.cpuUsage();
  const elu0 = performance.eventLoopUtilization();
  const churn0 = { ...churn };
  const wall0 = performance.now();
  for (let k = 0; k < changes; k++) {
    const pub = nodes[k % nodes.length]!;
    const marker = `change-${k}`;
    const arrivals: (number | undefined)[] = new Array(nodes.length).fill(undefined);
    let remaining = nodes.length - 1;
    let resolve: () => void = () => undefined;
    const all = new Promise<void>((r) => {
      resolve = r;
    });
    probe.fn = (receiver, state) => {
      if (receiver === pub.index || arrivals[receiver] !== undefined) return;
      if (state.peerId !== pub.peerId || state.engine.models[0] !== marker) return;
      arrivals[receiver] = performance.now();
      if (--remaining === 0) resolve();
    };
    pub.marker = marker;
    const t0 = performance.now();
    void pub.mesh.publishNow();
    const timer = setTimeout(resolve, CHANGE_TIMEOUT_MS);
    await all;
    clearTimeout(timer);
    probe.fn = undefined;
    for (const t of arrivals) if (t !== undefined) each.push(t - t0);
    if (remaining === 0) full.push(Math.max(...arrivals.filter((t): t is number => t !== undefined)) - t0);
    else missed++;
    // Spread the changes over the heartbeat phase.
    await sleep(100 + Math.random() * 200);
  }
  const usage = process.cpuUsage(cpu0);
  const cpuPercent = ((usage.user + usage.system) / 1000 / (performance.now() - wall0)) * 100;
  const elu = performance.eventLoopUtilization(elu0).utilization;
  const connections = { opened: churn.opens - churn0.opens, closed: churn.closes - churn0.closes };
  return { propagation: summarize(full), perReceiver: summarize(each), missed, cpuPercent, elu, connections };
}

async function measureInProcessIdle(nodes: BenchNode[], rssBefore: number, idleMs: number) {
  const cpu0 = process.cpuUsage();
  const wall0 = performance.now();
  await sleep(idleMs);
  const usage = process.cpuUsage(cpu0);
  const wall = performance.now() - wall0;
  return {
    cpuPerNode: ((usage.user + usage.system) / 1000 / wall) * 100 / nodes.length,
    rssPerNodeMiB: (process.memoryUsage().rss - rssBefore) / nodes.length / 2 ** 20,
  };
}

/** Signals the victim, then polls every view until all say dead (or the wait runs out). */
async function detect(nodes: BenchNode[], victim: AgentProcess, signal: NodeJS.Signals): Promise<Detection> {
  const id = victim.peerId;
  const nowWall = Date.now();
  const lastHeardBeforeMs = Math.max(...nodes.map((n) => nowWall - (n.plain.get(id)?.lastSeenAt ?? nowWall)));
  const suspect: (number | undefined)[] = new Array(nodes.length).fill(undefined);
  const dead: (number | undefined)[] = new Array(nodes.length).fill(undefined);
  const plainSuspect: (number | undefined)[] = new Array(nodes.length).fill(undefined);
  const plainDead: (number | undefined)[] = new Array(nodes.length).fill(undefined);
  const t0 = performance.now();
  victim.kill(signal);
  const deadline = t0 + DEAD_AFTER_MS + DETECT_SLACK_MS;
  for (;;) {
    const t = performance.now();
    const now = Date.now();
    for (const n of nodes) {
      const h = n.hinted.status(id, now);
      if (h !== 'alive') suspect[n.index] ??= t;
      if (h === 'dead' || h === undefined) dead[n.index] ??= t;
      const p = n.plain.status(id, now);
      if (p !== 'alive') plainSuspect[n.index] ??= t;
      if (p === 'dead' || p === undefined) plainDead[n.index] ??= t;
    }
    if (dead.every((v) => v !== undefined) && plainDead.every((v) => v !== undefined)) break;
    if (t > deadline) break;
    await sleep(20);
  }
  const everywhere = (times: (number | undefined)[]) => (times.every((v) => v !== undefined) ? Math.max(...(times as number[])) - t0 : null);
  const seen = (times: (number | undefined)[]) => times.filter((v): v is number => v !== undefined);
  return {
    suspectEverywhereMs: everywhere(suspect),
    suspectFirstMs: seen(suspect).length > 0 ? Math.min(...seen(suspect)) - t0 : null,
    deadEverywhereMs: everywhere(dead),
    plainSuspectEverywhereMs: everywhere(plainSuspect),
    plainDeadEverywhereMs: everywhere(plainDead),
    lastHeardBeforeMs,
    missingSuspect: suspect.filter((v) => v === undefined).length,
    missingDead: dead.filter((v) => v === undefined).length,
  };
}

/** True once every view sees every one of `peerIds` alive; false when the timeout comes first. */
async function waitAllSee(nodes: BenchNode[], peerIds: string[], timeoutMs: number): Promise<boolean> {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    const now = Date.now();
    if (nodes.every((n) => peerIds.every((id) => n.plain.status(id, now) === 'alive'))) return true;
    if (performance.now() > deadline) return false;
    await sleep(100);
  }
}

async function runAgents(nodes: BenchNode[], dir: string, keyFile: string, idleMs: number, children: Set<AgentProcess>) {
  const bootstrap = nodes[0]!.mesh.multiaddrs();
  const make = (name: string) => {
    // Production timings: the agent's defaults are the @synkti/fleet constants.
    const agent = new AgentProcess({ stateDir: join(dir, name), swarmKeyFile: keyFile, bootstrap, args: ['--fleet', FLEET, '--engine-runtime', 'none'] });
    children.add(agent);
    return agent;
  };
  const victims = [make('agent-killed'), make('agent-frozen')];
  await Promise.all(victims.map((a) => a.start(30_000)));
  const seen = await waitAllSee(nodes, victims.map((a) => a.peerId), 30_000);
  log(`agent processes joined; settling ${AGENT_SETTLE_MS} ms, then sampling their idle CPU`);
  await sleep(AGENT_SETTLE_MS);
  const cpu = await procCpuPercent(victims.map((a) => a.pid), idleMs);
  const rss = victims.map((a) => procRssBytes(a.pid) / 2 ** 20);
  const [killedAgent, frozenAgent] = victims as [AgentProcess, AgentProcess];
  // A detection time is only a figure if every view saw the target alive first: a view that
  // never did "detects" it at once (earlier runs printed 0.02 ms). Refuse rather than print it.
  if (!seen || !(await waitAllSee(nodes, victims.map((a) => a.peerId), 5_000))) {
    log('REFUSED: not every view saw the agent processes alive; no kill or freeze detection figure is reported for this run');
    for (const a of victims) a.kill('SIGKILL');
    return { cpu, rss, killed: undefined, frozen: undefined };
  }
  const killed = await detect(nodes, killedAgent, 'SIGKILL');
  log(`killed agent: suspect everywhere ${fmtMs(killed.suspectEverywhereMs)} ms, dead ${fmtMs(killed.deadEverywhereMs)} ms`);
  const frozen = await detect(nodes, frozenAgent, 'SIGSTOP');
  frozenAgent.kill('SIGKILL');
  log(`frozen agent: suspect everywhere ${fmtMs(frozen.suspectEverywhereMs)} ms, dead ${fmtMs(frozen.deadEverywhereMs)} ms`);
  return { cpu, rss, killed, frozen };
}

async function withTimeout<T>(p: Promise<T>, ms: number): Promise<T | undefined> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<undefined>((r) => {
    timer = setTimeout(() => r(undefined), ms);
  });
  try {
    return await Promise.race([p, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

async function runLibp2p(opts: Options, result: GossipResult): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'synkti-bench-gossip-'));
  const keyText = generateSwarmKey();
  const keyFile = join(dir, 'swarm.key');
  await writeFile(keyFile, keyText, { mode: 0o600 });
  const children = new Set<AgentProcess>();
  const killChildren = () => {
    for (const a of children) {
      try {
        a.kill('SIGKILL');
      } catch {
        // already gone
      }
    }
  };
  process.on('exit', killChildren);
  const probe: { fn: Probe | undefined } = { fn: undefined };
  let nodes: BenchNode[] = [];
  try {
    const rssBefore = process.memoryUsage().rss;
    log(`starting ${opts.nodes} mesh nodes in this process`);
    const fleet = await startFleet(opts, dir, parseSwarmKey(keyText), probe);
    nodes = fleet.nodes;
    result.joinAllMs = fleet.joinMs;
    result.joinShort = fleet.short;
    log(`all ${opts.nodes} nodes see each other after ${fmtMs(fleet.joinMs)} ms; settling ${SETTLE_MS} ms`);
    await sleep(SETTLE_MS);
    const idle = await measureInProcessIdle(nodes, rssBefore, opts.idleMs);
    result.inProcessIdleCpuPercentPerNode = idle.cpuPerNode;
    result.inProcessRssMiBPerNode = idle.rssPerNodeMiB;
    log(`idle: ${idle.cpuPerNode.toFixed(2)} % of a core and ${idle.rssPerNodeMiB.toFixed(1)} MiB per node`);
    result.connectionsPerNode = nodes.reduce((s, n) => s + n.mesh.libp2p.getConnections().length, 0) / nodes.length;
    result.peersPerNode = nodes.reduce((s, n) => s + n.mesh.libp2p.getPeers().length, 0) / nodes.length;
    const prop = await measurePropagation(nodes, opts.changes, probe);
    Object.assign(result, {
      eventLoopUtilizationDuringPropagation: prop.elu,
      connectionChurnDuringPropagation: prop.connections,
      propagation: prop.propagation,
      perReceiver: prop.perReceiver,
      changesMissed: prop.missed,
      processCpuPercentDuringPropagation: prop.cpuPercent,
    });
    log(`propagation to all: p50 ${fmtMs(prop.propagation.p50)} ms, p99 ${fmtMs(prop.propagation.p99)} ms, missed ${prop.missed}`);
    if (opts.agents) {
      const agents = await runAgents(nodes, dir, keyFile, opts.idleMs, children);
      Object.assign(result, { agentIdleCpuPercent: agents.cpu, agentRssMiB: agents.rss, killed: agents.killed, frozen: agents.frozen });
    }
  } finally {
    killChildren();
    await Promise.all([...children].map((a) => withTimeout(a.exited(), 5_000)));
    process.off('exit', killChildren);
    await withTimeout(Promise.all(nodes.map((n) => n.mesh.stop().catch(() => undefined))), 20_000);
    await rm(dir, { recursive: true, force: true });
  }
}

function emptyResult(opts: Options): GossipResult {
  const none = summarize([]);
  return {
    date: new Date().toISOString(),
    machine: { cpus: cpus().length, node: process.version, loadavgAtStart: loadavg().map((v) => Math.round(v * 100) / 100) },
    nodes: opts.nodes,
    sharedProcess: true,
    timings: { heartbeatMs: HEARTBEAT_INTERVAL_MS, suspectAfterMs: SUSPECT_AFTER_MS, deadAfterMs: DEAD_AFTER_MS },
    propagation: none,
    perReceiver: none,
    changesMissed: 0,
    processCpuPercentDuringPropagation: Number.NaN,
    eventLoopUtilizationDuringPropagation: Number.NaN,
    connectionChurnDuringPropagation: { opened: 0, closed: 0 },
    joinAllMs: Number.NaN,
    joinShort: 0,
    connectionsPerNode: Number.NaN,
    peersPerNode: Number.NaN,
    killed: null,
    frozen: null,
    inProcessIdleCpuPercentPerNode: Number.NaN,
    inProcessRssMiBPerNode: Number.NaN,
    agentIdleCpuPercent: null,
    agentRssMiB: null,
    serf: null,
  };
}

function printTable(r: GossipResult): void {
  const serf = r.serf !== null && 'propagation' in r.serf ? r.serf : null;
  const n = r.nodes;
  const rows: [string, string, string, string][] = [
    ['change reaches all, p50 (ms)', fmtMs(r.propagation.p50), fmtMs(serf?.propagation.p50), ''],
    ['change reaches all, p99 (ms)', fmtMs(r.propagation.p99), fmtMs(serf?.propagation.p99), n <= 20 ? '< 150' : '< 500 (N=50)'],
    ['change reaches all, max (ms)', fmtMs(r.propagation.max), fmtMs(serf?.propagation.max), ''],
    ['changes not delivered to all (5 s)', `${r.changesMissed}/${r.propagation.count + r.changesMissed}`, serf ? `${serf.eventsMissed}/${serf.propagation.count + serf.eventsMissed}` : 'n/a', '0'],
    ['killed: suspect everywhere (ms)', fmtMs(r.killed?.suspectEverywhereMs), fmtMs(serf?.killed.firstSuspicionMs), '< 3000'],
    ['killed: suspect, gossip only (ms)', fmtMs(r.killed?.plainSuspectEverywhereMs), '', '< 3000'],
    ['killed: dead everywhere (ms)', fmtMs(r.killed?.deadEverywhereMs), fmtMs(serf?.killed.failedEverywhereMs), `<= ${r.timings.deadAfterMs + r.timings.heartbeatMs}`],
    ['frozen: suspect everywhere (ms)', fmtMs(r.frozen?.suspectEverywhereMs), fmtMs(serf?.frozen.firstSuspicionMs), '< 3000'],
    ['frozen: dead everywhere (ms)', fmtMs(r.frozen?.deadEverywhereMs), fmtMs(serf?.frozen.failedEverywhereMs), `<= ${r.timings.deadAfterMs + r.timings.heartbeatMs}`],
    ['idle CPU per node, shared process (% core)', r.inProcessIdleCpuPercentPerNode.toFixed(2), '', '< 1'],
    ['idle CPU, one agent process (% core)', r.agentIdleCpuPercent?.map((v) => v.toFixed(2)).join(' / ') ?? 'n/a', serf ? serf.idleCpuPercentPerAgent.toFixed(2) : 'n/a', '< 1'],
    ['RSS per node, shared process (MiB)', r.inProcessRssMiBPerNode.toFixed(1), '', ''],
    ['RSS, one agent process (MiB)', r.agentRssMiB?.map((v) => v.toFixed(0)).join(' / ') ?? 'n/a', serf ? serf.rssMiBPerAgent.toFixed(1) : 'n/a', '< 150'],
  ];
  const head: [string, string, string, string] = ['figure', 'synkti', serf ? `serf ${serf.version.replace(/^Serf /, '')}` : 'serf', 'target'];
  const widths = [0, 1, 2, 3].map((i) => Math.max(head[i]!.length, ...rows.map((row) => row[i]!.length)));
  const line = (row: string[]) => row.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
  console.log(`\nGossip and failure detection, N = ${n} (${r.date}, ${r.machine.cpus} cores, Node ${r.machine.node}, load ${r.machine.loadavgAtStart.join(' ')})`);
  console.log(`Synkti: ${n} Mesh nodes share ONE process (loopback); killed/frozen targets are real \`synkti agent\` processes in the same swarm.`);
  console.log(`Timings: heartbeat ${r.timings.heartbeatMs} ms, suspect ${r.timings.suspectAfterMs} ms, dead ${r.timings.deadAfterMs} ms.`);
  console.log(`Shared process during propagation: CPU ${r.processCpuPercentDuringPropagation.toFixed(0)} % of one core, event-loop utilisation ${r.eventLoopUtilizationDuringPropagation.toFixed(2)}; connections opened/closed ${r.connectionChurnDuringPropagation.opened}/${r.connectionChurnDuringPropagation.closed}.`);
  console.log(`Join: all ${n} views saw all alive after ${fmtMs(r.joinAllMs)} ms${r.joinShort > 0 ? ` (${r.joinShort} nodes never did)` : ''}; per node ${r.connectionsPerNode.toFixed(1)} connections to ${r.peersPerNode.toFixed(1)} distinct peers.`);
  if (serf) console.log(`Serf: ${serf.nodes} agent processes, LAN profile; serf has no per-view "suspect" output: its column shows the first prober's suspicion.`);
  else if (r.serf !== null && 'skipped' in r.serf) console.log(`Serf: skipped (${r.serf.skipped}).`);
  console.log(line(head));
  console.log(widths.map((w) => '-'.repeat(w)).join('  '));
  for (const row of rows) console.log(line(row));
  console.log(`per receiver (every delivery): p50 ${fmtMs(r.perReceiver.p50)} ms, p99 ${fmtMs(r.perReceiver.p99)} ms over ${r.perReceiver.count}`);
  if (r.killed === undefined && r.frozen === undefined) console.log('kill and freeze detection: REFUSED — not every view saw the agent processes alive first, so any figure would be meaningless (the n/a rows above).');
  if (r.killed) console.log(`killed agent: first view suspect after ${fmtMs(r.killed.suspectFirstMs)} ms; gossip-only dead everywhere ${fmtMs(r.killed.plainDeadEverywhereMs)} ms; last state heard ${fmtMs(r.killed.lastHeardBeforeMs)} ms before the kill`);
  if (r.frozen) console.log(`frozen agent: first view suspect after ${fmtMs(r.frozen.suspectFirstMs)} ms; gossip-only suspect ${fmtMs(r.frozen.plainSuspectEverywhereMs)} ms; last state heard ${fmtMs(r.frozen.lastHeardBeforeMs)} ms before the stop`);
  if (r.error !== undefined) console.log(`ERROR: ${r.error}`);
  if (serf) console.log(`serf event counted from the \`serf event\` call: p50 ${fmtMs(serf.propagationFromCli.p50)} ms, p99 ${fmtMs(serf.propagationFromCli.p99)} ms`);
}

export async function main(argv: string[]): Promise<void> {
  // Two other shapes of the same bench, in modules of their own.
  if (argv.some((a) => a === '--series' || a.startsWith('--series='))) return (await import('./gossip-scale.js')).main(argv);
  if (argv.includes('--processes')) return (await import('./gossip-processes.js')).main(argv.filter((a) => a !== '--processes'));
  const opts = parse(argv);
  const result = emptyResult(opts);
  const watchdog = setTimeout(() => {
    console.error(`[gossip-bench] still running after --max-seconds ${opts.maxSeconds}; aborting with partial figures (children are killed on exit)`);
    if (opts.jsonOut !== undefined) writeFileSync(opts.jsonOut, `${JSON.stringify({ ...result, aborted: true }, null, 2)}\n`);
    if (opts.json) console.log(JSON.stringify({ ...result, aborted: true }, null, 2));
    else printTable(result);
    process.exit(3);
  }, opts.maxSeconds * 1000);
  watchdog.unref();
  try {
    await runLibp2p(opts, result).catch((err: unknown) => {
      result.error = `libp2p phase failed: ${(err as Error).message}`;
      log(result.error);
    });
    if (!opts.serf) result.serf = { skipped: '--no-serf' };
    else if (serfVersion() === null) result.serf = { skipped: 'serf is not installed (apt-get install -y serf)' };
    else {
      log(`starting ${opts.nodes} serf agents`);
      try {
        result.serf = await runSerf({ nodes: opts.nodes, events: opts.changes, idleMs: opts.idleMs, eventTimeoutMs: CHANGE_TIMEOUT_MS, log });
      } catch (err) {
        result.serf = { skipped: `serf run failed: ${(err as Error).message}` };
      }
    }
  } finally {
    clearTimeout(watchdog);
  }
  if (opts.jsonOut !== undefined) await writeFile(opts.jsonOut, `${JSON.stringify(result, null, 2)}\n`);
  if (opts.json) console.log(JSON.stringify(result, null, 2));
  else printTable(result);
}
