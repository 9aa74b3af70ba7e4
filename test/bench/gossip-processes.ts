import { mkdtemp, rm } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { DEAD_AFTER_MS, FORGET_AFTER_MS, HEARTBEAT_INTERVAL_MS, SUSPECT_AFTER_MS } from '@synkti/fleet';
import { Mesh, parseSwarmKey, type StateBody } from '@synkti/mesh';
import { sampleNodeState } from '@synkti/protocol';
import { readFile } from 'node:fs/promises';
import { AgentSwarm, type StatusWatch } from '../harness/agent-swarm.js';
import { runSerf, type SerfResult, serfVersion } from './serf.js';
import { fmtMs, procCpuPercent, procRssBytes, type Summary, summarize } from './stats.js';

/**
 * `npm run bench -- gossip --processes [--nodes 20] [--changes 30] [--steady-after 300] [--json] [--no-serf]`
 *
 * Every node a real `synkti agent` process (mesh only), each with its own event loop, at
 * production timings. Measures: idle CPU and RSS per agent; how long a state change takes to
 * reach every agent (published by a probe peer in this process; each agent's /fleet polled until
 * it holds the change, whose arrival is that agent's clock minus the entry's age, the same machine
 * clock); and kill (SIGKILL) and
 * freeze (SIGSTOP) detection: until every other agent says suspect, and dead. A detection figure
 * is printed only when every view saw the target alive just before the signal.
 *
 * Idle is measured twice: soon after the swarm converged, and again `--steady-after` seconds
 * after it (0: not at all). An idle agent keeps compiling code that runs only a few times a
 * second for minutes, and V8 shrinks an idle heap only after a while; a fleet lives in the second
 * state, a fresh joiner in the first (docs/benchmarks.md).
 */

const JOIN_TIMEOUT_MS = 120_000;
const SETTLE_MS = 15_000;
/**
 * Idle CPU is averaged over this long. Periodic work (among it the DHT rendezvous and table
 * refresh, each agent every few minutes) comes in bursts: over 10 s windows the busiest agent
 * changed from window to window at 4–10 %, while over 90 s none averaged above 3.2 %.
 */
const IDLE_MS = 30_000;
const ARRIVAL_WAIT_MS = 1_500;
/** Each agent's /fleet is read this often until it holds a change (bounds how late a figure can be). */
const ARRIVAL_POLL_MS = 20;
/** Quiet time between changes, so one change's polling does not load the next one's path. */
const CHANGE_GAP_MS = 200;
/** After the probe joins: past the connector's surplus age (30 s) and one trim round (5 s). */
const PROBE_SETTLE_MS = 40_000;
const WATCH_EVERY_MS = 200;
/** Before a signal: how long every view may take to see the target alive (else no figure). */
const ALIVE_FIRST_WAIT_MS = 20_000;

interface DetectionFigure {
  sawAliveFirst: boolean;
  suspectEverywhereMs: number | null;
  deadEverywhereMs: number | null;
}

