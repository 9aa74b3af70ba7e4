import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import type { AgentProcess } from '../harness/agent-process.js';
import type { TestFleet } from '../harness/fleet.js';
import { repoRoot } from '../harness/paths.js';
import { freePort } from '../harness/ports.js';
import { type StreamKind, type StreamResult, streamCompletion } from '../harness/streams.js';

/** The id clients ask for: llama-server's `--alias`. */
export const LLAMA_MODEL = 'synkti/tiny-llama';
/** Slots per engine: `--parallel`, gossiped as capacity. */
export const SLOTS = 4;
/**
 * Agent timings for real engines: a heartbeat of 500 ms, suspicion after 2 s. Three llama-server
 * processes decoding on 2 cores starve the agents now and then; FAST_TIMINGS' 700 ms suspicion
 * would make healthy peers flap.
 */
export const LLAMA_TIMINGS = ['--heartbeat-ms', '500', '--suspect-after-ms', '2000', '--dead-after-ms', '4000', '--forget-after-ms', '30000'];
/** A cold build takes ~8–12 min on 2 cores; CI builds before the tests, so this is a backstop. */
const INSTALL_TIMEOUT_MS = 40 * 60_000;

export type LlamaInstall = { ok: true; server: string; model: string; cacheDir: string } | { ok: false; reason: string };

/**
 * Runs scripts/install-llama.mjs (instant when the cache is there; a build when it is not). When
 * it cannot install — a tool missing, a build that failed, or recorded as failed by CI's install
 * step — the reason is its one line on stderr, and the lane skips with it.
 * SYNKTI_LLAMA_NO_BUILD=1 never builds (skips unless installed).
 */
export function installLlama(): LlamaInstall {
  const script = join(repoRoot, 'scripts/install-llama.mjs');
  const check = spawnSync(process.execPath, [script, '--check'], { encoding: 'utf8', timeout: 60_000 });
  const build = check.status === 3 && process.env['SYNKTI_LLAMA_NO_BUILD'] !== '1';
  // Say so before a build that keeps the lane quiet for minutes (CI builds in .ci/run, before the tests).
  if (build) console.log('# real-engine lane: building llama-server once into the cache (8–12 min on 2 cores): node scripts/install-llama.mjs');
  const r = build || check.status === 0 ? spawnSync(process.execPath, [script, '--json'], { encoding: 'utf8', timeout: INSTALL_TIMEOUT_MS }) : check;
  if (r.status !== 0) {
    const last = (r.stderr ?? '').trim().split('\n').filter((l) => l !== '').pop();
    return { ok: false, reason: last ?? (r.error !== undefined ? `install-llama.mjs: ${r.error.message}` : `install-llama.mjs exited ${r.status}`) };
  }
  const record = JSON.parse(r.stdout.trim().split('\n').pop() ?? '{}') as { server: string; model: string; cacheDir: string };
  return { ok: true, server: record.server, model: record.model, cacheDir: record.cacheDir };
}

export interface LlamaAgent {
  agent: AgentProcess;
  enginePort: number;
  engineUrl: string;
}

/** The agent flags that make it supervise its own llama-server on `enginePort`. */
export function llamaAgentArgs(install: { server: string; model: string }, enginePort: number): string[] {
  return [
    ...LLAMA_TIMINGS,
    '--engine-runtime', 'process',
    '--engine-kind', 'llama.cpp',
    '--engine-command', install.server,
    '--engine-model', install.model,
    '--engine-served-model-name', LLAMA_MODEL,
    '--engine-port', String(enginePort),
    '--engine-capacity', String(SLOTS),
    '--engine-context-per-slot', '2048',
    // One decoding thread each: three engines share 2 cores with the agents and the test.
    // Flash attention off: llama.cpp's CPU flash attention is not batch-invariant, and this
    // random model has near-ties (logit gaps of 1e-4): with it on, the same request at
    // temperature 0 gave another text when decoded beside others (1 in 16 over 300 tokens), so
    // "a continuation equals the uninterrupted text" would test batching luck, not migration.
    '--engine-args=--threads,1,--flash-attn,off',
  ];
}

/**
 * Starts an agent supervising llama-server; `onPort` runs with the engine port before the spawn.
 * It joins through `bootstrap` (default: the fleet's first agent, which a test may have killed).
 */
export async function startLlamaAgent(fleet: TestFleet, name: string, install: { server: string; model: string }, options: { onPort?: (engineUrl: string) => void; bootstrap?: string[] } = {}): Promise<LlamaAgent> {
  const enginePort = await freePort();
  const engineUrl = `http://127.0.0.1:${enginePort}`;
  options.onPort?.(engineUrl);
  const agent = await fleet.startAgent(name, llamaAgentArgs(install, enginePort), options.bootstrap ?? (fleet.agents.length === 0 ? [] : undefined));
  return { agent, enginePort, engineUrl };
}

