import { cpus, loadavg } from 'node:os';
import { parseArgs } from 'node:util';

import { type FakeEngineAgent, startEngineAgent, waitHealthy } from '../harness/engine-fleet.js';
import { TestFleet } from '../harness/fleet.js';
import { signalGroup } from '../harness/agent-process.js';
import { enginePidOf, loseNode, MODEL, referenceText, startReferenceEngine, streamCompletion } from '../harness/streams.js';
import { fmtMs, summarize } from './stats.js';

/**
 * `npm run bench -- migration [--losses 20] [--streams 16] [--serving 4] [--mode kill|freeze] [--migration-limit 3] [--json]`
 *
 * One gateway-only entry agent and `--serving` agents with emulated engines (100 tokens/s per
 * stream). `--streams` clients stream 1,000-token chat completions through the entry, back to
 * back. Every 2 s a serving node that is serving is lost — `kill`: its agent and engine
 * SIGKILLed (the loss shows as a closed connection); `freeze`: both SIGSTOPped (only the stall
 * timeout finds it) — and a new agent joins in its place, until `--losses` serving nodes have
 * been lost. The entry runs the agent's default `migrationLimit` (3) unless told. Reports, side by side with the targets: the gap the clients saw at each migration
 * (client clocks: the longest silence of each migrated stream), the tokens carried (re-prefilled
 * on top of the prompt) per migration, and failed and truncated streams (must be 0).
 */

const TOKENS = 1_000;
const TOKENS_PER_S = 100;
/** Deadlines of the entry agent in this bench: the freeze variant is bounded by them. */
const STALL_MS = 2_000;
const log = (msg: string) => console.error(`[migration-bench] ${msg}`);
const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

interface Options {
  losses: number;
  streams: number;
  serving: number;
  mode: 'kill' | 'freeze';
  migrationLimit: number;
  json: boolean;
}

function parse(argv: string[]): Options {
  const { values } = parseArgs({ args: argv, options: { losses: { type: 'string', default: '20' }, streams: { type: 'string', default: '16' }, serving: { type: 'string', default: '4' }, mode: { type: 'string', default: 'kill' }, 'migration-limit': { type: 'string', default: '3' }, json: { type: 'boolean', default: false } } });
  const mode = values.mode;
  if (mode !== 'kill' && mode !== 'freeze') throw new Error('--mode must be kill or freeze');
  const opts = { losses: Number(values.losses), streams: Number(values.streams), serving: Number(values.serving), mode, migrationLimit: Number(values['migration-limit']), json: values.json } as Options;
  for (const k of ['losses', 'streams', 'serving', 'migrationLimit'] as const) if (!Number.isInteger(opts[k]) || opts[k] < 1 || opts[k] > 200) throw new Error(`--${k} must be an integer 1..200`);
  return opts;
}

interface StreamRecord {
  requestId: string | null;
  gapMs: number;
  ok: boolean;
  truncated: boolean;
  error: string | null;
}

