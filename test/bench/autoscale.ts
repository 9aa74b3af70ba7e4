import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { runSimulation } from '@synkti/sim';
import { alive, type LocalFleetProcess, localUp } from '../harness/local-up.js';
import { freeBasePort } from '../harness/ports.js';
import { waitFor } from '../harness/wait.js';
import { fmtMs, summarize } from './stats.js';

/**
 * `npm run bench -- autoscale [--rounds 3] [--min 2] [--max 4] [--clients 14] [--out-window-ms 10000] [--in-window-ms 10000] [--sim-seeds 5] [--sim-only]`
 *
 * A `synkti local up` fleet with autoscaling on (fake engines, local provider). Each round waits
 * until the fleet is at `--min`, then steps the load up (`--clients` streaming clients through
 * node 0) and times, from the step: the launcher's decision (its `fleet size decided` log line),
 * the first launch (the provider's ledger), and every new node warm (node 0's view, healthy
 * peers = the decided target). Then the load stops and it times the way back down to `--min`.
 * The decision cannot come before the scale-out window: it is printed beside it. Every stream
 * must end whole; a round with a failed stream is reported as such, not timed.
 *
 * Then the same step in the simulator (`--traffic step`: 30 % of peak, the peak from 2 h, a
 * 50-node fleet with production windows and the modelled 90 s boot + 5 min cold start): the time
 * from the step to the decision and to as many agents serving as decided, over `--sim-seeds`.
 */

const log = (msg: string) => console.error(`[autoscale-bench] ${msg}`);
const streamBody = JSON.stringify({ model: 'synkti/fake-model', messages: [{ role: 'user', content: 'Hello' }], max_tokens: 300, ignore_eos: true, stream: true });
/** Longest one round may take; a stuck round ends the run with what it has. */
const ROUND_MAX_MS = 240_000;

interface Opts { rounds: number; min: number; max: number; clients: number; outWindowMs: number; inWindowMs: number; simSeeds: number; simOnly: boolean }
interface Round { decideMs: number; launchMs: number; warmMs: number; downMs: number; target: number; failed: number; ok: number }

function parse(argv: string[]): Opts {
  const { values } = parseArgs({ args: argv, options: { rounds: { type: 'string' }, min: { type: 'string' }, max: { type: 'string' }, clients: { type: 'string' }, 'out-window-ms': { type: 'string' }, 'in-window-ms': { type: 'string' }, 'sim-seeds': { type: 'string' }, 'sim-only': { type: 'boolean' } } });
  const n = (v: string | undefined, d: number) => {
    const x = v === undefined ? d : Number(v);
    if (!Number.isInteger(x) || x < 1) throw new Error(`expected a positive whole number, got ${v}`);
    return x;
  };
  return { rounds: n(values.rounds, 3), min: n(values.min, 2), max: n(values.max, 4), clients: n(values.clients, 14), outWindowMs: n(values['out-window-ms'], 10_000), inWindowMs: n(values['in-window-ms'], 10_000), simSeeds: n(values['sim-seeds'], 5), simOnly: values['sim-only'] === true };
}

const STEP_H = 2;
/** The simulator's load step: decision and warm times after it, one run per seed. */
function simStep(seeds: number): { decideMs: number[]; warmMs: number[]; config: string } {
  const out = { decideMs: [] as number[], warmMs: [] as number[], config: '' };
  for (let seed = 1; seed <= seeds; seed++) {
    const r = runSimulation({ nodes: 50, hours: STEP_H + 1, seed, policy: 'fallback', trafficShape: 'step', autoscale: true });
    // The step's moves: every scale-out within 30 min of it; the largest is the size the peak needs.
    const outs = r.scale.events.filter((e) => e.h >= STEP_H && e.h < STEP_H + 0.5 && e.to > e.from);
    if (outs.length === 0) throw new Error(`sim seed ${seed}: no scale-out after the step`);
    const largest = outs.reduce((a, b) => (b.to > a.to ? b : a));
    if (largest.warmAfterMs === null) throw new Error(`sim seed ${seed}: the scale-out to ${largest.to} never had as many agents serving`);
    out.decideMs.push(Math.round((outs[0]!.h - STEP_H) * 3_600_000));
    out.warmMs.push(Math.round((largest.h - STEP_H) * 3_600_000) + largest.warmAfterMs);
    out.config = `${r.config.nodes} nodes at peak, ${outs[0]!.from} → ${largest.to} after the step in ${outs.length} move(s); scale-out window ${r.config.scaleOutWindowMs} ms; a launch joins after ${r.config.bootMs} ms and is warm ${r.config.coldStartMs} ms after it started`;
  }
  return out;
}

