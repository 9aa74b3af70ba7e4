import { type ChildProcess, spawn } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { Agent as HttpAgent, request } from 'node:http';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { AgentProcess } from '../harness/agent-process.js';
import { waitHealthy } from '../harness/engine-fleet.js';
import { TestFleet } from '../harness/fleet.js';
import { freePort } from '../harness/ports.js';
import { waitFor } from '../harness/wait.js';
import { formatMeshBench, type MeshBenchResult, runMeshBench } from './forward-mesh.js';
import { fmtMs, type Summary, summarize } from './stats.js';

/**
 * `npm run bench -- forward [--requests 2000] [--requests-concurrent 4000] [--json] [--no-mesh]
 *   [--paths direct,nginx,local,remote] [--cell-seconds 20] [--profile-dir dir] [--engine fake|llama] [--no-relay]`
 *
 * (Unless --no-relay, the token-relay cell of `bench relay` runs after the hop cells, in the same run.)
 * One fake engine that answers at once (`--ttft-ms=0 --tokens-per-s=0`), reached four ways
 * with the same keep-alive node:http client: directly; through nginx on loopback; through the
 * agent that runs it (its own engine); through a gateway-only agent that forwards over libp2p
 * to that agent. For each: latency of a non-streamed chat completion and time to the first
 * `data:` chunk of a streamed one, at concurrency 1, 16 and 64, and requests per second.
 * Concurrency levels are run path after path (interleaved) so slow drift hits every path alike.
 * `--profile-dir` runs both agents under `--cpu-prof` (profiles are written on exit).
 *
 * `--engine llama` runs the same four paths with a real llama.cpp `llama-server` as the engine
 * instead (forward-llama.ts: its own flags, cells and table); the fake engine stays the default.
 */

const MODEL = 'synkti/fake-model';
const MAX_TOKENS = 4;
const CONCURRENCIES = [1, 16, 64] as const;
const MODES = ['plain', 'stream'] as const;
/**
 * `node`: a minimal node:http relay (test/harness/node-proxy.ts), the floor for a hop written in
 * Node as nginx is for one in C. `remote` forwards over the peer's mux stream (the default);
 * `remote-1s` over a stream per request (forwardMux off), for comparison.
 */
export const PATHS = ['direct', 'nginx', 'node', 'local', 'remote', 'remote-1s'] as const;
const NGINX = '/usr/sbin/nginx';
const REQUEST_TIMEOUT_MS = 10_000;
const WARMUP_CONCURRENT = 600;
const WARMUP_SERIAL = 300;
const JOIN_TIMEOUT_MS = 60_000;
/** Design targets (design.md §4), ms over direct at c = 1, and the c = 64 throughput share. */
const TARGET = { localP50Ms: 0.2, remoteP50Ms: 1, remoteAimP50Ms: 0.6, remoteP99Ms: 3, throughputShare: 0.8 };

type Mode = (typeof MODES)[number];
export type PathName = (typeof PATHS)[number];

interface Target {
  name: PathName;
  url: URL;
  agent: HttpAgent;
  /** The peer that must serve (x-synkti-peer), for agent paths. */
  expectPeer?: string;
}

interface Cell {
  path: PathName;
  mode: Mode;
  concurrency: number;
  /** Non-streamed: until the body ended. Streamed: until the first `data:` chunk. */
  latency: Summary;
  /** Streamed only: until the stream ended. */
  total?: Summary;
  rps: number;
  errors: number;
  firstError?: string;
  elapsedS: number;
}

interface ForwardBenchResult {
  date: string;
  machine: { cpus: number; node: string; loadavgAtStart: number[] };
  engine: string;
  client: string;
  cells: Cell[];
  nginx: string | null;
  mesh: MeshBenchResult | null;
}

interface Options {
  requests: number;
  requestsConcurrent: number;
  cellSeconds: number;
  json: boolean;
  mesh: boolean;
  paths: PathName[];
  profileDir: string | undefined;
  /** Also run the token-relay cell (`bench relay`: 64 streams × 2,000 tokens) after the hop cells. */
  relay: boolean;
}