export async function main(argv: string[]): Promise<void> {
  const opts = parse(argv);
  const fleet = await TestFleet.create('synkti-bench-migration-');
  const reference = await startReferenceEngine();
  const started = new Date();
  const frozen: { pid: number; group: boolean }[] = [];
  try {
    const entry = (await startEngineAgent(fleet, 'entry', [], ['--engine-runtime', 'none', '--stream-stall-timeout-ms', String(STALL_MS), '--first-token-timeout-ms', String(STALL_MS), '--migration-limit', String(opts.migrationLimit)])).agent;
    const engineArgs = [`--tokens-per-s=${TOKENS_PER_S}`];
    let serving: FakeEngineAgent[] = [];
    let joined = 0;
    const join = async () => serving.push(await startEngineAgent(fleet, `s${joined++}`, engineArgs, ['--engine-capacity', '64']));
    for (let i = 0; i < opts.serving; i++) await join();
    await waitHealthy(entry, opts.serving, 60_000);
    let stop = false;
    let next = 0;
    const records: StreamRecord[] = [];
    const references = new Map<number, Promise<string>>();
    const referenceOf = (i: number) => {
      if (!references.has(i)) references.set(i, referenceText(reference, 'chat', body(i)));
      return references.get(i)!;
    };
    const clients = Array.from({ length: opts.streams }, async () => {
      while (!stop) {
        const i = next++;
        let last = performance.now();
        let gap = 0;
        const r = await streamCompletion(entry.apiUrl, 'chat', body(i), () => {
          const now = performance.now();
          gap = Math.max(gap, now - last);
          last = now;
        });
        const whole = r.error === null && r.contentChunks === TOKENS && r.finishReasons.length === 1 && r.sawDone && !r.sawErrorEvent && r.text === (await referenceOf(i));
        records.push({ requestId: r.requestId, gapMs: gap, ok: whole, truncated: r.error === null && !whole, error: r.error?.message ?? null });
      }
    });
    const migrationsBefore = () => entry.logs.filter((l) => l['msg'] === 'stream migrated').length;
    let losses = 0;
    const deadline = Date.now() + 15 * 60_000;
    await sleep(2_000);
    while (losses < opts.losses && Date.now() < deadline) {
      const busy = serving.filter((s) => s.agent.child?.exitCode === null);
      const victim = busy[losses % busy.length]!;
      serving = serving.filter((s) => s !== victim);
      if (opts.mode === 'kill') await loseNode(victim.agent);
      else {
        const pid = await enginePidOf(victim.agent);
        frozen.push({ pid, group: true }, { pid: victim.agent.pid, group: false });
        signalGroup(pid, 'SIGSTOP');
        victim.agent.kill('SIGSTOP');
      }
      losses++;
      log(`loss ${losses} (${opts.mode}): ${victim.agent.peerId.slice(-8)}; migrations so far ${migrationsBefore()}`);
      await join();
      await sleep(2_000);
    }
    if (losses < opts.losses) throw new Error(`only ${losses} of ${opts.losses} losses within the bench's 15 minutes: no figures`);
    stop = true;
    await Promise.all(clients);
    const migrated = entry.logs.filter((l) => l['msg'] === 'stream migrated');
    const lost = entry.logs.filter((l) => l['msg'] === 'stream lost; the client gets an error event and an aborted connection').length;
    const carried = summarize(migrated.map((l) => Number(l['tokensCarried'])));
    // Client clocks: the longest silence of each migrated stream; entry clock: last token before the loss to the first after.
    const migratedIds = new Set(migrated.map((l) => l['requestId']));
    const gaps = summarize(records.filter((r) => migratedIds.has(r.requestId)).map((r) => r.gapMs));
    const entryGaps = summarize(migrated.map((l) => Number(l['gapMs'])));
    // Of that gap, the part before the entry agent knew the upstream was gone.
    const detect = summarize(migrated.map((l) => Number(l['detectMs'])));
    const machine = { cpus: cpus().length, cpuModel: cpus()[0]?.model ?? 'unknown', node: process.version, loadavgAtEnd: loadavg().map((l) => l.toFixed(2)) };
    const result = { date: started.toISOString(), mode: opts.mode, migrationLimit: opts.migrationLimit, losses, migrations: migrated.length, streams: records.length, failed: records.filter((r) => r.error !== null).length, truncated: records.filter((r) => r.truncated).length, lostLogged: lost, gapMs: gaps, entryGapMs: entryGaps, detectMs: detect, tokensCarried: carried, machine };
    if (opts.json) {
      process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
      return;
    }
    const target = opts.mode === 'kill' ? '< 1,000 ms p50' : `≤ stall timeout ${STALL_MS} ms + 1 s`;
    process.stdout.write(
      `${result.date} · ${machine.cpus} × ${machine.cpuModel} · Node ${machine.node} · load at end ${machine.loadavgAtEnd.join(' ')}\n` +
        `mode ${opts.mode}: ${losses} serving nodes lost under ${opts.streams} concurrent streams (${TOKENS} tokens at ${TOKENS_PER_S}/s, migrationLimit ${opts.migrationLimit}); ${migrated.length} migrations; ${records.length} streams\n\n` +
        `| figure | measured | target |\n|---|---|---|\n` +
        `| gap the client saw, p50 / p99 / max (longest silence of each of ${gaps.count} migrated streams) | ${fmtMs(gaps.p50)} / ${fmtMs(gaps.p99)} / ${fmtMs(gaps.max)} ms | ${target} |\n` +
        `| gap per migration at the entry agent, p50 / p99 / max (${entryGaps.count} migrations) | ${fmtMs(entryGaps.p50)} / ${fmtMs(entryGaps.p99)} / ${fmtMs(entryGaps.max)} ms | ${target} |\n` +
        `| of which until the entry agent saw the break, p50 / p99 | ${fmtMs(detect.p50)} / ${fmtMs(detect.p99)} ms | — |\n` +
        `| tokens carried (re-prefilled on top of the prompt) per migration, p50 / mean / max | ${carried.p50} / ${carried.mean.toFixed(0)} / ${carried.max} | — |\n` +
        `| failed streams (the client raised) | ${result.failed} | 0 |\n` +
        `| truncated or altered streams | ${result.truncated} | 0 |\n`,
    );
    if (result.failed > 0) for (const r of records.filter((x) => x.error !== null).slice(0, 5)) log(`failed: ${r.error}`);
  } finally {
    for (const { pid, group } of frozen) signalGroup(group ? pid : -pid, 'SIGCONT');
    await fleet.close();
    await reference.stop();
  }
}

function body(i: number): Record<string, unknown> {
  return { model: MODEL, max_tokens: TOKENS, temperature: 0, ignore_eos: true, messages: [{ role: 'user', content: `bench stream ${i}` }] };
}

