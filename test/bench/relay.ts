import { readFileSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { Agent as HttpAgent, request } from 'node:http';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { AgentProcess } from '../harness/agent-process.js';
import { waitHealthy } from '../harness/engine-fleet.js';
import { TestFleet } from '../harness/fleet.js';
import { freePort } from '../harness/ports.js';
import { CPU_PROF_PRELOAD } from './forward.js';
import { fmtMs, summarize } from './stats.js';

/**
 * `npm run bench -- relay [--streams 64] [--tokens 2000] [--tokens-per-s 100] [--profile-dir DIR]`
 *
 * Token relay: `--streams` concurrent streamed chat completions of `--tokens` tokens each
 * (`ignore_eos`), from a fake engine that decodes at `--tokens-per-s` per sequence, read three
 * ways with the same node:http client: from the engine directly, through the agent that runs it
 * (local), and through a gateway-only agent that relays over libp2p (remote). For each path: the
 * gaps between consecutive tokens as the client receives them (p50, p99; the relay's cost is
 * the path's gap minus direct's), and the agents' CPU per 1,000 relayed tokens (from
 * /proc/<pid>/stat). Target (issue 15): the relay adds < 2 ms to p99 inter-token latency.
 * `--profile-dir` runs both agents under a CPU profiler (one .cpuprofile per process, at exit).
 */

const MODEL = 'synkti/fake-model';
const TARGET_ADDED_P99_MS = 2;
const CLK_TCK = 100;

interface Opts { streams: number; tokens: number; tokensPerS: number; profileDir: string | undefined }
interface PathResult { path: string; gaps: ReturnType<typeof summarize>; tokens: number; errors: number; cpuMsPer1k: number | null; seconds: number }

const log = (msg: string) => console.error(`[relay-bench] ${msg}`);

function parse(argv: string[]): Opts {
  const { values } = parseArgs({ args: argv, options: { streams: { type: 'string' }, tokens: { type: 'string' }, 'tokens-per-s': { type: 'string' }, 'profile-dir': { type: 'string' } } });
  const n = (v: string | undefined, d: number, max: number) => {
    const x = v === undefined ? d : Number(v);
    if (!Number.isInteger(x) || x < 1 || x > max) throw new Error(`expected a whole number 1..${max}, got ${v}`);
    return x;
  };
  return { streams: n(values.streams, 64, 512), tokens: n(values.tokens, 2000, 100_000), tokensPerS: n(values['tokens-per-s'], 100, 10_000), profileDir: values['profile-dir'] };
}

/** CPU seconds (user + system) a process has used, from /proc; null when it is gone. */
function cpuSeconds(pid: number | undefined): number | null {
  if (pid === undefined) return null;
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    return (Number(fields[11]) + Number(fields[12])) / CLK_TCK;
  } catch {
    return null;
  }
}

/** One streamed completion: the arrival time of every token event, or an error. */
function stream(url: URL, agent: HttpAgent, tokens: number): Promise<number[]> {
  const body = JSON.stringify({ model: MODEL, messages: [{ role: 'user', content: 'Count.' }], max_tokens: tokens, ignore_eos: true, stream: true });
  return new Promise((resolve, reject) => {
    const req = request(url, { method: 'POST', agent, headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) }, timeout: 300_000 }, (res) => {
      if (res.statusCode !== 200) {
        res.resume();
        return reject(new Error(`HTTP ${res.statusCode}`));
      }
      const times: number[] = [];
      let pending = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        const now = performance.now();
        pending += chunk;
        const events = pending.split('\n\n');
        pending = events.pop()!;
        for (const e of events) if (e.startsWith('data: ') && e.includes('"content":"') && !e.includes('"content":""')) times.push(now);
      });
      res.on('end', () => (times.length >= tokens ? resolve(times) : reject(new Error(`stream ended after ${times.length} of ${tokens} tokens`))));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.on('timeout', () => req.destroy(new Error('timed out')));
    req.end(body);
  });
}

async function runPath(path: string, url: URL, o: Opts, pids: (number | undefined)[]): Promise<PathResult> {
  const agent = new HttpAgent({ keepAlive: true, maxSockets: o.streams });
  const cpu0 = pids.map(cpuSeconds);
  const t0 = performance.now();
  const results = await Promise.allSettled(Array.from({ length: o.streams }, () => stream(url, agent, o.tokens)));
  const seconds = (performance.now() - t0) / 1000;
  const cpu1 = pids.map(cpuSeconds);
  agent.destroy();
  const gaps: number[] = [];
  let tokens = 0;
  let errors = 0;
  for (const r of results) {
    if (r.status === 'rejected') {
      errors++;
      continue;
    }
    tokens += r.value.length;
    for (let i = 1; i < r.value.length; i++) gaps.push(r.value[i]! - r.value[i - 1]!);
  }
  const used = cpu0.every((c, i) => c !== null && cpu1[i] !== null) ? cpu1.reduce<number>((s, c, i) => s + (c! - cpu0[i]!), 0) : null;
  return { path, gaps: summarize(gaps), tokens, errors, cpuMsPer1k: pids.length === 0 || used === null || tokens === 0 ? null : (used * 1000) / (tokens / 1000), seconds };
}

