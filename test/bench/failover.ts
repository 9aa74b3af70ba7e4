import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { alive, FAST_AGENT_ARGS, type LocalFleetProcess, localUp } from '../harness/local-up.js';
import { cliPath } from '../harness/paths.js';
import { freeBasePort } from '../harness/ports.js';
import { waitFor } from '../harness/wait.js';
import { fmtMs, summarize } from './stats.js';
import { readRuntimeFile } from 'synkti-agent';

/**
 * `npm run bench -- failover [--nodes 5] [--rounds 3] [--json] [--json-out file] [--config default|fast|both] [--in 30] [--loops 4] [--keep]`
 *
 * A `synkti local up` fleet (local provider, emulated engines and metadata endpoints), once with the
 * production timings (heartbeat 1 s, suspect 3 s, dead 10 s: no timing flags) and once with fast
 * ones (200 ms / 700 ms / 2 s). Per round:
 *  - kill: `synkti local kill <i>`; from the kill (the CLI's "killed" line) to the loss being known
 *    by every survivor (the `dead` event in each survivor's own /fleet events), to the launch (the
 *    launcher's `launching a replacement` log time), to the replacement being warm in every view.
 *  - interruption: steady traffic through nodes 0 and 1, `synkti local interrupt <i> --in 30`;
 *    until no new request is served by the node (`x-synkti-peer`), to the replacement's launch
 *    and warm, and every client request that did not answer 200 (with status and body).
 * All times come from the agents' own clocks (events, logs) except the kill/notice instant and the
 * client's request start times; everything runs on this one machine, so the clocks are the same.
 */

const LOG_PREFIX = '[failover-bench]';
const log = (msg: string) => console.error(`${LOG_PREFIX} ${msg}`);
const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
/** `synkti local` puts node i's engine on P+200+i and its emulated metadata endpoint on P+300+i. */
const METADATA_PORT_OFFSET = 300;
const ENGINE_PORT_OFFSET = 200;
const chatBody = JSON.stringify({ model: 'synkti/fake-model', messages: [{ role: 'user', content: 'Hello' }], max_tokens: 8 });

interface Timings {
  name: 'default' | 'fast';
  heartbeatMs: number;
  suspectAfterMs: number;
  deadAfterMs: number;
  agentArgs: string[];
}

const CONFIGS: Record<Timings['name'], Timings> = {
  default: { name: 'default', heartbeatMs: 1_000, suspectAfterMs: 3_000, deadAfterMs: 10_000, agentArgs: [] },
  fast: { name: 'fast', heartbeatMs: 200, suspectAfterMs: 700, deadAfterMs: 2_000, agentArgs: FAST_AGENT_ARGS },
};

interface Options {
  nodes: number;
  rounds: number;
  json: boolean;
  configs: Timings[];
  noticeSeconds: number;
  loops: number;
  maxSeconds: number;
  /** Keep the fleet directories (logs, ledger) for inspection. */
  keep: boolean;
  /** Also write the JSON result to this file (the table still goes to stdout). */
  jsonOut: string | undefined;
}

function parse(argv: string[]): Options {
  const { values } = parseArgs({
    args: argv,
    options: {
      nodes: { type: 'string', default: '5' },
      rounds: { type: 'string', default: '3' },
      json: { type: 'boolean', default: false },
      config: { type: 'string', default: 'both' },
      in: { type: 'string', default: '30' },
      loops: { type: 'string', default: '4' },
      'max-seconds': { type: 'string', default: '1500' },
      keep: { type: 'boolean', default: false },
      'json-out': { type: 'string' },
    },
  });
  const nodes = Number(values.nodes);
  const rounds = Number(values.rounds);
  if (!Number.isInteger(nodes) || nodes < 3 || nodes > 40) throw new Error('--nodes must be an integer from 3 to 40');
  if (!Number.isInteger(rounds) || rounds < 1 || rounds > 20) throw new Error('--rounds must be an integer from 1 to 20');
  if (!['default', 'fast', 'both'].includes(values.config)) throw new Error('--config must be default, fast or both');
  const configs = values.config === 'both' ? [CONFIGS.default, CONFIGS.fast] : [CONFIGS[values.config as Timings['name']]];
  return { nodes, rounds, json: values.json, configs, noticeSeconds: Number(values.in), loops: Number(values.loops), maxSeconds: Number(values['max-seconds']), keep: values.keep, jsonOut: values['json-out'] };
}

