import { spawnSync } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { Agent as HttpAgent, request } from 'node:http';
import { basename, join } from 'node:path';
import { cpus, loadavg, tmpdir } from 'node:os';
import { parseArgs } from 'node:util';
import type { AgentProcess } from '../harness/agent-process.js';
import { TestFleet } from '../harness/fleet.js';
import { repoRoot } from '../harness/paths.js';
import { signalGroup } from '../harness/agent-process.js';
import { enginePidOf } from '../harness/streams.js';
import { waitFor } from '../harness/wait.js';
import { LLAMA_MODEL, LLAMA_TIMINGS, SLOTS, startLlamaAgent } from '../engine-real/llama.js';
import { PATHS, type PathName, signed, startNginx, stopChild } from './forward.js';
import { fmtMs, type Summary, summarize } from './stats.js';

/**
 * `npm run bench -- forward --engine llama [--concurrency 1,4] [--requests 100] [--streams 24]
 *   [--max-tokens 64] [--rounds 12] [--cell-seconds 12] [--paths direct,nginx,local,remote] [--json]`
 * (also `npm run bench -- forward-llama …`)
 *
 * The forward bench's four paths — direct, nginx on loopback, the agent that runs the engine
 * (local), a gateway-only agent forwarding over libp2p (remote) — with a real llama.cpp
 * `llama-server` (scripts/install-llama.mjs: a tiny random-weight model with Qwen2's tokenizer,
 * `--parallel 4` slots = the gossiped capacity, one decoding thread, flash attention off, as the
 * real-engine test lane runs it), so the overhead is measured beside real decode timing and
 * not the emulator's timers. Per path and concurrency level:
 * - plain: a non-streamed chat completion of `PLAIN_MAX_TOKENS`, latency until the body ended;
 * - stream: a streamed one of `--max-tokens`, time to the first token (the first content chunk:
 *   agents send nothing before it, llama-server sends a role chunk first), the tokens per second
 *   delivered to the client over the cell, and the gap between successive token chunks as the
 *   client reads them (pooled over the cell's streams).
 * Requests are at temperature 0 on one prompt, so every answer has a known text: a response
 * that is not 200, not served by the engine's agent, or whose text, token count, finish reason
 * or usage differs from direct's reference makes its cell invalid (the reason is printed, no
 * figure). A cell runs in `--rounds` rounds, path after path in each round, so drift in the
 * machine's load hits every path alike; each cell is capped at `--cell-seconds`.
 */

const PLAIN_MAX_TOKENS = 4;
const PROMPT = 'Say hi.';
const MODES = ['plain', 'stream'] as const;
const REQUEST_TIMEOUT_MS = 30_000;
const JOIN_TIMEOUT_MS = 60_000;
/** Fewer samples than this and a p99 says nothing: the cell is marked invalid. */
const MIN_SAMPLES = 10;
/** design.md §4 anchors, ms over direct at c = 1 unless said. */
const TARGET = { localOverNginxMs: 0.2, remoteP50Ms: 1, remoteP99Ms: 3, relayGapP99Ms: 2, throughputShare: 0.8 };

type Mode = (typeof MODES)[number];

interface Options {
  concurrency: number[];
  requests: number;
  streams: number;
  maxTokens: number;
  rounds: number;
  cellSeconds: number;
  paths: PathName[];
  json: boolean;
}

function parseOptions(argv: string[]): Options {
  const { values } = parseArgs({
    args: argv,
    options: {
      engine: { type: 'string', default: 'llama' },
      concurrency: { type: 'string', default: `1,${SLOTS}` },
      requests: { type: 'string', default: '100' },
      streams: { type: 'string', default: '24' },
      'max-tokens': { type: 'string', default: '64' },
      rounds: { type: 'string', default: '12' },
      'cell-seconds': { type: 'string', default: '12' },
      paths: { type: 'string', default: PATHS.join(',') },
      json: { type: 'boolean', default: false },
    },
  });
  const positive = (name: string, v: string) => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < 1) throw new Error(`--${name} ${v}: a positive integer, please`);
    return n;
  };
  const paths = values.paths.split(',').filter((p): p is PathName => (PATHS as readonly string[]).includes(p));
  if (!paths.includes('direct')) paths.unshift('direct');
  return {
    concurrency: values.concurrency.split(',').map((c) => positive('concurrency', c)),
    requests: positive('requests', values.requests),
    streams: positive('streams', values.streams),
    maxTokens: positive('max-tokens', values['max-tokens']),
    rounds: positive('rounds', values.rounds),
    cellSeconds: positive('cell-seconds', values['cell-seconds']),
    paths: PATHS.filter((p) => paths.includes(p)),
    json: values.json,
  };
}