function parseOptions(argv: string[]): Options {
  const { values } = parseArgs({
    args: argv,
    options: {
      requests: { type: 'string', default: '2000' },
      'requests-concurrent': { type: 'string', default: '4000' },
      'cell-seconds': { type: 'string', default: '20' },
      json: { type: 'boolean', default: false },
      'no-mesh': { type: 'boolean', default: false },
      paths: { type: 'string', default: PATHS.join(',') },
      'profile-dir': { type: 'string' },
      engine: { type: 'string', default: 'fake' },
      'no-relay': { type: 'boolean', default: false },
    },
  });
  const paths = values.paths.split(',').filter((p): p is PathName => (PATHS as readonly string[]).includes(p));
  if (!paths.includes('direct')) paths.unshift('direct');
  return {
    requests: Number(values.requests),
    requestsConcurrent: Number(values['requests-concurrent']),
    cellSeconds: Number(values['cell-seconds']),
    json: values.json,
    mesh: !values['no-mesh'],
    paths: PATHS.filter((p) => paths.includes(p)),
    profileDir: values['profile-dir'],
    relay: !values['no-relay'],
  };
}

const bodies: Record<Mode, Buffer> = {
  plain: Buffer.from(JSON.stringify({ model: MODEL, messages: [{ role: 'user', content: 'Say hi.' }], max_tokens: MAX_TOKENS })),
  stream: Buffer.from(JSON.stringify({ model: MODEL, messages: [{ role: 'user', content: 'Say hi.' }], max_tokens: MAX_TOKENS, stream: true })),
};

interface Timing {
  first: number;
  total: number;
}

/** One POST over the target's keep-alive agent; times the first `data:` chunk and the end. */
function send(target: Target, mode: Mode): Promise<Timing> {
  const body = bodies[mode];
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    let first = Number.NaN;
    const req = request(
      {
        agent: target.agent,
        host: target.url.hostname,
        port: target.url.port,
        path: target.url.pathname,
        method: 'POST',
        headers: { 'content-type': 'application/json', 'content-length': body.byteLength },
        timeout: REQUEST_TIMEOUT_MS,
      },
      (res) => {
        const peer = res.headers['x-synkti-peer'];
        let failure: string | undefined;
        if (res.statusCode !== 200) failure = `status ${res.statusCode}`;
        else if (target.expectPeer !== undefined && peer !== target.expectPeer) failure = `served by ${String(peer)}, expected ${target.expectPeer}`;
        let errorBody = '';
        res.on('data', (chunk: Buffer) => {
          if (Number.isNaN(first) && (mode === 'plain' || chunk.includes('data:'))) first = performance.now() - t0;
          if (failure !== undefined && errorBody.length < 300) errorBody += chunk.toString();
        });
        res.on('end', () => (failure === undefined ? resolve({ first, total: performance.now() - t0 }) : reject(new Error(`${failure}: ${errorBody.slice(0, 300)}`))));
        res.on('error', reject);
      },
    );
    req.on('timeout', () => req.destroy(new Error('request timed out')));
    req.on('error', reject);
    req.end(body);
  });
}

async function runCell(target: Target, mode: Mode, concurrency: number, n: number, maxSeconds: number): Promise<Cell> {
  const firsts: number[] = [];
  const totals: number[] = [];
  let issued = 0;
  let errors = 0;
  let firstError: string | undefined;
  const start = performance.now();
  const deadline = start + maxSeconds * 1000;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (issued < n && performance.now() < deadline) {
        issued++;
        try {
          const t = await send(target, mode);
          firsts.push(t.first);
          totals.push(t.total);
        } catch (err) {
          errors++;
          firstError ??= (err as Error).message;
        }
      }
    }),
  );
  const elapsedS = (performance.now() - start) / 1000;
  return {
    path: target.name,
    mode,
    concurrency,
    latency: summarize(mode === 'plain' ? totals : firsts),
    ...(mode === 'stream' ? { total: summarize(totals) } : {}),
    rps: totals.length / elapsedS,
    errors,
    ...(firstError !== undefined ? { firstError } : {}),
    elapsedS,
  };
}

/**
 * nginx in front of the engine, or null when it is not installed. `retryPost`: re-send a request
 * whose kept-alive upstream connection failed (`proxy_next_upstream … non_idempotent`; nginx
 * retries only idempotent methods by default), for an engine that closes connections unasked.
 */