// ---------------------------------------------------------------------------------------------
// Reading the fleet: the provider's ledger, each agent's /fleet and log.

interface Instance {
  instanceId: string;
  index: number;
  slot: string;
  replaces: string | null;
  pid: number | null;
  createdAt: string;
  terminated?: boolean;
}

interface FleetEventJson {
  at: number;
  peerId: string;
  kind: string;
  detail: string;
}

interface FleetView {
  self: string;
  peers: { peerId: string; status: string; healthy: boolean; engine: { state: string }; provider: { slot: string | null; instanceId: string | null } }[];
  events: FleetEventJson[];
}

interface LiveNode {
  index: number;
  instanceId: string;
  pid: number;
  url: string;
}

async function instances(dir: string): Promise<Instance[]> {
  const names = await readdir(join(dir, 'provider', 'instances')).catch(() => [] as string[]);
  const out: Instance[] = [];
  for (const n of names.filter((x) => x.endsWith('.json'))) {
    try {
      out.push(JSON.parse(await readFile(join(dir, 'provider', 'instances', n), 'utf8')) as Instance);
    } catch {
      // Written atomically, but a file may vanish or be replaced between readdir and read.
    }
  }
  return out.sort((a, b) => a.index - b.index);
}

async function liveNodes(fleet: LocalFleetProcess): Promise<LiveNode[]> {
  return (await instances(fleet.dir))
    .filter((i) => i.pid !== null && !i.terminated && alive(i.pid))
    .map((i) => ({ index: i.index, instanceId: i.instanceId, pid: i.pid!, url: `http://127.0.0.1:${fleet.basePort + i.index}` }));
}

async function view(url: string): Promise<FleetView> {
  return (await (await fetch(`${url}/fleet`, { signal: AbortSignal.timeout(5_000) })).json()) as FleetView;
}

interface LogLine {
  time: number;
  msg: string;
  [key: string]: unknown;
}

async function agentLog(dir: string, index: number): Promise<LogLine[]> {
  const text = await readFile(join(dir, `node-${index}`, 'agent.log'), 'utf8').catch(() => '');
  const out: LogLine[] = [];
  for (const line of text.split('\n')) {
    if (!line.startsWith('{')) continue;
    try {
      out.push(JSON.parse(line) as LogLine);
    } catch {
      // A line being written while we read.
    }
  }
  return out;
}

/** Every `msg` line of every node's log, tagged with the node index. */
async function allLogs(dir: string, msg: string): Promise<(LogLine & { node: number })[]> {
  const indexes = (await instances(dir)).map((i) => i.index);
  const logs = await Promise.all(indexes.map(async (index) => (await agentLog(dir, index)).filter((l) => l.msg === msg).map((l) => ({ ...l, node: index }))));
  return logs.flat().sort((a, b) => a.time - b.time);
}

function firstEvent(v: FleetView, peerId: string, since: number, match: (e: FleetEventJson) => boolean): number | null {
  const hit = v.events.filter((e) => e.peerId === peerId && e.at >= since && match(e)).sort((a, b) => a.at - b.at)[0];
  return hit === undefined ? null : hit.at;
}

const isWarm = (e: FleetEventJson) => (e.kind === 'engine' && e.detail.endsWith('-> warm')) || (e.kind === 'joined' && e.detail === 'alive, engine warm');

function maxOrNull(values: (number | null)[]): number | null {
  return values.some((v) => v === null) || values.length === 0 ? null : Math.max(...(values as number[]));
}

/**
 * Runs one `synkti local …` command while polling `probe` every few ms: `at` is when the probe first
 * saw the command's effect (the victim gone, the notice set), or — if it never did — when the
 * command's first stdout line arrived (right after it acted).
 */