/**
 * Where scripts/install-llama.mjs put llama-server and the model, or why it cannot say. Never
 * builds (a build takes 8–12 min): `--check` exits 3 when nothing is installed.
 */
function installedLlama(): { ok: true; server: string; model: string; serverVersion: string } | { ok: false; reason: string } {
  const r = spawnSync(process.execPath, [join(repoRoot, 'scripts/install-llama.mjs'), '--check', '--json'], { encoding: 'utf8', timeout: 60_000 });
  if (r.status !== 0) {
    const last = (r.stderr ?? '').trim().split('\n').filter((l) => l !== '').pop();
    return { ok: false, reason: last ?? (r.error?.message ?? `install-llama.mjs --check exited ${r.status}`) };
  }
  const record = JSON.parse(r.stdout.trim().split('\n').pop() ?? '{}') as { server: string; model: string; serverVersion?: string };
  return { ok: true, server: record.server, model: record.model, serverVersion: record.serverVersion ?? 'unknown version' };
}

interface Target {
  name: PathName;
  url: URL;
  agent: HttpAgent;
  expectPeer?: string;
}

interface Sample {
  /** Plain: until the body ended. Stream: until the first token chunk. */
  first: number;
  total: number;
  tokens: number;
  /** Stream: ms between successive token chunks as read by the client. */
  gaps: number[];
  text: string;
}

/** What every answer must be: direct's answer to the same request (temperature 0). */
interface Reference {
  plain?: string;
  stream?: string;
}

function body(mode: Mode, maxTokens: number): Buffer {
  const common = { model: LLAMA_MODEL, messages: [{ role: 'user', content: PROMPT }], temperature: 0 };
  return Buffer.from(JSON.stringify(mode === 'plain' ? { ...common, max_tokens: PLAIN_MAX_TOKENS } : { ...common, max_tokens: maxTokens, stream: true, stream_options: { include_usage: true } }));
}

interface Choice {
  finish_reason?: string | null;
  delta?: { content?: string | null };
  message?: { content?: string | null };
}
interface Payload {
  choices?: Choice[];
  usage?: { completion_tokens?: number } | null;
  error?: unknown;
}

/** Checks an answer against what it must be; the reason it is not, or undefined. */
function wrongAnswer(mode: Mode, expectTokens: number, s: { text: string; tokens: number; usage: number | undefined; finish: string | undefined; done: boolean }, reference: string | undefined): string | undefined {
  if (mode === 'stream' && !s.done) return 'stream ended without [DONE]';
  if (s.finish !== 'length') return `finish_reason ${String(s.finish)}, expected length`;
  if (s.usage !== expectTokens) return `usage says ${String(s.usage)} tokens, expected ${expectTokens}`;
  if (mode === 'stream' && s.tokens !== expectTokens) return `${s.tokens} token chunks, expected ${expectTokens}`;
  if (reference !== undefined && s.text !== reference) return `text differs from direct's: ${JSON.stringify(s.text.slice(0, 60))}`;
  return undefined;
}

/** A request whose connection was reset before any answer; `reused`: on a kept-alive socket. */
class ResetBeforeAnswer extends Error {
  constructor(message: string, readonly reused: boolean) {
    super(message);
  }
}
/** Re-sends after a stale socket, at most: one per pooled socket and one more. */
const MAX_RESENDS = 8;