interface ProcessResult {
  date: string;
  loadavgAtStart: number[];
  nodes: number;
  converged: boolean;
  timings: { heartbeatMs: number; suspectAfterMs: number; deadAfterMs: number };
  idleCpuPercent: Summary;
  rssMiB: Summary;
  /** The same, `steadyAfterS` after convergence; null when not asked for. */
  steady: { afterS: number; idleCpuPercent: Summary; rssMiB: Summary } | null;
  propagation: Summary;
  changesMissed: number;
  killed: DetectionFigure;
  frozen: DetectionFigure;
  /** The same swarm size in Serf, run after the agents stopped (or why not). */
  serf: SerfResult | { skipped: string };
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
const log = (msg: string) => console.error(`[gossip-processes] ${msg}`);

function everywhere(seen: StatusWatch, key: 'suspectMs' | 'deadMs'): number | null {
  const times = seen[key];
  return times.every((t) => t !== undefined) ? Math.max(...(times as number[])) : null;
}

/** A probe peer in this process: publishes a marked state per change, never a heartbeat. */
async function startProbe(swarm: AgentSwarm, dir: string, keyFile: string): Promise<{ mesh: Mesh; publish: (marker: string) => Promise<void> }> {
  let marker = 'probe';
  const mesh = new Mesh({
    fleet: 'swarm',
    stateDir: join(dir, 'probe'),
    swarmKey: parseSwarmKey(await readFile(keyFile, 'utf8')),
    listen: ['/ip4/127.0.0.1/tcp/0'],
    bootstrap: swarm.agents.slice(0, 2).flatMap((a) => a.addrs),
    heartbeatMs: HEARTBEAT_INTERVAL_MS,
    forgetAfterMs: DEAD_AFTER_MS + FORGET_AFTER_MS,
  });
  await mesh.start();
  const body = (): StateBody => {
    const { v, fleet, peerId, incarnation, seq, sentAt, addrs, leaving, ...rest } = sampleNodeState();
    // Not a serving node: nobody routes to it or counts it as capacity.
    return { ...rest, engine: { state: 'stopped', models: [marker], inStateMs: 0 }, apiUrl: null };
  };
  mesh.startHeartbeat(body);
  return {
    mesh,
    publish: async (m) => {
      marker = m;
      await mesh.publishNow();
    },
  };
}

/**
 * When one agent first holds the probe's entry with `marker`, on its own clock: its /fleet polled
 * until then. The entry's age dates the latest state carrying the marker, which is the change
 * itself unless a keep-alive beat (a full period later) arrived first — then the figure is late,
 * never early.
 */
async function arrivalAt(agent: AgentSwarm['agents'][number], probeId: string, marker: string, deadline: number): Promise<number | undefined> {
  while (Date.now() < deadline) {
    const view = await agent.fleet().catch(() => undefined);
    const entry = view?.peers.find((p) => p.peerId === probeId);
    if (view !== undefined && entry?.models[0] === marker) return view.now - entry.lastSeenMs;
    await sleep(ARRIVAL_POLL_MS);
  }
  return undefined;
}

async function propagation(swarm: AgentSwarm, probe: Awaited<ReturnType<typeof startProbe>>, changes: number): Promise<{ summary: Summary; missed: number }> {
  const all: number[] = [];
  let missed = 0;
  for (let k = 0; k < changes; k++) {
    const marker = `change-${k}`;
    const t0 = Date.now();
    await probe.publish(marker);
    const arrivals = await Promise.all(swarm.agents.map((a) => arrivalAt(a, probe.mesh.peerId, marker, t0 + ARRIVAL_WAIT_MS)));
    if (arrivals.some((a) => a === undefined)) missed++;
    else all.push(Math.max(...(arrivals as number[])) - t0);
    await sleep(CHANGE_GAP_MS + Math.random() * 300);
  }
  return { summary: summarize(all), missed };
}

async function detect(swarm: AgentSwarm, index: number, signal: NodeJS.Signals): Promise<DetectionFigure> {
  const target = swarm.agents[index]!;
  // Observers: every other agent still running (an earlier detection killed one).
  const observers = swarm.agents.filter((a, i) => i !== index && a.child?.exitCode === null && a.child.signalCode === null);
  // A loaded swarm may hold a passing suspicion of the target; give the views time to agree.
  const sawAliveFirst = await swarm.waitAlive(target.peerId, observers, ALIVE_FIRST_WAIT_MS);
  target.kill(signal);
  const seen = await swarm.watch(target.peerId, observers, { durationMs: DEAD_AFTER_MS + 10_000, everyMs: WATCH_EVERY_MS, untilDead: true });
  if (signal === 'SIGSTOP') target.kill('SIGCONT');
  if (!sawAliveFirst) {
    log(`not every view saw agent ${index} alive before ${signal}: its detection figure is not reported`);
    return { sawAliveFirst, suspectEverywhereMs: null, deadEverywhereMs: null };
  }
  const figure = { sawAliveFirst, suspectEverywhereMs: everywhere(seen, 'suspectMs'), deadEverywhereMs: everywhere(seen, 'deadMs') };
  if (figure.deadEverywhereMs === null) log(`${signal}: ${seen.deadMs.filter((d) => d === undefined).length} of ${observers.length} views never said dead within the watch`);
  return figure;
}

function print(r: ProcessResult): void {
  const ms = (x: number | null) => (x === null ? 'not reported' : `${fmtMs(x)} ms`);
  console.log(`gossip across ${r.nodes} agent processes (heartbeat ${r.timings.heartbeatMs} ms, suspect ${r.timings.suspectAfterMs}, dead ${r.timings.deadAfterMs}; load at start ${r.loadavgAtStart.map((l) => l.toFixed(2)).join(' / ')}; converged: ${r.converged ? 'yes' : 'NO'})`);
  printIdle(SETTLE_MS / 1000, r.idleCpuPercent, r.rssMiB);
  if (r.steady !== null) printIdle(r.steady.afterS, r.steady.idleCpuPercent, r.steady.rssMiB);
  console.log(`state change to all ${r.nodes}: p50 ${fmtMs(r.propagation.p50)} ms, p99 ${fmtMs(r.propagation.p99)} ms over ${r.propagation.count} changes, ${r.changesMissed} missed  (target p99 < 500 ms: ${r.propagation.count > 0 && r.propagation.p99 < 500 ? 'met' : 'MISSED'})`);
  printSerf(r.serf);
  const budget = r.timings.deadAfterMs + r.timings.heartbeatMs;
  for (const [name, d] of [['SIGKILL', r.killed], ['SIGSTOP', r.frozen]] as const) {
    console.log(`${name}: suspect everywhere ${ms(d.suspectEverywhereMs)}, dead everywhere ${ms(d.deadEverywhereMs)}  (dead target ≤ ${budget} ms: ${d.deadEverywhereMs !== null && d.deadEverywhereMs <= budget ? 'met' : 'MISSED or not reported'}; polled every ${WATCH_EVERY_MS} ms)`);
  }
}

function printIdle(afterS: number, cpu: Summary, rss: Summary): void {
  console.log(`idle CPU per agent over ${IDLE_MS / 1000} s from ${afterS} s after converging: p50 ${cpu.p50.toFixed(2)} %, max ${cpu.max.toFixed(2)} %  (target < 1 %: ${cpu.max < 1 ? 'met' : 'MISSED'})`);
  console.log(`RSS per agent ${afterS} s after converging: p50 ${rss.p50.toFixed(0)} MiB, max ${rss.max.toFixed(0)} MiB  (target < 150 MB: ${rss.max * 1.048576 < 150 ? 'met' : 'MISSED'})`);
}

function printSerf(serf: ProcessResult['serf']): void {
  if ('skipped' in serf) {
    console.log(`serf: not run (${serf.skipped})`);
    return;
  }
  const ms = (x: number | null) => (x === null ? 'n/a' : `${fmtMs(x)} ms`);
  console.log(`serf ${serf.version.replace(/^Serf /, '')}, ${serf.nodes} agents, same machine after ours stopped: idle CPU ${serf.idleCpuPercentPerAgent.toFixed(2)} %, RSS ${serf.rssMiBPerAgent.toFixed(1)} MiB; user event to all p50 ${fmtMs(serf.propagation.p50)} ms, p99 ${fmtMs(serf.propagation.p99)} ms (${serf.eventsMissed} missed); SIGKILL first suspicion ${ms(serf.killed.firstSuspicionMs)}, failed everywhere ${ms(serf.killed.failedEverywhereMs)}; SIGSTOP first suspicion ${ms(serf.frozen.firstSuspicionMs)}, failed everywhere ${ms(serf.frozen.failedEverywhereMs)}`);
}

async function serfPhase(nodes: number, changes: number, noSerf: boolean): Promise<ProcessResult['serf']> {
  if (noSerf) return { skipped: '--no-serf' };
  if (serfVersion() === null) return { skipped: 'the serf binary is not installed (apt-get install serf)' };
  log(`starting ${nodes} serf agents`);
  try {
    return await runSerf({ nodes, events: changes, idleMs: IDLE_MS, eventTimeoutMs: 5_000, log });
  } catch (err) {
    return { skipped: `serf run failed: ${(err as Error).message}` };
  }
}

/** RSS as the window opens (the time the figures are labelled with), CPU averaged over the window. */
async function idleFigures(swarm: AgentSwarm): Promise<{ idleCpuPercent: Summary; rssMiB: Summary }> {
  const exited = swarm.agents.map((a, i) => (a.child?.exitCode ?? null) !== null ? `agent ${i} (pid ${a.pid}) exited with ${a.child?.exitCode}` : null).filter((x) => x !== null);
  if (exited.length > 0) throw new Error(`cannot measure idle: ${exited.join('; ')}`);
  const pids = swarm.agents.map((a) => a.pid);
  const rss = pids.map((pid) => procRssBytes(pid) / 2 ** 20);
  const cpu = await procCpuPercent(pids, IDLE_MS);
  return { idleCpuPercent: summarize(cpu), rssMiB: summarize(rss) };
}

export async function main(argv: string[]): Promise<void> {
  const { values } = parseArgs({ args: argv, options: { nodes: { type: 'string', default: '20' }, changes: { type: 'string', default: '30' }, json: { type: 'boolean', default: false }, 'no-serf': { type: 'boolean', default: false }, 'steady-after': { type: 'string', default: '300' } } });
  const nodes = Number(values.nodes);
  const changes = Number(values.changes);
  if (!Number.isInteger(nodes) || nodes < 4 || nodes > 60) throw new Error('--nodes must be an integer from 4 to 60');
  if (!Number.isInteger(changes) || changes < 1) throw new Error('--changes must be a positive integer');
  const steadyAfterS = values['steady-after'].trim() === '' ? Number.NaN : Number(values['steady-after']);
  const earliestSteadyS = (SETTLE_MS + IDLE_MS) / 1000;
  if (!Number.isInteger(steadyAfterS) || (steadyAfterS !== 0 && (steadyAfterS < earliestSteadyS || steadyAfterS > 3_600))) throw new Error(`--steady-after must be 0 or whole seconds from ${earliestSteadyS} to 3600`);
  const loadavgAtStart = loadavg();
  log(`starting ${nodes} agent processes`);
  const swarm = await AgentSwarm.start(nodes);
  const dir = await mkdtemp(join(tmpdir(), 'synkti-gossip-processes-'));
  let ours: Omit<ProcessResult, 'serf'>;
  try {
    const converged = await swarm.waitConverged(JOIN_TIMEOUT_MS);
    if (!converged) log('WARNING: not every agent sees every agent alive; measuring anyway');
    const convergedAt = performance.now();
    await sleep(SETTLE_MS);
    const early = await idleFigures(swarm);
    let steady: ProcessResult['steady'] = null;
    if (steadyAfterS > 0) {
      log(`idle again ${steadyAfterS} s after converging`);
      await sleep(Math.max(0, convergedAt + steadyAfterS * 1_000 - performance.now()));
      steady = { afterS: steadyAfterS, ...(await idleFigures(swarm)) };
    }
    const probe = await startProbe(swarm, dir, swarm.keyFile);
    await swarm.waitAlive(probe.mesh.peerId, swarm.agents, 30_000);
    // A fleet's changes come from members that joined long ago. For its first ~30 s a joiner's
    // connections settle (duplicates from both ends dialling, surplus trimmed once 30 s old),
    // and its changes can take seconds to reach some peers (docs/benchmarks.md).
    log(`letting the probe's connections settle for ${PROBE_SETTLE_MS / 1000} s`);
    await sleep(PROBE_SETTLE_MS);
    log(`measuring ${changes} state changes`);
    const prop = await propagation(swarm, probe, changes);
    await probe.mesh.stop();
    log('SIGKILL detection');
    const killed = await detect(swarm, nodes - 1, 'SIGKILL');
    log('SIGSTOP detection');
    const frozen = await detect(swarm, nodes - 2, 'SIGSTOP');
    ours = {
      date: new Date().toISOString(),
      loadavgAtStart,
      nodes,
      converged,
      timings: { heartbeatMs: HEARTBEAT_INTERVAL_MS, suspectAfterMs: SUSPECT_AFTER_MS, deadAfterMs: DEAD_AFTER_MS },
      ...early,
      steady,
      propagation: prop.summary,
      changesMissed: prop.missed,
      killed,
      frozen,
    };
  } finally {
    await swarm.stop();
    await rm(dir, { recursive: true, force: true });
  }
  // Serf's side runs once our agents are gone, so the two never share the cores.
  const result: ProcessResult = { ...ours, serf: await serfPhase(nodes, changes, values['no-serf'] === true) };
  if (values.json === true) console.log(JSON.stringify(result, null, 2));
  else print(result);
}