interface Instance { instanceId: string; slot: string; token: string | null; pid: number; terminated?: boolean; createdAt: string }
async function instances(dir: string): Promise<Instance[]> {
  const names = await readdir(join(dir, 'provider', 'instances'));
  return Promise.all(names.filter((n) => n.endsWith('.json')).map(async (n) => JSON.parse(await readFile(join(dir, 'provider', 'instances', n), 'utf8')) as Instance));
}
const running = async (dir: string) => (await instances(dir)).filter((i) => !i.terminated && alive(i.pid)).length;
async function healthy(url: string): Promise<number> {
  const v = (await (await fetch(`${url}/fleet`, { signal: AbortSignal.timeout(3_000) })).json()) as { peers: { healthy: boolean }[] };
  return v.peers.filter((p) => p.healthy).length;
}

/** The first `fleet size decided` line with reason load-high after `since`, from every agent's log. */
async function decisionAfter(dir: string, since: number): Promise<{ at: number; target: number } | undefined> {
  let first: { at: number; target: number } | undefined;
  for (const name of (await readdir(dir)).filter((n) => n.startsWith('node-'))) {
    for (const line of (await readFile(join(dir, name, 'agent.log'), 'utf8').catch(() => '')).split('\n')) {
      if (!line.includes('"fleet size decided"') || !line.includes('"load-high"')) continue;
      const d = JSON.parse(line) as { time: number; to: number };
      if (d.time >= since && (first === undefined || d.time < first.at)) first = { at: d.time, target: d.to };
    }
  }
  return first;
}