/**
 * One POST over the target's keep-alive agent, its answer read and checked in full.
 * llama-server closes the connection after each streamed answer without saying so (no
 * `Connection: close`), so the next request on that socket gets a reset before any answer; a
 * client does what Node's docs advise (re-send on `reusedSocket` and ECONNRESET), and the
 * sample is timed from the re-send, on a new connection. Now and then (1 in ~100 at c=4) it
 * also resets a new connection before answering: re-sent too. Both are counted and printed
 * per path, so a path that needs them is not hidden.
 */
async function send(target: Target, mode: Mode, maxTokens: number, reference: string | undefined, resent: Resent): Promise<Sample> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await sendOnce(target, mode, maxTokens, reference);
    } catch (err) {
      if (!(err instanceof ResetBeforeAnswer) || attempt >= MAX_RESENDS) throw err;
      if (err.reused) resent.reused++;
      else resent.fresh++;
    }
  }
}

interface Resent {
  /** Re-sent after a reset on a kept-alive socket (closed by the server after its last answer). */
  reused: number;
  /** Re-sent after a reset on a new connection. */
  fresh: number;
}

function sendOnce(target: Target, mode: Mode, maxTokens: number, reference: string | undefined): Promise<Sample> {
  const payload = body(mode, maxTokens);
  const expectTokens = mode === 'plain' ? PLAIN_MAX_TOKENS : maxTokens;
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    let answered = false;
    const req = request(
      {
        agent: target.agent,
        host: target.url.hostname,
        port: target.url.port,
        path: target.url.pathname,
        method: 'POST',
        headers: { 'content-type': 'application/json', 'content-length': payload.byteLength },
        timeout: REQUEST_TIMEOUT_MS,
      },
      (res) => {
        answered = true;
        const peer = res.headers['x-synkti-peer'];
        let failure: string | undefined;
        if (res.statusCode !== 200) failure = `status ${res.statusCode}`;
        else if (target.expectPeer !== undefined && peer !== target.expectPeer) failure = `served by ${String(peer)}, expected ${target.expectPeer}`;
        let raw = '';
        let pending = '';
        let first = Number.NaN;
        let last = Number.NaN;
        const gaps: number[] = [];
        const s = { text: '', tokens: 0, usage: undefined as number | undefined, finish: undefined as string | undefined, done: false };
        const onEvent = (data: string, at: number) => {
          if (data === '[DONE]') {
            s.done = true;
            return;
          }
          const event = JSON.parse(data) as Payload;
          if (event.error !== undefined) throw new Error(`error event: ${JSON.stringify(event.error).slice(0, 200)}`);
          if (typeof event.usage?.completion_tokens === 'number') s.usage = event.usage.completion_tokens;
          for (const choice of event.choices ?? []) {
            const piece = choice.delta?.content;
            if (typeof piece === 'string' && piece !== '') {
              s.text += piece;
              s.tokens++;
              if (Number.isNaN(first)) first = at - t0;
              else gaps.push(at - last);
              last = at;
            }
            if (typeof choice.finish_reason === 'string') s.finish = choice.finish_reason;
          }
        };
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => {
          const at = performance.now();
          if (failure !== undefined || mode === 'plain') {
            if (raw.length < 1_000_000) raw += chunk;
            return;
          }
          pending += chunk;
          const events = pending.split(/\r?\n\r?\n/);
          pending = events.pop()!;
          try {
            for (const e of events) {
              const data = e.split(/\r?\n/).filter((l) => l.startsWith('data:')).map((l) => l.slice(5).trim()).join('\n');
              if (data !== '') onEvent(data, at);
            }
          } catch (err) {
            failure ??= (err as Error).message;
          }
        });
        res.on('end', () => {
          const total = performance.now() - t0;
          if (failure === undefined && mode === 'plain') {
            try {
              const answer = JSON.parse(raw) as Payload;
              const choice = answer.choices?.[0];
              s.text = choice?.message?.content ?? '';
              s.finish = choice?.finish_reason ?? undefined;
              s.usage = answer.usage?.completion_tokens;
              s.tokens = s.usage ?? 0;
              first = total;
            } catch (err) {
              failure = `unreadable body: ${(err as Error).message}`;
            }
          }
          failure ??= wrongAnswer(mode, expectTokens, s, reference);
          if (failure !== undefined) reject(new Error(`${failure}${raw !== '' && res.statusCode !== 200 ? `: ${raw.replace(/\s+/g, ' ').slice(0, 200)}` : ''}`));
          else resolve({ first, total, tokens: s.tokens, gaps, text: s.text });
        });
        res.on('error', reject);
      },
    );
    req.on('timeout', () => req.destroy(new Error('request timed out')));
    req.on('error', (err: NodeJS.ErrnoException) => {
      const reset = !answered && (err.code === 'ECONNRESET' || err.message === 'socket hang up');
      reject(reset ? new ResetBeforeAnswer(err.message, req.reusedSocket) : err);
    });
    req.end(payload);
  });
}