export async function startNginx(dir: string, enginePort: number, options: { retryPost?: boolean } = {}): Promise<{ port: number; child: ChildProcess; version: string } | null> {
  try {
    await readFile(NGINX);
  } catch {
    return null;
  }
  const port = await freePort();
  const prefix = join(dir, 'nginx');
  await mkdir(prefix, { recursive: true });
  const conf = join(prefix, 'nginx.conf');
  await writeFile(
    conf,
    `daemon off; worker_processes 1; pid ${join(prefix, 'nginx.pid')}; error_log ${join(prefix, 'error.log')} warn;
events { worker_connections 1024; }
http { access_log off;
  upstream e { server 127.0.0.1:${enginePort}; keepalive 64; }
  server { listen 127.0.0.1:${port};
    location / { proxy_pass http://e; proxy_http_version 1.1; proxy_set_header Connection ""; proxy_buffering off;${options.retryPost === true ? ' proxy_next_upstream error timeout non_idempotent;' : ''} } } }
`,
  );
  const child = spawn(NGINX, ['-c', conf, '-p', prefix, '-e', join(prefix, 'error.log')], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => {
    stderr += d.toString();
  });
  await waitFor('nginx to answer', async () => {
    if (child.exitCode !== null) throw new Error(`nginx exited ${child.exitCode}: ${stderr}`);
    const res = await fetch(`http://127.0.0.1:${port}/v1/models`, { signal: AbortSignal.timeout(1_000) });
    await res.arrayBuffer();
    return res.ok ? true : undefined;
  }, 10_000);
  return { port, child, version: `nginx/1.22 (Debian), 1 worker, upstream keepalive 64${options.retryPost === true ? ', proxy_next_upstream error timeout non_idempotent' : ''}` };
}

export async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGQUIT');
  const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
  await exited;
  clearTimeout(timer);
}

/** The minimal Node relay (test/harness/node-proxy.ts) in front of the engine. */
async function startNodeProxy(enginePort: number): Promise<{ port: number; child: ChildProcess }> {
  const port = await freePort();
  const script = fileURLToPath(new URL('../harness/node-proxy.js', import.meta.url));
  const child = spawn(process.execPath, [script, String(port), String(enginePort)], { stdio: ['ignore', 'pipe', 'inherit'] });
  await new Promise<void>((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`node-proxy exited ${code}`)));
    child.stdout!.once('data', () => resolve());
  });
  child.removeAllListeners('exit');
  return { port, child };
}

/** Preloaded into each agent (and the engine it spawns) with --profile-dir; writes on exit. */
export const CPU_PROF_PRELOAD = `import { Session } from 'node:inspector';
import { mkdirSync, writeFileSync } from 'node:fs';
const dir = process.env.SYNKTI_CPU_PROF_DIR;
const session = new Session();
session.connect();
session.post('Profiler.enable');
session.post('Profiler.setSamplingInterval', { interval: 200 });
session.post('Profiler.start');
process.once('exit', () => {
  session.post('Profiler.stop', (err, res) => {
    if (err || !dir) return;
    mkdirSync(dir, { recursive: true });
    writeFileSync(dir + '/' + process.pid + '.cpuprofile', JSON.stringify(res.profile));
  });
});
`;

/** Agent B runs the engine; agent A runs none, so everything it gets crosses libp2p to B. */
async function startAgents(fleet: TestFleet, profileDir: string | undefined, withLegacy: boolean): Promise<{ a: AgentProcess; b: AgentProcess; c: AgentProcess | undefined; enginePort: number }> {
  const enginePort = await freePort();
  // Node 20 refuses --cpu-prof in NODE_OPTIONS; a preloaded inspector session does the same.
  if (profileDir !== undefined) {
    await mkdir(profileDir, { recursive: true });
    await writeFile(join(profileDir, 'cpu-prof.mjs'), CPU_PROF_PRELOAD);
  }
  const env = (name: string): Record<string, string> =>
    profileDir === undefined ? {} : { NODE_OPTIONS: `--import=${join(profileDir, 'cpu-prof.mjs')}`, SYNKTI_CPU_PROF_DIR: join(profileDir, name) };
  const start = async (name: string, args: string[], bootstrap: string[]) => {
    const agent = new AgentProcess({ stateDir: join(fleet.dir, name), swarmKeyFile: fleet.swarmKeyFile, bootstrap, args, env: env(name) });
    fleet.agents.push(agent);
    return agent.start(JOIN_TIMEOUT_MS);
  };
  const b = await start('b', ['--engine-runtime', 'fake', '--engine-port', String(enginePort), '--engine-capacity', '256', '--engine-args=--ttft-ms=0,--tokens-per-s=0,--max-num-seqs=256'], []);
  const a = await start('a', ['--engine-runtime', 'none'], b.addrs);
  // C forwards like A but over a stream per request: the protocol before mux, measured beside it.
  const c = withLegacy ? await start('c', ['--engine-runtime', 'none', '--forward-mux', 'false'], b.addrs) : undefined;
  await waitHealthy(a, 1, JOIN_TIMEOUT_MS);
  await waitHealthy(b, 1, JOIN_TIMEOUT_MS);
  if (c !== undefined) await waitHealthy(c, 1, JOIN_TIMEOUT_MS);
  return { a, b, c, enginePort };
}