async function cliObserved(args: string[], probe: () => boolean | Promise<boolean>): Promise<{ at: number; observed: boolean; out: string }> {
  let seen: number | null = null;
  let done = false;
  const poll = (async () => {
    const deadline = Date.now() + 35_000;
    while (seen === null && Date.now() < deadline) {
      try {
        if (await probe()) seen = Date.now();
      } catch {
        // Not yet.
      }
      if (done && seen === null) break;
      await sleep(5);
    }
  })();
  let result: { at: number; out: string };
  try {
    result = await cli(args);
  } finally {
    done = true;
    await poll;
  }
  return { at: seen ?? result.at, observed: seen !== null, out: result.out };
}

/** Gone or a zombie: SIGKILL has landed. */
function killed(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) === 'Z';
  } catch {
    return true;
  }
}

/** Runs one `synkti local …` command; resolves with the time its first stdout line arrived (right after it acted). */
async function cli(args: string[]): Promise<{ at: number; out: string }> {
  const child = spawn(process.execPath, [cliPath, 'local', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let at: number | null = null;
  let out = '';
  child.stdout.on('data', (d: Buffer) => {
    at ??= Date.now();
    out += d.toString();
  });
  child.stderr.on('data', (d: Buffer) => {
    out += d.toString();
  });
  const timer = setTimeout(() => {
    if (child.pid !== undefined && child.exitCode === null) process.kill(child.pid, 'SIGKILL');
  }, 30_000);
  const code = await new Promise<number | null>((resolve) => child.once('exit', (c) => resolve(c)));
  clearTimeout(timer);
  if (code !== 0 || at === null) throw new Error(`synkti local ${args.join(' ')} failed (${code}): ${out}`);
  return { at, out: out.trim() };
}

// ---------------------------------------------------------------------------------------------
// Traffic

interface RequestRecord {
  start: number;
  end: number;
  status: number;
  peer: string | null;
  entry: string;
  body?: string;
}

function traffic(urls: string[], loopsPerUrl: number) {
  const state = { stop: false, records: [] as RequestRecord[] };
  const loops = urls.flatMap((url) =>
    Array.from({ length: loopsPerUrl }, async () => {
      while (!state.stop) {
        const start = Date.now();
        try {
          const res = await fetch(`${url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: chatBody, signal: AbortSignal.timeout(20_000) });
          const text = await res.text();
          const rec: RequestRecord = { start, end: Date.now(), status: res.status, peer: res.headers.get('x-synkti-peer'), entry: url };
          if (res.status !== 200) rec.body = text.slice(0, 300);
          state.records.push(rec);
        } catch (err) {
          state.records.push({ start, end: Date.now(), status: 0, peer: null, entry: url, body: String(err).slice(0, 300) });
          await sleep(50);
        }
      }
    }),
  );
  return { state, done: () => Promise.all(loops) };
}

// ---------------------------------------------------------------------------------------------
// Rounds

interface KillRound {
  victim: string;
  launcherNode: number | null;
  /** ms after the kill. */
  suspectByAllMs: number | null;
  deadFirstMs: number | null;
  deadByAllMs: number | null;
  launchMs: number | null;
  /** launch minus the launcher's own `dead` event for the victim. */
  decisionAfterLauncherKnewMs: number | null;
  /** launch minus the last survivor's `dead` event (negative: launched before everyone knew). */
  launchAfterAllKnewMs: number | null;
  warmInEveryViewMs: number | null;
  launchToWarmMs: number | null;
  launchLogLines: number;
  /** Each survivor's events for the victim since the round started (kind@ms after the kill). */
  victimEvents: string[];
  replacementsLaunched: number;
}

interface InterruptRound {
  victim: string;
  launcherNode: number | null;
  /** ms after the notice was injected. */
  noticedByNodeMs: number | null;
  knownByAllMs: number | null;
  /** How many survivor views logged an `interrupted` event for the node. */
  interruptedEventIn: number;
  /** The notice or the departure (left/dead) in every survivor view. */
  outOfEveryViewMs: number | null;
  /** Each survivor's events for the node since the round started (kind@ms after the notice). */
  victimEvents: string[];
  /** Start of the last request the interrupted node served, relative to the notice (≤ 0: none after it). */
  lastServedStartMs: number | null;
  servedByVictimBefore: number;
  servedByVictimAfter: number;
  launchMs: number | null;
  warmInEveryViewMs: number | null;
  leftMs: number | null;
  requestsOk: number;
  failed: { status: number; body: string; entry: string; atMs: number }[];
  replacementsLaunched: number;
}

interface ConfigResult {
  timings: Omit<Timings, 'agentArgs'>;
  command: string;
  kill: KillRound[];
  interrupt: InterruptRound[];
  /** Rounds that could not complete (the rest of that kind was skipped). */
  errors: string[];
}

/** The replacement for `victim`, once its process exists and every view says it is healthy. */
async function awaitReplacement(fleet: LocalFleetProcess, victim: LiveNode, survivors: LiveNode[], timeoutMs: number): Promise<{ instance: Instance; peerId: string }> {
  const instance = await waitFor(`a replacement for ${victim.instanceId}`, async () => (await instances(fleet.dir)).find((i) => i.replaces === victim.instanceId && i.pid !== null), timeoutMs, 100);
  const url = `http://127.0.0.1:${fleet.basePort + instance.index}`;
  const peerId = await waitFor(`${instance.instanceId} to answer`, async () => (await view(url)).self, timeoutMs, 200);
  await waitFor(`${instance.instanceId} healthy in every view`, async () => {
    const views = await Promise.all([...survivors.map((s) => s.url), url].map(view));
    return views.every((v) => v.peers.some((p) => p.peerId === peerId && p.healthy)) ? true : undefined;
  }, timeoutMs, 200);
  return { instance, peerId };
}

async function peerIdOf(node: LiveNode): Promise<string> {
  return (await view(node.url)).self;
}

/** The first `launching a replacement` line for `instanceId`, and how many there were. */
async function launchOf(dir: string, instanceId: string): Promise<{ time: number | null; node: number | null; lines: number }> {
  const lines = (await allLogs(dir, 'launching a replacement')).filter((l) => l['replaces'] === instanceId);
  return { time: lines[0]?.time ?? null, node: lines[0]?.node ?? null, lines: lines.length };
}

function pickVictim(live: LiveNode[]): LiveNode {
  // Nodes 0 and 1 carry the client traffic; any other live node may go (oldest first).
  const victim = live.find((n) => n.index >= 2);
  if (victim === undefined) throw new Error('no live node to take away');
  return victim;
}

async function killRound(fleet: LocalFleetProcess, t: Timings): Promise<KillRound> {
  const live = await liveNodes(fleet);
  const victim = pickVictim(live);
  const survivors = live.filter((n) => n !== victim);
  const victimPeer = await peerIdOf(victim);
  log(`${t.name}: kill node ${victim.index} (${victim.instanceId})`);
  const roundStart = Date.now();
  const { at: killedAt, observed } = await cliObserved(['kill', String(victim.index), '--dir', fleet.dir], () => killed(victim.pid));
  if (!observed) log('the kill was not observed in /proc; timing from the command\'s output');
  log(`${t.name}: the kill landed ${killedAt - roundStart} ms after the command started`);
  const { peerId: replacementPeer } = await awaitReplacement(fleet, victim, survivors, t.deadAfterMs + 90_000);
  // Let every view log the events it is about to log (the last warm event may trail the health poll).
  await sleep(t.heartbeatMs);
  const views = await Promise.all(survivors.map((s) => view(s.url)));
  const suspect = views.map((v) => firstEvent(v, victimPeer, roundStart, (e) => e.kind === 'suspect' || e.kind === 'dead'));
  const dead = views.map((v) => firstEvent(v, victimPeer, roundStart, (e) => e.kind === 'dead'));
  const warm = views.map((v) => firstEvent(v, replacementPeer, roundStart, isWarm));
  const launch = await launchOf(fleet.dir, victim.instanceId);
  const launcherIdx = launch.node === null ? -1 : survivors.findIndex((s) => s.index === launch.node);
  const launcherDead = launcherIdx < 0 ? null : (dead[launcherIdx] ?? null);
  const deadAll = maxOrNull(dead);
  const warmAll = maxOrNull(warm);
  const rel = (x: number | null) => (x === null ? null : x - killedAt);
  return {
    victim: `node ${victim.index} (${victim.instanceId})`,
    launcherNode: launch.node,
    suspectByAllMs: rel(maxOrNull(suspect)),
    deadFirstMs: rel(dead.every((d) => d === null) ? null : Math.min(...(dead.filter((d) => d !== null) as number[]))),
    deadByAllMs: rel(deadAll),
    launchMs: rel(launch.time),
    decisionAfterLauncherKnewMs: launch.time === null || launcherDead === null ? null : launch.time - launcherDead,
    launchAfterAllKnewMs: launch.time === null || deadAll === null ? null : launch.time - deadAll,
    warmInEveryViewMs: rel(warmAll),
    launchToWarmMs: launch.time === null || warmAll === null ? null : warmAll - launch.time,
    launchLogLines: launch.lines,
    victimEvents: views.map((v) => v.events.filter((e) => e.peerId === victimPeer && e.at >= roundStart).map((e) => `${e.kind}@${e.at - killedAt}`).join(' ')),
    replacementsLaunched: (await instances(fleet.dir)).filter((i) => i.replaces === victim.instanceId).length,
  };
}

async function interruptRound(fleet: LocalFleetProcess, t: Timings, opts: Options): Promise<InterruptRound> {
  const live = await liveNodes(fleet);
  const entries = live.filter((n) => n.index === 0 || n.index === 1);
  if (entries.length !== 2) throw new Error('nodes 0 and 1 must be alive to carry the traffic');
  const victim = pickVictim(live);
  const survivors = live.filter((n) => n !== victim);
  const victimPeer = await peerIdOf(victim);
  const load = traffic(entries.map((e) => e.url), Math.max(1, Math.round(opts.loops / 2)));
  try {
    // Warm-up: the victim must be serving its share before the notice.
    await waitFor('the interrupted-to-be node to serve traffic', () => (load.state.records.filter((r) => r.peer === victimPeer).length >= 3 ? true : undefined), 30_000, 50);
    await sleep(1_000);
    log(`${t.name}: interrupt node ${victim.index} (${victim.instanceId}) --in ${opts.noticeSeconds}`);
    const roundStart = Date.now();
    const control = `http://127.0.0.1:${fleet.basePort + METADATA_PORT_OFFSET + victim.index}/_synkti/notice`;
    const noticeSet = async () => ((await (await fetch(control, { signal: AbortSignal.timeout(1_000) })).json()) as { notice: unknown }).notice != null;
    const { at: noticeAt, observed } = await cliObserved(['interrupt', String(victim.index), '--dir', fleet.dir, '--kind', 'terminate', '--in', String(opts.noticeSeconds)], noticeSet);
    if (!observed) log('the notice was not observed at the metadata endpoint; timing from the command\'s output');
    log(`${t.name}: the notice was set ${noticeAt - roundStart} ms after the command started`);
    await awaitReplacement(fleet, victim, survivors, opts.noticeSeconds * 1_000 + 90_000);
    await waitFor(`node ${victim.index} to exit`, () => (!alive(victim.pid) ? true : undefined), opts.noticeSeconds * 1_000 + 30_000, 100);
    await sleep(Math.max(1_000, t.heartbeatMs));
    load.state.stop = true;
    await load.done();
    const replacement = (await instances(fleet.dir)).find((i) => i.replaces === victim.instanceId)!;
    const replacementPeer = (await view(`http://127.0.0.1:${fleet.basePort + replacement.index}`)).self;
    const views = await Promise.all(survivors.map((s) => view(s.url)));
    const known = views.map((v) => firstEvent(v, victimPeer, roundStart, (e) => e.kind === 'interrupted'));
    // Out of every survivor's routing: the notice, or the node's departure if that came first.
    const out = views.map((v) => firstEvent(v, victimPeer, roundStart, (e) => ['interrupted', 'left', 'dead', 'forgotten'].includes(e.kind)));
    const warm = views.map((v) => firstEvent(v, replacementPeer, roundStart, isWarm));
    const launch = await launchOf(fleet.dir, victim.instanceId);
    const victimLog = await agentLog(fleet.dir, victim.index);
    const noticed = victimLog.find((l) => l.msg === 'spot interruption notice')?.time ?? null;
    const left = victimLog.find((l) => l.msg === 'leaving the fleet')?.time ?? null;
    const served = load.state.records.filter((r) => r.status === 200 && r.peer === victimPeer);
    const rel = (x: number | null) => (x === null ? null : x - noticeAt);
    return {
      victim: `node ${victim.index} (${victim.instanceId})`,
      launcherNode: launch.node,
      noticedByNodeMs: rel(noticed),
      knownByAllMs: rel(maxOrNull(known)),
      interruptedEventIn: known.filter((k) => k !== null).length,
      outOfEveryViewMs: rel(maxOrNull(out)),
      victimEvents: views.map((v) => v.events.filter((e) => e.peerId === victimPeer && e.at >= roundStart).map((e) => `${e.kind}@${e.at - noticeAt}`).join(' ')),
      lastServedStartMs: served.length === 0 ? null : Math.max(...served.map((r) => r.start)) - noticeAt,
      servedByVictimBefore: served.filter((r) => r.start <= noticeAt).length,
      servedByVictimAfter: served.filter((r) => r.start > noticeAt).length,
      launchMs: rel(launch.time),
      warmInEveryViewMs: rel(maxOrNull(warm)),
      leftMs: rel(left),
      requestsOk: load.state.records.filter((r) => r.status === 200).length,
      failed: load.state.records.filter((r) => r.status !== 200).map((r) => ({ status: r.status, body: r.body ?? '', entry: r.entry, atMs: r.start - noticeAt })),
      replacementsLaunched: (await instances(fleet.dir)).filter((i) => i.replaces === victim.instanceId).length,
    };
  } finally {
    load.state.stop = true;
    await load.done();
  }
}

// ---------------------------------------------------------------------------------------------
// Fleet lifecycle (every process this bench starts is stopped by PID, even on error).

const running = new Set<LocalFleetProcess>();

/** Guards against a recycled PID: only processes whose command line names this fleet are ours. */
function cmdlineHas(pid: number, text: string): boolean {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ').includes(text);
  } catch {
    return false;
  }
}

async function stopFleet(fleet: LocalFleetProcess): Promise<void> {
  if (fleet.child.exitCode === null && fleet.child.pid !== undefined) {
    process.kill(fleet.child.pid, 'SIGTERM');
    const stopped = await Promise.race([fleet.exited.then(() => true), sleep(30_000).then(() => false)]);
    if (!stopped && fleet.child.exitCode === null) process.kill(fleet.child.pid, 'SIGKILL');
  }
  // Replacements run in their own process groups (as instances outlive their launcher): stop any
  // left behind, gently first so they stop their engines, then any engine still running.
  const left = (await instances(fleet.dir)).filter((i) => i.pid !== null && alive(i.pid) && cmdlineHas(i.pid, fleet.dir));
  for (const i of left) process.kill(i.pid!, 'SIGTERM');
  await waitFor('leftover agents to stop', () => (left.every((i) => !alive(i.pid!)) ? true : undefined), 15_000, 100).catch(() => undefined);
  for (const i of left) if (alive(i.pid!)) process.kill(i.pid!, 'SIGKILL');
  for (const i of await instances(fleet.dir)) {
    const engine = (await readRuntimeFile(join(fleet.dir, `node-${i.index}`)))?.enginePid;
    if (typeof engine === 'number' && alive(engine) && cmdlineHas(engine, `--port ${fleet.basePort + ENGINE_PORT_OFFSET + i.index}`)) process.kill(engine, 'SIGKILL');
  }
  running.delete(fleet);
}

function stopAllNow(): void {
  for (const fleet of running) {
    if (fleet.child.pid !== undefined && fleet.child.exitCode === null) process.kill(fleet.child.pid, 'SIGTERM');
  }
}

async function runConfig(t: Timings, opts: Options): Promise<ConfigResult> {
  const dir = await mkdtemp(join(tmpdir(), `synkti-bench-failover-${t.name}-`));
  // Replacements take the next indexes: room for one per round of each kind, and some slack.
  const basePort = await freeBasePort(opts.nodes + 2 * opts.rounds + 4);
  const fleetDir = join(dir, 'fleet');
  const command = ['synkti local up', '--nodes', String(opts.nodes), '--base-port', String(basePort), '--dir', fleetDir, ...t.agentArgs].join(' ');
  log(`${t.name}: ${command}`);
  let fleet: LocalFleetProcess | undefined;
  try {
    fleet = await localUp(fleetDir, opts.nodes, basePort, t.agentArgs);
    running.add(fleet);
    const f = fleet;
    await waitFor('every view to see the whole fleet healthy', async () => {
      const views = await Promise.all((await liveNodes(f)).map((n) => view(n.url)));
      return views.length === opts.nodes && views.every((v) => v.peers.filter((p) => p.healthy).length === opts.nodes) ? true : undefined;
    }, 90_000, 200);
    const kill: KillRound[] = [];
    const errors: string[] = [];
    for (let r = 0; r < opts.rounds; r++) {
      try {
        kill.push(await killRound(fleet, t));
      } catch (err) {
        errors.push(`kill round ${r + 1}: ${(err as Error).message}`);
        log(`${t.name}: ${errors.at(-1)}`);
        break;
      }
      log(`${t.name}: kill round ${r + 1}: ${JSON.stringify(kill.at(-1))}`);
      await sleep(2 * t.heartbeatMs);
    }
    const interrupt: InterruptRound[] = [];
    for (let r = 0; r < opts.rounds; r++) {
      try {
        interrupt.push(await interruptRound(fleet, t, opts));
      } catch (err) {
        errors.push(`interrupt round ${r + 1}: ${(err as Error).message}`);
        log(`${t.name}: ${errors.at(-1)}`);
        break;
      }
      const { failed, ...rest } = interrupt.at(-1)!;
      log(`${t.name}: interrupt round ${r + 1}: ${JSON.stringify({ ...rest, failed: failed.length })}`);
      await sleep(2 * t.heartbeatMs);
    }
    const { agentArgs, ...timings } = t;
    return { timings, command, kill, interrupt, errors };
  } finally {
    if (fleet !== undefined) await stopFleet(fleet);
    if (opts.keep) log(`kept ${dir}`);
    else await rm(dir, { recursive: true, force: true });
  }
}

// ---------------------------------------------------------------------------------------------
// Report

function median(values: (number | null)[]): number | null {
  const present = values.filter((v): v is number => v !== null);
  return present.length === 0 ? null : summarize(present).p50;
}

/** Rounds per table (a kind whose rounds stopped early is padded with n/a). */
let columns = 0;

/** fmtMs with a sign for negative figures (a launch before the loss was known by all). */
const fmtSigned = (v: number | null) => (v !== null && v < 0 ? `−${fmtMs(-v)}` : fmtMs(v));

function row(label: string, values: (number | null)[], fmt: (v: number | null) => string = fmtSigned, agg = true): string {
  const cells = [...values.map(fmt), ...Array.from({ length: Math.max(0, columns - values.length) }, () => 'n/a')];
  return `| ${label} | ${cells.join(' | ')} | ${agg ? fmt(median(values)) : ''} |`;
}

function textRow(label: string, cells: string[]): string {
  const padded = [...cells, ...Array.from({ length: Math.max(0, columns - cells.length) }, () => 'n/a')];
  return `| ${label} | ${padded.join(' | ')} | |`;
}

const count = (v: number | null) => (v === null ? 'n/a' : String(v));

function tables(results: ConfigResult[], opts: Options): string {
  columns = opts.rounds;
  const head = `| | ${Array.from({ length: opts.rounds }, (_, i) => `round ${i + 1}`).join(' | ')} | median |\n|---|${'---:|'.repeat(opts.rounds + 1)}`;
  const out: string[] = [];
  for (const r of results) {
    const { heartbeatMs: hb, suspectAfterMs, deadAfterMs } = r.timings;
    out.push(`**${r.timings.name} timings** (heartbeat ${hb} ms, suspect ${suspectAfterMs} ms, dead ${deadAfterMs} ms) — hard kill, ms after \`local kill\`:\n`);
    out.push(head);
    out.push(row('suspect in every survivor', r.kill.map((k) => k.suspectByAllMs)));
    out.push(row('dead in the first survivor', r.kill.map((k) => k.deadFirstMs)));
    out.push(row('**loss known by all** (dead in every survivor)', r.kill.map((k) => k.deadByAllMs)));
    out.push(row('**launch** (`launching a replacement`)', r.kill.map((k) => k.launchMs)));
    out.push(row('launch − loss known by the launcher', r.kill.map((k) => k.decisionAfterLauncherKnewMs)));
    out.push(row('launch − loss known by all', r.kill.map((k) => k.launchAfterAllKnewMs)));
    out.push(row('**replacement warm in every view**', r.kill.map((k) => k.warmInEveryViewMs)));
    out.push(row('launch → warm in every view', r.kill.map((k) => k.launchToWarmMs)));
    out.push(row('replacements launched for the loss', r.kill.map((k) => k.replacementsLaunched), count, false));
    out.push('');
    out.push(`**${r.timings.name} timings** — spot interruption (\`--in ${opts.noticeSeconds}\`) under ${opts.loops} client loops through nodes 0 and 1, ms after \`local interrupt\`:\n`);
    out.push(head);
    out.push(row('notice seen by the node (IMDS poll 500 ms)', r.interrupt.map((k) => k.noticedByNodeMs)));
    out.push(row('`interrupted` event in every survivor view', r.interrupt.map((k) => k.knownByAllMs)));
    out.push(textRow('survivor views with an `interrupted` event', r.interrupt.map((k) => `${k.interruptedEventIn} / ${opts.nodes - 1}`)));
    out.push(row('notice or departure in every survivor view', r.interrupt.map((k) => k.outOfEveryViewMs)));
    out.push(row('**last request served by the node started at**', r.interrupt.map((k) => k.lastServedStartMs)));
    out.push(textRow('requests served by the node before / after the notice', r.interrupt.map((k) => `${k.servedByVictimBefore} / ${k.servedByVictimAfter}`)));
    out.push(row('**launch** of its replacement', r.interrupt.map((k) => k.launchMs)));
    out.push(row('**replacement warm in every view**', r.interrupt.map((k) => k.warmInEveryViewMs)));
    out.push(row('node drained and left (`leaving the fleet`)', r.interrupt.map((k) => k.leftMs)));
    out.push(textRow('client requests ok / **failed**', r.interrupt.map((k) => `${k.requestsOk} / ${k.failed.length}`)));
    out.push(row('replacements launched for the node', r.interrupt.map((k) => k.replacementsLaunched), count, false));
    out.push('');
    const failed = r.interrupt.flatMap((k, i) => k.failed.map((f) => `round ${i + 1}: ${f.status} at ${f.atMs} ms via ${f.entry}: ${f.body}`));
    if (failed.length > 0) out.push(`Failed requests (${r.timings.name}):\n${failed.map((f) => `- ${f}`).join('\n')}\n`);
    if (r.errors.length > 0) out.push(`Rounds that did not complete (${r.timings.name}):\n${r.errors.map((e) => `- ${e}`).join('\n')}\n`);
  }
  return out.join('\n');
}

export async function main(argv: string[]): Promise<void> {
  const opts = parse(argv);
  const watchdog = setTimeout(() => {
    log(`giving up after ${opts.maxSeconds} s`);
    stopAllNow();
    setTimeout(() => process.exit(1), 5_000).unref();
  }, opts.maxSeconds * 1_000);
  watchdog.unref();
  const onSignal = () => {
    stopAllNow();
    setTimeout(() => process.exit(130), 3_000).unref();
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  const started = new Date();
  const results: ConfigResult[] = [];
  try {
    for (const t of opts.configs) results.push(await runConfig(t, opts));
  } finally {
    clearTimeout(watchdog);
    for (const fleet of [...running]) await stopFleet(fleet);
  }
  const machine = { cpus: cpus().length, cpuModel: cpus()[0]?.model ?? 'unknown', node: process.version, loadavgAtEnd: loadavg() };
  const command = `npm run bench -- failover ${argv.join(' ')}`.trim();
  const json = `${JSON.stringify({ date: started.toISOString(), command, machine, nodes: opts.nodes, rounds: opts.rounds, noticeSeconds: opts.noticeSeconds, loops: opts.loops, results }, null, 2)}\n`;
  if (opts.jsonOut !== undefined) await writeFile(opts.jsonOut, json);
  if (opts.json) {
    process.stdout.write(json);
    return;
  }
  process.stdout.write(`${started.toISOString()} · ${machine.cpus} × ${machine.cpuModel} · Node ${machine.node} · ${opts.nodes} agents · ${opts.rounds} rounds\n\n${tables(results, opts)}\n`);
}