function streams(url: string, clients: number) {
  const state = { stop: false, ok: 0, failed: 0 };
  const loops = Array.from({ length: clients }, async () => {
    while (!state.stop) {
      try {
        const res = await fetch(`${url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: streamBody, signal: AbortSignal.timeout(60_000) });
        const text = await res.text();
        if (res.status === 200 && text.trimEnd().endsWith('data: [DONE]')) state.ok++;
        else state.failed++;
      } catch {
        state.failed++;
      }
    }
  });
  return { state, done: () => Promise.all(loops) };
}

async function round(fleet: LocalFleetProcess, url: string, o: Opts): Promise<Round> {
  await waitFor(`the fleet at ${o.min}`, async () => ((await running(fleet.dir)) === o.min && (await healthy(url)) === o.min ? true : undefined), ROUND_MAX_MS, 250);
  const before = (await instances(fleet.dir)).length;
  const step = Date.now();
  const load = streams(url, o.clients);
  try {
    const decided = await waitFor('a scale-out decision', () => decisionAfter(fleet.dir, step), ROUND_MAX_MS, 100);
    const launched = await waitFor('a launch', async () => {
      const fresh = (await instances(fleet.dir)).slice(before);
      return fresh.length > 0 ? Math.min(...fresh.map((i) => Date.parse(i.createdAt))) : undefined;
    }, ROUND_MAX_MS, 100);
    await waitFor(`${decided.target} healthy peers`, async () => ((await healthy(url)) >= decided.target ? true : undefined), ROUND_MAX_MS, 100);
    const warm = Date.now();
    load.state.stop = true;
    await load.done();
    const quiet = Date.now();
    await waitFor(`the fleet back at ${o.min}`, async () => ((await running(fleet.dir)) === o.min ? true : undefined), ROUND_MAX_MS, 250);
    return { decideMs: decided.at - step, launchMs: launched - step, warmMs: warm - step, downMs: Date.now() - quiet, target: decided.target, failed: load.state.failed, ok: load.state.ok };
  } finally {
    load.state.stop = true;
  }
}

export async function main(argv: string[]): Promise<void> {
  const o = parse(argv);
  if (o.simOnly) {
    printSim(o);
    return;
  }
  const dir = await mkdtemp(join(tmpdir(), 'synkti-autoscale-bench-'));
  const cooldown = Math.max(2_000, Math.round(o.outWindowMs / 2));
  const args = [
    '--agent-arg=--heartbeat-ms=300', '--agent-arg=--suspect-after-ms=1500', '--agent-arg=--dead-after-ms=5000',
    '--agent-arg=--autoscale=true', `--agent-arg=--min-nodes=${o.min}`, `--agent-arg=--max-nodes=${o.max}`, '--agent-arg=--target-load-per-node=2',
    `--agent-arg=--scale-out-window-ms=${o.outWindowMs}`, `--agent-arg=--scale-in-window-ms=${o.inWindowMs}`,
    `--agent-arg=--scale-out-cooldown-ms=${cooldown}`, `--agent-arg=--scale-in-cooldown-ms=${cooldown}`,
  ];
  const load0 = loadavg();
  const fleet = await localUp(join(dir, 'fleet'), o.min, await freeBasePort(o.max + 8), args);
  const url = `http://127.0.0.1:${fleet.basePort}`;
  const rounds: Round[] = [];
  try {
    for (let i = 0; i < o.rounds; i++) {
      const r = await round(fleet, url, o);
      log(`round ${i + 1}: decided ${r.target} at +${r.decideMs} ms, first launch +${r.launchMs} ms, warm +${r.warmMs} ms, back to ${o.min} in ${r.downMs} ms; streams ${r.ok} whole, ${r.failed} failed`);
      rounds.push(r);
    }
  } finally {
    fleet.child.kill('SIGTERM');
    await fleet.exited;
    for (const i of await instances(fleet.dir).catch(() => [])) if (alive(i.pid)) process.kill(i.pid, 'SIGKILL');
    if (process.env.SYNKTI_BENCH_KEEP === undefined) await rm(dir, { recursive: true, force: true });
    else log(`kept ${dir}`);
  }
  const failed = rounds.reduce((a, r) => a + r.failed, 0);
  const load1 = loadavg();
  console.log(`${new Date().toISOString()} · ${cpus().length} × ${cpus()[0]?.model.split(' ')[0] ?? 'cpu'} · Node ${process.version} · load ${load0.map((x) => x.toFixed(2)).join(' ')} at start, ${load1.map((x) => x.toFixed(2)).join(' ')} at end`);
  console.log(`local fleet ${o.min}..${o.max} nodes (fake engines, local provider), ${o.clients} streaming clients as the step, target load 2 sequences per node; scale-out window ${o.outWindowMs} ms, scale-in window ${o.inWindowMs} ms, cooldowns ${cooldown} ms; ${rounds.length} rounds`);
  if (failed > 0) {
    console.log(`REFUSED: ${failed} stream(s) failed or were cut during the rounds; the times of a fleet that drops requests are not reported`);
    process.exitCode = 1;
    return;
  }
  const row = (name: string, values: number[], anchor: string) => {
    const s = summarize(values);
    console.log(`| ${name} | ${fmtMs(s.p50)} | ${fmtMs(s.max)} | ${anchor} |`);
  };
  console.log('\n| from the load step (ms) | p50 | max | anchor |\n|---|---|---|---|');
  row('scale-out decided', rounds.map((r) => r.decideMs), `≥ the scale-out window, ${o.outWindowMs}`);
  row('first new instance launched', rounds.map((r) => r.launchMs), 'decision + one launcher tick');
  row('every new node warm in the entry\'s view', rounds.map((r) => r.warmMs), 'launch + agent start + engine cold start + one heartbeat');
  row('back to the minimum once idle (from the load stop)', rounds.map((r) => r.downMs), `≥ the scale-in window ${o.inWindowMs} + (steps − 1) × cooldown ${cooldown}`);
  console.log(`\nstreams: ${rounds.reduce((a, r) => a + r.ok, 0)} whole, 0 failed`);
  printSim(o);
}

function printSim(o: Opts): void {
  const sim = simStep(o.simSeeds);
  const row = (name: string, values: number[], anchor: string) => {
    const s = summarize(values);
    console.log(`| ${name} | ${fmtMs(s.p50)} | ${fmtMs(s.max)} | ${anchor} |`);
  };
  console.log(`\nsimulator, a load step (\`--traffic step\`, ${o.simSeeds} seeds): ${sim.config}`);
  console.log('\n| from the load step, simulated (ms) | p50 | max | anchor |\n|---|---|---|---|');
  row('first scale-out decided', sim.decideMs, 'the scale-out window + one 10 s sample');
  row('as many agents serving as the largest move decided', sim.warmMs, 'its decision + the modelled cold start (+ rechecks while placements are short)');
}