interface Batch {
  samples: Sample[];
  errors: number;
  /** Requests re-sent after a reset before any answer (see send). */
  resent: Resent;
  firstError?: string;
  elapsedS: number;
}

/** Up to `n` requests, `concurrency` at a time, until `maxSeconds` have passed. */
async function runBatch(target: Target, mode: Mode, concurrency: number, n: number, maxSeconds: number, maxTokens: number, reference: string | undefined): Promise<Batch> {
  const batch: Batch = { samples: [], errors: 0, resent: { reused: 0, fresh: 0 }, elapsedS: 0 };
  let issued = 0;
  const start = performance.now();
  const deadline = start + maxSeconds * 1000;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (issued < n && performance.now() < deadline) {
        issued++;
        try {
          batch.samples.push(await send(target, mode, maxTokens, reference, batch.resent));
        } catch (err) {
          batch.errors++;
          batch.firstError ??= (err as Error).message;
        }
      }
    }),
  );
  batch.elapsedS = (performance.now() - start) / 1000;
  return batch;
}

interface Cell {
  path: PathName;
  mode: Mode;
  concurrency: number;
  /** Why no figure may be printed for this cell, or null. */
  invalid: string | null;
  requests: number;
  errors: number;
  /** Requests re-sent on a new connection after a reset before any answer. */
  resent: Resent;
  /** Plain: until the body ended. Stream: time to the first token. */
  latency: Summary;
  /** Stream: until the stream ended. */
  total: Summary;
  rps: number;
  /** Stream: token chunks delivered to the client per second over the cell. */
  tokensPerS: number;
  /** Stream: gap between successive token chunks. */
  gap: Summary;
  elapsedS: number;
}

function toCell(path: PathName, mode: Mode, concurrency: number, batches: Batch[]): Cell {
  const samples = batches.flatMap((b) => b.samples);
  const errors = batches.reduce((s, b) => s + b.errors, 0);
  const firstError = batches.find((b) => b.firstError !== undefined)?.firstError;
  const elapsedS = batches.reduce((s, b) => s + b.elapsedS, 0);
  let invalid: string | null = null;
  if (errors > 0) invalid = `${errors} of ${errors + samples.length} requests failed (first: ${firstError})`;
  else if (samples.length < MIN_SAMPLES) invalid = `only ${samples.length} requests completed in the time allowed (at least ${MIN_SAMPLES} needed)`;
  return {
    path,
    mode,
    concurrency,
    invalid,
    requests: samples.length + errors,
    errors,
    resent: { reused: batches.reduce((s, b) => s + b.resent.reused, 0), fresh: batches.reduce((s, b) => s + b.resent.fresh, 0) },
    latency: summarize(samples.map((s) => s.first)),
    total: summarize(samples.map((s) => s.total)),
    rps: samples.length / elapsedS,
    tokensPerS: samples.reduce((s, x) => s + x.tokens, 0) / elapsedS,
    gap: summarize(samples.flatMap((s) => s.gaps)),
    elapsedS,
  };
}