/** What /health of a starting engine answered, in order, collapsed: e.g. ['refused', 503, 200]. */
export function watchHealth(engineUrl: string, timeoutMs = 120_000): Promise<{ seen: Array<number | 'refused'>; firstOkAt: number }> {
  return (async () => {
    const seen: Array<number | 'refused'> = [];
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      let status: number | 'refused';
      try {
        const res = await fetch(`${engineUrl}/health`, { signal: AbortSignal.timeout(1_000) });
        await res.arrayBuffer();
        status = res.status;
      } catch {
        status = 'refused';
      }
      if (seen.at(-1) !== status) seen.push(status);
      if (status === 200) return { seen, firstOkAt: Date.now() };
      await new Promise((r) => setTimeout(r, 5));
    }
    throw new Error(`${engineUrl}/health never answered 200 (seen: ${seen.join(' → ')})`);
  })();
}

/** POST JSON straight to an engine (no agent), with a deadline. */
export async function engineJson(engineUrl: string, path: string, body: Record<string, unknown>): Promise<{ status: number; json: Record<string, unknown> }> {
  const res = await fetch(`${engineUrl}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body), signal: AbortSignal.timeout(120_000) });
  return { status: res.status, json: (await res.json()) as Record<string, unknown> };
}

/** A stream under way: the peer serving its first attempt (from the head) and its tokens so far. */
export interface TrackedStream {
  peer: string | null;
  tokens: number;
  done: Promise<StreamResult>;
}

/**
 * What streamCompletion reads, with the serving peer and the progress visible while the stream
 * runs: the lane picks its victim among peers serving streams that are under way, not finished.
 */
export function trackedStream(baseUrl: string, kind: StreamKind, params: Record<string, unknown>): TrackedStream {
  const tracked: TrackedStream = { peer: null, tokens: 0, done: Promise.resolve(null as unknown as StreamResult) };
  tracked.done = streamCompletion(baseUrl, kind, params, (n) => (tracked.tokens = n), { timeoutMs: 300_000, onHead: (peer) => (tracked.peer = peer) });
  return tracked;
}

/** A token of the reference answer with its runners-up, as llama-server reports logprobs. */
interface TokenLogprob {
  token: string;
  logprob: number;
  top_logprobs: { token: string; logprob: number }[];
}

/**
 * Two greedy choices this close in log-probability are a tie to the engine's arithmetic: llama.cpp
 * computes a continuation's prompt in one batch (prefill) and the uninterrupted answer one token
 * at a time, and those round differently. Measured on the tiny model: the smallest gap over 500
 * tokens is ~2e-3; a wrong splice lands on some other token, almost never the runner-up this close.
 */
export const NEAR_TIE_LOGPROB = 0.01;

export type Divergence = { atToken: number; gap: number; chosen: string; reference: string };

/**
 * Where `text` leaves the reference answer, when it does: null when they are equal. It may leave it
 * only at a near-tie (the runner-up there is what `text` continues with, within NEAR_TIE_LOGPROB),
 * and not before token `notBefore` (what was sent before the loss came from the uninterrupted run).
 * Anything else throws, naming the place: a migration that dropped, repeated or garbled text.
 */
export function divergence(text: string, reference: readonly TokenLogprob[], notBefore: number): Divergence | null {
  let at = 0;
  for (let k = 0; k < reference.length; k++) {
    const ref = reference[k]!;
    if (text.startsWith(ref.token, at)) {
      at += ref.token.length;
      continue;
    }
    const where = `token ${k} (char ${at}): the stream has ${JSON.stringify(text.slice(at, at + 24))}, the reference ${JSON.stringify(ref.token)}`;
    if (k < notBefore) throw new Error(`the text leaves the uninterrupted answer before the loss, at ${where}`);
    const alt = ref.top_logprobs.find((t) => t.token !== ref.token && text.startsWith(t.token, at));
    if (alt === undefined) throw new Error(`the text leaves the uninterrupted answer at ${where}, which is not the runner-up there`);
    const gap = ref.logprob - alt.logprob;
    if (gap >= NEAR_TIE_LOGPROB) throw new Error(`the text leaves the uninterrupted answer at ${where}: the runner-up, but ${gap.toFixed(4)} below it, no tie`);
    return { atToken: k, gap, chosen: alt.token, reference: ref.token };
  }
  if (at !== text.length) throw new Error(`the text runs on past the uninterrupted answer: ${JSON.stringify(text.slice(at, at + 24))}`);
  return null;
}