export const signed = (ms: number) => (ms < 0 ? `-${fmtMs(-ms)}` : `+${fmtMs(ms)}`);

const cellOf = (cells: Cell[], path: PathName, mode: Mode, c: number) => cells.find((x) => x.path === path && x.mode === mode && x.concurrency === c);

function formatTable(r: ForwardBenchResult): string {
  const lines: string[] = [];
  lines.push(`${'path'.padEnd(9)} ${'c'.padStart(3)} | ${'plain p50'.padStart(9)} ${'p99'.padStart(7)} ${'req/s'.padStart(7)} ${'+p50'.padStart(7)} | ${'TTFT p50'.padStart(9)} ${'p99'.padStart(7)} ${'req/s'.padStart(7)} ${'+p50'.padStart(7)} | errors`);
  for (const c of CONCURRENCIES) {
    for (const path of PATHS) {
      const plain = cellOf(r.cells, path, 'plain', c);
      const stream = cellOf(r.cells, path, 'stream', c);
      if (plain === undefined || stream === undefined) continue;
      const over = (cell: Cell, mode: Mode) => (path === 'direct' ? '' : signed(cell.latency.p50 - cellOf(r.cells, 'direct', mode, c)!.latency.p50));
      lines.push(
        `${path.padEnd(9)} ${String(c).padStart(3)} | ${fmtMs(plain.latency.p50).padStart(9)} ${fmtMs(plain.latency.p99).padStart(7)} ${plain.rps.toFixed(0).padStart(7)} ${over(plain, 'plain').padStart(7)} | ${fmtMs(stream.latency.p50).padStart(9)} ${fmtMs(stream.latency.p99).padStart(7)} ${stream.rps.toFixed(0).padStart(7)} ${over(stream, 'stream').padStart(7)} | ${plain.errors + stream.errors}${plain.firstError ?? stream.firstError ? ` (${plain.firstError ?? stream.firstError})` : ''}`,
      );
    }
  }
  return lines.join('\n');
}