export async function main(argv: string[]): Promise<void> {
  const o = parse(argv);
  const fleet = await TestFleet.create('synkti-relay-bench-');
  const load0 = loadavg();
  const results: PathResult[] = [];
  try {
    const enginePort = await freePort();
    if (o.profileDir !== undefined) {
      await mkdir(o.profileDir, { recursive: true });
      await writeFile(join(o.profileDir, 'cpu-prof.mjs'), CPU_PROF_PRELOAD);
    }
    const profileDir = o.profileDir;
    const start = async (name: string, args: string[], bootstrap: string[]): Promise<AgentProcess> => {
      if (profileDir === undefined) return fleet.startAgent(name, args, bootstrap);
      const agent = new AgentProcess({ stateDir: join(fleet.dir, name), swarmKeyFile: fleet.swarmKeyFile, bootstrap, args, env: { NODE_OPTIONS: `--import=${join(profileDir, 'cpu-prof.mjs')}`, SYNKTI_CPU_PROF_DIR: join(profileDir, name) } });
      fleet.agents.push(agent);
      return agent.start(60_000);
    };
    const b = await start('b', ['--engine-runtime', 'fake', '--engine-port', String(enginePort), '--engine-capacity', '512', `--engine-args=--ttft-ms=0,--tokens-per-s=${o.tokensPerS},--max-num-seqs=512`], []);
    const a = await start('a', ['--engine-runtime', 'none'], b.addrs);
    await waitHealthy(a, 1, 60_000);
    await waitHealthy(b, 1, 60_000);
    const paths: [string, string, (number | undefined)[]][] = [
      ['direct', `http://127.0.0.1:${enginePort}/v1/chat/completions`, []],
      ['local', `${b.apiUrl}/v1/chat/completions`, [b.child?.pid]],
      ['remote', `${a.apiUrl}/v1/chat/completions`, [a.child?.pid, b.child?.pid]],
    ];
    // Warm every path (JIT, sockets, the mux stream) with a short round first.
    for (const [, url] of paths) await runPath('warm-up', new URL(url), { ...o, tokens: 50, streams: 8 }, []);
    for (const [name, url, pids] of paths) {
      log(`${name}: ${o.streams} streams × ${o.tokens} tokens at ${o.tokensPerS} tokens/s`);
      const r = await runPath(name, new URL(url), o, pids);
      log(`${name}: gaps p50 ${fmtMs(r.gaps.p50)} p99 ${fmtMs(r.gaps.p99)} ms, ${r.tokens} tokens, ${r.errors} errors, ${r.seconds.toFixed(1)} s`);
      results.push(r);
    }
  } finally {
    await fleet.close();
  }
  const load1 = loadavg();
  console.log(`\nToken relay — ${new Date().toISOString()}, ${cpus().length} CPUs, Node ${process.version}, load ${load0.map((x) => x.toFixed(2)).join(' ')} at start, ${load1.map((x) => x.toFixed(2)).join(' ')} at end`);
  console.log(`fake engine at ${o.tokensPerS} tokens/s per sequence; ${o.streams} concurrent streams × ${o.tokens} tokens (ignore_eos) per path; client node:http in this process, same cores\n`);
  console.log('| path | inter-token p50 | p99 | added p50 | added p99 | agent CPU per 1,000 tokens | tokens | errors |\n|---|---|---|---|---|---|---|---|');
  const direct = results.find((r) => r.path === 'direct')!;
  for (const r of results) {
    const added = (q: 'p50' | 'p99') => (r === direct ? '' : `${r.gaps[q] - direct.gaps[q] >= 0 ? '+' : ''}${fmtMs(r.gaps[q] - direct.gaps[q])}`);
    console.log(`| ${r.path} | ${fmtMs(r.gaps.p50)} | ${fmtMs(r.gaps.p99)} | ${added('p50')} | ${added('p99')} | ${r.cpuMsPer1k === null ? '' : `${r.cpuMsPer1k.toFixed(1)} ms`} | ${r.tokens} | ${r.errors} |`);
  }
  const failed = results.reduce((n, r) => n + r.errors, 0);
  if (failed > 0) {
    console.log(`\nREFUSED: ${failed} stream(s) failed; the gaps of a relay that loses streams are not a verdict`);
    process.exitCode = 1;
    return;
  }
  for (const path of ['local', 'remote']) {
    const r = results.find((x) => x.path === path)!;
    const added = r.gaps.p99 - direct.gaps.p99;
    console.log(`${added < TARGET_ADDED_P99_MS ? 'met   ' : 'MISSED'} ${path} relay adds ${added.toFixed(2)} ms to p99 inter-token latency (target < ${TARGET_ADDED_P99_MS} ms)`);
  }
}