interface LlamaForwardResult {
  date: string;
  machine: { cpus: number; node: string; loadavgAtStart: number[]; loadavgAtEnd: number[] };
  engine: string;
  client: string;
  nginx: string | null;
  cells: Cell[];
  verdicts: string[];
  /** Warm-up requests that failed, per path and kind: printed, not fatal. */
  warmupFailures: string[];
  durationS: number;
}

const cellOf = (cells: Cell[], path: PathName, mode: Mode, c: number) => cells.find((x) => x.path === path && x.mode === mode && x.concurrency === c);
const valid = (cell: Cell | undefined): cell is Cell => cell !== undefined && cell.invalid === null;

function formatTable(r: LlamaForwardResult, options: Options): string {
  const head = `${'path'.padEnd(7)} ${'c'.padStart(2)} | ${'plain p50'.padStart(9)} ${'p99'.padStart(6)} ${'req/s'.padStart(6)} ${'+p50'.padStart(7)} | ${'TTFT p50'.padStart(8)} ${'p99'.padStart(6)} ${'+p50'.padStart(7)} | ${'tok/s'.padStart(6)} ${'share'.padStart(5)} | ${'gap p50'.padStart(7)} ${'p99'.padStart(6)} ${'+p99'.padStart(7)} | n`;
  const lines = [head];
  const notes: string[] = [];
  for (const c of options.concurrency) {
    for (const path of options.paths) {
      const plain = cellOf(r.cells, path, 'plain', c);
      const stream = cellOf(r.cells, path, 'stream', c);
      if (plain === undefined || stream === undefined) continue;
      const dPlain = cellOf(r.cells, 'direct', 'plain', c);
      const dStream = cellOf(r.cells, 'direct', 'stream', c);
      const over = (x: number, base: number | undefined) => (path === 'direct' ? '' : base === undefined ? 'n/a' : signed(x - base));
      const plainCols = valid(plain)
        ? `${fmtMs(plain.latency.p50).padStart(9)} ${fmtMs(plain.latency.p99).padStart(6)} ${plain.rps.toFixed(0).padStart(6)} ${over(plain.latency.p50, valid(dPlain) ? dPlain.latency.p50 : undefined).padStart(7)}`
        : `${'invalid'.padStart(9)} ${''.padStart(6)} ${''.padStart(6)} ${''.padStart(7)}`;
      const base = valid(dStream) ? dStream : undefined;
      const streamCols = valid(stream)
        ? `${fmtMs(stream.latency.p50).padStart(8)} ${fmtMs(stream.latency.p99).padStart(6)} ${over(stream.latency.p50, base?.latency.p50).padStart(7)} | ${stream.tokensPerS.toFixed(0).padStart(6)} ${(path === 'direct' ? '' : base === undefined ? 'n/a' : `${((stream.tokensPerS / base.tokensPerS) * 100).toFixed(0)}%`).padStart(5)} | ${fmtMs(stream.gap.p50).padStart(7)} ${fmtMs(stream.gap.p99).padStart(6)} ${over(stream.gap.p99, base?.gap.p99).padStart(7)}`
        : `${'invalid'.padStart(8)} ${''.padStart(6)} ${''.padStart(7)} | ${''.padStart(6)} ${''.padStart(5)} | ${''.padStart(7)} ${''.padStart(6)} ${''.padStart(7)}`;
      lines.push(`${path.padEnd(7)} ${String(c).padStart(2)} | ${plainCols} | ${streamCols} | ${plain.requests}/${stream.requests}`);
      for (const cell of [plain, stream]) if (cell.invalid !== null) notes.push(`INVALID ${cell.path} ${cell.mode} c=${cell.concurrency}: ${cell.invalid}`);
    }
  }
  for (const path of options.paths) {
    const cells = r.cells.filter((x) => x.path === path);
    const reused = cells.reduce((s, x) => s + x.resent.reused, 0);
    const fresh = cells.reduce((s, x) => s + x.resent.fresh, 0);
    if (reused + fresh > 0) notes.push(`${path}: of ${cells.reduce((s, x) => s + x.requests, 0)} requests, ${reused} met a kept-alive socket the server had closed and ${fresh} a new connection reset before any answer; each was re-sent on a new connection and timed from the re-send`);
  }
  for (const failure of r.warmupFailures) notes.push(`warm-up: ${failure}`);
  return [...lines, ...(notes.length > 0 ? ['', ...notes] : [])].join('\n');
}