function verdicts(r: ForwardBenchResult): string[] {
  const out: string[] = [];
  const d = (path: PathName, mode: Mode, c: number, q: 'p50' | 'p99') => {
    const x = cellOf(r.cells, path, mode, c);
    const base = cellOf(r.cells, 'direct', mode, c);
    return x === undefined || base === undefined ? undefined : x.latency[q] - base.latency[q];
  };
  const check = (label: string, value: number | undefined, limit: number, unit = 'ms') => {
    if (value === undefined) return;
    const met = unit === 'ms' ? value < limit : value >= limit;
    out.push(`${met ? 'met   ' : 'MISSED'} ${label}: ${unit === 'ms' ? `${value.toFixed(3)} ms` : `${(value * 100).toFixed(0)} %`} (target ${unit === 'ms' ? `< ${Number(limit.toFixed(3))} ms` : `>= ${limit * 100} %`})`);
  };
  // The local target is relative: nginx's own hop + 0.2 ms (absolute 0.2 ms only without nginx).
  const nginxHop = (mode: Mode) => d('nginx', mode, 1, 'p50');
  const localLimit = (mode: Mode) => (nginxHop(mode) ?? 0) + TARGET.localP50Ms;
  const overNginx = (mode: Mode) => (nginxHop(mode) === undefined ? ' (nginx absent: absolute)' : ` (nginx's hop ${nginxHop(mode)!.toFixed(3)} ms + ${TARGET.localP50Ms})`);
  check(`local hop, plain p50 over direct, c=1${overNginx('plain')}`, d('local', 'plain', 1, 'p50'), localLimit('plain'));
  check(`local hop, TTFT p50 over direct, c=1${overNginx('stream')}`, d('local', 'stream', 1, 'p50'), localLimit('stream'));
  check('remote hop, plain p50 over direct, c=1', d('remote', 'plain', 1, 'p50'), TARGET.remoteP50Ms);
  check('remote hop, plain p50 over direct, c=1 (aim)', d('remote', 'plain', 1, 'p50'), TARGET.remoteAimP50Ms);
  check('remote hop, plain p99 over direct p99, c=1', d('remote', 'plain', 1, 'p99'), TARGET.remoteP99Ms);
  check('remote hop, TTFT p50 over direct, c=1', d('remote', 'stream', 1, 'p50'), TARGET.remoteP50Ms);
  check('remote-1s hop (a stream per request), plain p50 over direct, c=1', d('remote-1s', 'plain', 1, 'p50'), TARGET.remoteP50Ms);
  const nginx = d('nginx', 'plain', 1, 'p50');
  if (nginx !== undefined) out.push(`floor  nginx hop, plain p50 over direct, c=1: ${nginx.toFixed(3)} ms`);
  const node = d('node', 'plain', 1, 'p50');
  if (node !== undefined) out.push(`floor  minimal Node relay hop, plain p50 over direct, c=1: ${node.toFixed(3)} ms`);
  for (const path of ['nginx', 'node'] as const) {
    const x = cellOf(r.cells, path, 'plain', 64);
    const base = cellOf(r.cells, 'direct', 'plain', 64);
    if (x !== undefined && base !== undefined && base.rps > 0) out.push(`floor  ${path === 'node' ? 'minimal Node relay' : 'nginx'} throughput at c=64, share of direct: ${((x.rps / base.rps) * 100).toFixed(0)} %`);
  }
  for (const mode of MODES) {
    for (const path of ['local', 'remote', 'remote-1s'] as const) {
      const x = cellOf(r.cells, path, mode, 64);
      const base = cellOf(r.cells, 'direct', mode, 64);
      if (x !== undefined && base !== undefined) check(`${path} agent throughput at c=64, ${mode === 'plain' ? 'plain' : 'streamed'}, share of direct`, x.rps > 0 ? x.rps / base.rps : 0, TARGET.throughputShare, '%');
    }
  }
  return out;
}

