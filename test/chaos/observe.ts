/** What the partition test watches: the provider's ledger, the agents' views and client traffic. */
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { type LocalInstanceRecord, LocalLedger } from '@synkti/cloud';
import type { FleetJson } from '@synkti/gateway';
import { alive } from '../harness/local-up.js';
import { nsOf } from './netns.js';
import { readRuntimeFile } from 'synkti-agent';

export const MODEL = 'synkti/fake-model';
/** Longest any watcher runs, so a failed test cannot leave one spinning. */
const WATCH_MAX_MS = 150_000;
const TRAFFIC_EVERY_MS = 100;
const MAX_IN_FLIGHT = 64;
/** Longer than a partition lasts here: a request stuck on a cut-off peer resolves at the heal (see the slow-request diagnostic). */
const REQUEST_TIMEOUT_MS = 30_000;
const chatBody = JSON.stringify({ model: MODEL, messages: [{ role: 'user', content: 'Hello' }], max_tokens: 8 });

export async function ledgerRecords(dir: string): Promise<LocalInstanceRecord[]> {
  return new LocalLedger(join(dir, 'provider')).instances();
}

export const brief = (records: LocalInstanceRecord[]) => JSON.stringify(records.map((r) => ({ id: r.instanceId, slot: r.slot, replaces: r.replaces, pid: r.pid, alive: alive(r.pid), terminated: r.terminated })));

export async function view(url: string): Promise<FleetJson> {
  return (await (await fetch(`${url}/fleet`, { signal: AbortSignal.timeout(2_000) })).json()) as FleetJson;
}

export const healthyIds = (v: FleetJson) => v.peers.filter((p) => p.healthy).map((p) => p.peerId).sort();

/**
 * Open-loop traffic (a request every TRAFFIC_EVERY_MS, round robin): a request stuck on a
 * cut-off peer must not stop the ones after it from being sent, as it would in a closed loop.
 * Every non-200 or error is a failure.
 */
export function traffic(urls: string[], when: (t: number) => string) {
  const state = { stop: false, ok: [] as { start: number; ms: number }[], failed: [] as string[], inFlight: 0 };
  const deadline = Date.now() + WATCH_MAX_MS;
  const one = async (url: string) => {
    const started = Date.now();
    state.inFlight++;
    try {
      const res = await fetch(`${url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: chatBody, signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS) });
      const text = await res.text();
      if (res.status === 200) state.ok.push({ start: started, ms: Date.now() - started });
      else state.failed.push(`${url} sent ${when(started)}: ${res.status} ${text.slice(0, 200)}`);
    } catch (err) {
      state.failed.push(`${url} sent ${when(started)}: ${String(err)}`);
    } finally {
      state.inFlight--;
    }
  };
  const sent: Promise<void>[] = [];
  const loop = (async () => {
    for (let i = 0; !state.stop && Date.now() < deadline; i++) {
      if (state.inFlight >= MAX_IN_FLIGHT) state.failed.push(`${MAX_IN_FLIGHT} requests in flight ${when(Date.now())}: the majority stopped answering`);
      else sent.push(one(urls[i % urls.length]!));
      if (state.failed.length >= 50) break;
      await new Promise((r) => setTimeout(r, TRAFFIC_EVERY_MS));
    }
  })();
  return { state, done: async () => { await loop; await Promise.all(sent); } };
}

/**
 * Samples the ledger until stopped: where each instance runs (a process's namespace is
 * unreadable once it is gone) and every moment a slot had two live instances.
 */
export function watchLedger(dir: string, when: (t: number) => string) {
  const state = { stop: false, launchedIn: new Map<string, string>(), doubles: [] as string[] };
  const deadline = Date.now() + WATCH_MAX_MS;
  const loop = (async () => {
    while (!state.stop && Date.now() < deadline) {
      const live = (await ledgerRecords(dir).catch(() => [])).filter((r) => !r.terminated && alive(r.pid));
      for (const r of live) if (!state.launchedIn.has(r.instanceId)) state.launchedIn.set(r.instanceId, (() => { try { return nsOf(r.pid!); } catch { return 'gone'; } })());
      for (const slot of new Set(live.map((r) => r.slot))) {
        const holders = live.filter((r) => r.slot === slot).map((r) => r.instanceId);
        if (holders.length > 1 && state.doubles.length < 20) state.doubles.push(`slot ${slot} held by ${holders.join(' and ')} ${when(Date.now())}`);
      }
      await new Promise((r) => setTimeout(r, 200));
    }
  })();
  return { state, done: () => loop };
}

/** Sockets in `ns` with data queued for sending: what the kernel delivers once the link is back, its process dead or not. */
export function unsentTcp(ns: string): number {
  const out = execFileSync('ip', ['netns', 'exec', ns, 'ss', '-tnH'], { encoding: 'utf8', timeout: 10_000 });
  return out.split('\n').filter((l) => Number(l.trim().split(/\s+/)[2] ?? 0) > 0).length;
}

/** Engines whose agent was fenced (SIGKILLed) but which still run: a fenced EC2 instance takes its engine with it. */
export async function knownEngineOrphans(dir: string, instanceIds: string[]): Promise<string[]> {
  const out: string[] = [];
  for (const r of await ledgerRecords(dir)) {
    if (!instanceIds.includes(r.instanceId)) continue;
    const enginePid = (await readRuntimeFile(join(dir, `node-${r.index}`)))?.enginePid;
    if (enginePid != null && alive(enginePid)) out.push(`${r.instanceId} engine pid ${enginePid}`);
  }
  return out;
}