function verdicts(cells: Cell[], options: Options): string[] {
  const out: string[] = [];
  const over = (path: PathName, mode: Mode, c: number, q: (x: Cell) => number) => {
    const x = cellOf(cells, path, mode, c);
    const base = cellOf(cells, 'direct', mode, c);
    return valid(x) && valid(base) ? q(x) - q(base) : undefined;
  };
  const line = (label: string, value: number | undefined, met: (v: number) => boolean, shown: (v: number) => string, target: string) => {
    if (value === undefined) out.push(`n/a    ${label}: a cell it needs is invalid or was not run (target ${target})`);
    else out.push(`${met(value) ? 'met   ' : 'MISSED'} ${label}: ${shown(value)} (target ${target})`);
  };
  const ms = (v: number) => `${v >= 0 ? '+' : ''}${v.toFixed(2)} ms`;
  const p50 = (x: Cell) => x.latency.p50;
  const p99 = (x: Cell) => x.latency.p99;
  for (const mode of MODES) {
    const what = mode === 'plain' ? 'plain' : 'TTFT';
    const nginx = over('nginx', mode, 1, p50);
    const local = over('local', mode, 1, p50);
    if (nginx !== undefined) out.push(`floor  nginx hop, ${what} p50 over direct, c=1: ${ms(nginx)}${nginx < 0 ? ' (below zero: the hop is within the noise of this run)' : ''}`);
    if (options.paths.includes('local')) {
      // The limit is nginx's hop + the allowance; a hop that measures below zero counts as 0.
      const limit = nginx === undefined ? undefined : Math.max(0, nginx) + TARGET.localOverNginxMs;
      line(`local hop, ${what} p50 over direct, c=1`, limit === undefined ? undefined : local, (v) => v <= limit!, ms, `<= nginx's hop + ${TARGET.localOverNginxMs} ms = ${limit === undefined ? 'n/a' : `${limit.toFixed(2)} ms`}`);
    }
    if (options.paths.includes('remote')) line(`remote hop, ${what} p50 over direct, c=1`, over('remote', mode, 1, p50), (v) => v < TARGET.remoteP50Ms, ms, `< ${TARGET.remoteP50Ms} ms`);
  }
  if (options.paths.includes('remote')) line('remote hop, plain p99 over direct p99, c=1', over('remote', 'plain', 1, p99), (v) => v < TARGET.remoteP99Ms, ms, `< ${TARGET.remoteP99Ms} ms`);
  const top = Math.max(...options.concurrency);
  const note = top < 64 ? ` (design: 64 streams on a 256-sequence engine; here c=${top}, llama-server's ${SLOTS} slots)` : '';
  for (const path of ['local', 'remote'] as const) {
    if (!options.paths.includes(path)) continue;
    line(`${path}: relaying ${top} streams, inter-token gap p99 over direct${note}`, over(path, 'stream', top, (x) => x.gap.p99), (v) => v < TARGET.relayGapP99Ms, ms, `< ${TARGET.relayGapP99Ms} ms`);
    const x = cellOf(cells, path, 'stream', top);
    const base = cellOf(cells, 'direct', 'stream', top);
    const share = valid(x) && valid(base) ? x.tokensPerS / base.tokensPerS : undefined;
    line(`${path}: tokens/s delivered at c=${top}, share of direct${note}`, share, (v) => v >= TARGET.throughputShare, (v) => `${(v * 100).toFixed(0)} %`, `>= ${TARGET.throughputShare * 100} %`);
  }
  return out;
}