export async function main(argv: string[]): Promise<void> {
  const { engine } = parseArgs({ args: argv, options: { engine: { type: 'string', default: 'fake' } }, strict: false }).values;
  if (engine === 'llama') return (await import('./forward-llama.js')).main(argv);
  if (engine !== 'fake') throw new Error(`--engine ${String(engine)}: use fake (default) or llama`);
  const options = parseOptions(argv);
  const result: ForwardBenchResult = {
    date: new Date().toISOString(),
    machine: { cpus: cpus().length, node: process.version, loadavgAtStart: loadavg() },
    engine: `fake-vllm --ttft-ms=0 --tokens-per-s=0 --max-num-seqs=256, max_tokens ${MAX_TOKENS}`,
    client: 'node:http, keep-alive Agent (maxSockets 64) per path, in the bench process on the same cores',
    cells: [],
    nginx: null,
    mesh: null,
  };
  const dir = await mkdtemp(join(tmpdir(), 'synkti-bench-forward-'));
  const fleet = await TestFleet.create('synkti-bench-forward-fleet-');
  let nginx: Awaited<ReturnType<typeof startNginx>> = null;
  const children: ChildProcess[] = [];
  const targets: Target[] = [];
  const log = (msg: string) => {
    if (!options.json) console.error(msg);
  };
  let cleaned: Promise<void> | undefined;
  const cleanup = () => {
    cleaned ??= (async () => {
      for (const t of targets) t.agent.destroy();
      if (nginx !== null) await stopChild(nginx.child);
      for (const child of children) await stopChild(child);
      await fleet.close();
      await rm(dir, { recursive: true, force: true });
    })();
    return cleaned;
  };
  // `timeout` and Ctrl-C must not leave agents, engines or nginx behind.
  const onSignal = (signal: NodeJS.Signals) => void cleanup().finally(() => process.exit(signal === 'SIGINT' ? 130 : 143));
  process.once('SIGTERM', onSignal);
  process.once('SIGINT', onSignal);
  try {
    const { a, b, c, enginePort } = await startAgents(fleet, options.profileDir, options.paths.includes('remote-1s'));
    log(`agents up: A ${a.peerId} (no engine), B ${b.peerId} (engine on :${enginePort})`);
    if (options.paths.includes('nginx')) {
      nginx = await startNginx(dir, enginePort);
      result.nginx = nginx?.version ?? null;
      if (nginx === null) log('nginx not installed: skipping that path');
    }
    const nodeProxy = options.paths.includes('node') ? await startNodeProxy(enginePort) : undefined;
    if (nodeProxy !== undefined) children.push(nodeProxy.child);
    const agentFor = () => new HttpAgent({ keepAlive: true, maxSockets: Math.max(...CONCURRENCIES) });
    const urls: Record<PathName, string | undefined> = {
      direct: `http://127.0.0.1:${enginePort}/v1/chat/completions`,
      nginx: nginx === null ? undefined : `http://127.0.0.1:${nginx.port}/v1/chat/completions`,
      node: nodeProxy === undefined ? undefined : `http://127.0.0.1:${nodeProxy.port}/v1/chat/completions`,
      local: `${b.apiUrl}/v1/chat/completions`,
      remote: `${a.apiUrl}/v1/chat/completions`,
      'remote-1s': c === undefined ? undefined : `${c.apiUrl}/v1/chat/completions`,
    };
    for (const name of options.paths) {
      const url = urls[name];
      if (url === undefined) continue;
      targets.push({ name, url: new URL(url), agent: agentFor(), ...(name !== 'direct' && name !== 'nginx' && name !== 'node' ? { expectPeer: b.peerId } : {}) });
    }
    for (const target of targets) {
      for (const mode of MODES) {
        const warm = [await runCell(target, mode, 16, WARMUP_CONCURRENT, options.cellSeconds), await runCell(target, mode, 1, WARMUP_SERIAL, options.cellSeconds)];
        const failed = warm.find((w) => w.errors > 0);
        if (failed !== undefined) throw new Error(`warm-up of ${target.name} (${mode}) failed: ${failed.errors} errors, first: ${failed.firstError}`);
      }
    }
    log('warmed up; measuring');
    for (const mode of MODES) {
      for (const concurrency of CONCURRENCIES) {
        for (const target of targets) {
          const n = concurrency === 1 ? options.requests : options.requestsConcurrent;
          const cell = await runCell(target, mode, concurrency, n, options.cellSeconds);
          result.cells.push(cell);
          log(`${mode} c=${concurrency} ${target.name}: p50 ${fmtMs(cell.latency.p50)} p99 ${fmtMs(cell.latency.p99)} ms, ${cell.rps.toFixed(0)} req/s, ${cell.errors} errors`);
        }
      }
    }
  } finally {
    await cleanup();
    process.off('SIGTERM', onSignal);
    process.off('SIGINT', onSignal);
  }
  if (options.mesh) {
    log('mesh micro-benchmark');
    result.mesh = await runMeshBench(options.requests);
  }

  if (options.json) {
    console.log(JSON.stringify({ ...result, verdicts: verdicts(result) }, null, 2));
    if (options.relay) console.error('the token-relay cell has no JSON output: run `npm run bench -- relay` for it');
    return;
  }
  console.log(`\nForwarding overhead — ${result.date}, ${result.machine.cpus} CPUs, Node ${result.machine.node}, load avg at start ${result.machine.loadavgAtStart.map((x) => x.toFixed(2)).join(' ')}`);
  console.log(`engine: ${result.engine}; client: ${result.client}; ${result.nginx ?? 'nginx not installed'}`);
  console.log('ms; "plain" = non-streamed completion, until the body ended; TTFT = streamed, until the first data: chunk; +p50 = median over direct\n');
  console.log(formatTable(result));
  console.log(`\n${verdicts(result).join('\n')}`);
  if (result.mesh !== null) console.log(`\n${formatMeshBench(result.mesh)}`);
  if (options.relay) {
    // The token-relay cell of the same run (its own fleet, after this one has stopped).
    console.log('\nToken relay (the same as `npm run bench -- relay`):');
    await (await import('./relay.js')).main([]);
  }
}