export async function main(argv: string[]): Promise<void> {
  const options = parseOptions(argv);
  const install = installedLlama();
  if (!install.ok) {
    console.error(`bench forward --engine llama: llama-server is not installed (${install.reason})`);
    process.exit(3);
  }
  const log = (msg: string) => {
    if (!options.json) console.error(msg);
  };
  const started = performance.now();
  const result: LlamaForwardResult = {
    date: new Date().toISOString(),
    machine: { cpus: cpus().length, node: process.version, loadavgAtStart: loadavg(), loadavgAtEnd: [] },
    engine: `llama-server ${install.serverVersion.replace(/^version: /, '')}, ${basename(install.model)}, --parallel ${SLOTS} --threads 1 --flash-attn off; temperature 0, one prompt; plain max_tokens ${PLAIN_MAX_TOKENS}, stream max_tokens ${options.maxTokens}`,
    client: `node:http, keep-alive Agent per path, in the bench process on the same cores; ${options.rounds} rounds per cell, paths in turn`,
    nginx: null,
    cells: [],
    verdicts: [],
    warmupFailures: [],
    durationS: 0,
  };
  const dir = await mkdtemp(join(tmpdir(), 'synkti-bench-forward-llama-'));
  const fleet = await TestFleet.create('synkti-bench-forward-llama-fleet-');
  let nginx: Awaited<ReturnType<typeof startNginx>> = null;
  let enginePid: number | undefined;
  const targets: Target[] = [];
  let cleaned: Promise<void> | undefined;
  const cleanup = () => {
    cleaned ??= (async () => {
      for (const t of targets) t.agent.destroy();
      if (nginx !== null) await stopChild(nginx.child);
      await fleet.close();
      // The agent stops its engine; should it not have, the engine's group (ours) goes too.
      if (enginePid !== undefined) signalGroup(enginePid, 'SIGKILL');
      await rm(dir, { recursive: true, force: true });
    })();
    return cleaned;
  };
  const onSignal = (signal: NodeJS.Signals) => void cleanup().finally(() => process.exit(signal === 'SIGINT' ? 130 : 143));
  process.once('SIGTERM', onSignal);
  process.once('SIGINT', onSignal);
  try {
    // B supervises llama-server; A runs no engine, so all it gets crosses libp2p to B.
    const { agent: b, enginePort } = await startLlamaAgent(fleet, 'b', install);
    enginePid = await enginePidOf(b);
    const a: AgentProcess = await fleet.startAgent('a', [...LLAMA_TIMINGS, '--engine-runtime', 'none'], b.addrs);
    await waitFor('llama-server warm', () => b.logs.find((l) => l['msg'] === 'engine state' && l['to'] === 'warm'), JOIN_TIMEOUT_MS);
    for (const observer of [a, b]) {
      await waitFor('B healthy with the model, as its peers see it', async () => ((await observer.fleet()).peers.some((p) => p.peerId === b.peerId && p.healthy && p.models.includes(LLAMA_MODEL)) ? true : undefined), JOIN_TIMEOUT_MS);
    }
    log(`agents up: A ${a.peerId} (no engine), B ${b.peerId} (llama-server pid ${enginePid} on :${enginePort})`);
    if (options.paths.includes('nginx')) {
      // llama-server closes the connection after each stream, unasked: with nginx's defaults a
      // POST sent on that kept-alive upstream connection fails with 502 (seen: 1 in 10 streams).
      nginx = await startNginx(dir, enginePort, { retryPost: true });
      result.nginx = nginx?.version ?? null;
      if (nginx === null) log('nginx not installed: skipping that path');
    }
    const urls: Record<PathName, string | undefined> = {
      direct: `http://127.0.0.1:${enginePort}/v1/chat/completions`,
      nginx: nginx === null ? undefined : `http://127.0.0.1:${nginx.port}/v1/chat/completions`,
      local: `${b.apiUrl}/v1/chat/completions`,
      remote: `${a.apiUrl}/v1/chat/completions`,
      // The minimal Node relay and the one-stream protocol are measured on the fake engine only.
      node: undefined,
      'remote-1s': undefined,
    };
    for (const name of options.paths) {
      const url = urls[name];
      if (url === undefined) continue;
      targets.push({ name, url: new URL(url), agent: new HttpAgent({ keepAlive: true, maxSockets: Math.max(...options.concurrency) }), ...(name === 'local' || name === 'remote' ? { expectPeer: b.peerId } : {}) });
    }

    // Direct's answers are the reference every path must reproduce, then each path warms up
    // (keep-alive sockets, the agents' pooled streams, llama-server's prompt cache).
    const reference: Reference = {};
    for (const mode of MODES) {
      const first = await runBatch(targets[0]!, mode, 1, 1, 30, options.maxTokens, undefined);
      if (first.samples.length !== 1) throw new Error(`direct ${mode} reference request failed: ${first.firstError}`);
      reference[mode] = first.samples[0]!.text;
    }
    for (const target of targets) {
      for (const mode of MODES) {
        for (const c of options.concurrency) {
          const warm = await runBatch(target, mode, c, mode === 'plain' ? 4 * c : 2 * c, 30, options.maxTokens, reference[mode]);
          // A path that fails here is measured all the same: its cells say how often it fails.
          if (warm.errors > 0) result.warmupFailures.push(`${target.name}: ${warm.errors} of ${warm.samples.length + warm.errors} warm-up requests (${mode}, c=${c}) failed (first: ${warm.firstError})`);
        }
      }
    }
    log('warmed up; measuring');
    for (const mode of MODES) {
      for (const c of options.concurrency) {
        const n = (mode === 'plain' ? options.requests : options.streams) * c;
        const batches = new Map<PathName, Batch[]>(targets.map((t) => [t.name, []]));
        for (let round = 0; round < options.rounds; round++) {
          for (const target of targets) {
            batches.get(target.name)!.push(await runBatch(target, mode, c, Math.ceil(n / options.rounds), options.cellSeconds / options.rounds, options.maxTokens, reference[mode]));
          }
        }
        for (const target of targets) {
          const cell = toCell(target.name, mode, c, batches.get(target.name)!);
          result.cells.push(cell);
          log(`${mode} c=${c} ${target.name}: ${cell.invalid ?? `p50 ${fmtMs(cell.latency.p50)} p99 ${fmtMs(cell.latency.p99)} ms${mode === 'stream' ? `, ${cell.tokensPerS.toFixed(0)} tok/s, gap p50 ${fmtMs(cell.gap.p50)} p99 ${fmtMs(cell.gap.p99)} ms` : ''}, ${cell.requests} requests in ${cell.elapsedS.toFixed(1)} s`}`);
        }
      }
    }
  } finally {
    await cleanup();
    process.off('SIGTERM', onSignal);
    process.off('SIGINT', onSignal);
  }
  result.machine.loadavgAtEnd = loadavg();
  result.durationS = (performance.now() - started) / 1000;
  result.verdicts = verdicts(result.cells, options);

  if (options.json) {
    console.log(JSON.stringify(result, null, 2));
    return;
  }
  const load = (l: number[]) => l.map((x) => x.toFixed(2)).join(' ');
  console.log(`\nForwarding overhead, real engine — ${result.date}, ${result.machine.cpus} CPUs, Node ${result.machine.node}, load avg (1/5/15 min) at start ${load(result.machine.loadavgAtStart)}, at end ${load(result.machine.loadavgAtEnd)}; run took ${result.durationS.toFixed(0)} s`);
  console.log(`engine: ${result.engine}; ${result.nginx ?? 'nginx not installed'}`);
  console.log(`client: ${result.client}`);
  console.log('ms; plain = non-streamed, until the body ended; TTFT = streamed, until the first token chunk; +p50/+p99 = over direct at the same c;');
  console.log('tok/s = token chunks delivered per second over the cell (share = of direct\'s); gap = between successive token chunks of a stream; n = plain/stream requests\n');
  console.log(formatTable(result, options));
  console.log(`\n${result.verdicts.join('\n')}`);
  const invalid = result.cells.filter((c) => c.invalid !== null).length;
  if (invalid > 0) console.log(`\n${invalid} cell(s) invalid: no figure printed for them`);
}
