import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { generateSwarmKey, Mesh, parseSwarmKey } from '@synkti/mesh';
import type { ForwardResponse, RequestHead } from '@synkti/protocol';
import { fmtMs, type Summary, summarize } from './stats.js';

/**
 * `npm run bench -- forward-mesh [--requests 2000] [--json]`
 *
 * The cost of opening a forward stream, below the HTTP gateway: two `Mesh` nodes in this one
 * process (pnet + noise + yamux over loopback), a serve handler that answers at once with one
 * small chunk, and `Mesh.forward()` timed from the call until the body has ended, with
 * optimistic protocol selection (`negotiateFully: false`, what the gateway uses) and with full
 * multistream negotiation. Beside it, the round trip of 64 B over one long-lived raw stream:
 * the floor a request/response over libp2p cannot beat. Also fires concurrent fully-negotiated
 * forwards on a fresh connection, which was seen to reset streams.
 */

const ECHO_PROTOCOL = '/synkti-bench/echo/1.0.0';
const CONCURRENCIES = [1, 16] as const;
const FRESH_TRIALS = 3;
const FRESH_CONCURRENCY = 16;
const CONNECT_TIMEOUT_MS = 15_000;
const REQUEST_TIMEOUT_MS = 10_000;

export interface MeshCell {
  what: string;
  concurrency: number;
  latency: Summary;
  rps: number;
  errors: number;
  firstError?: string;
}

export interface FreshTrial {
  negotiateFully: boolean;
  ok: number;
  failed: number;
  errors: string[];
}

export interface MeshBenchResult {
  cells: MeshCell[];
  fresh: FreshTrial[];
}

const head = (id: number): RequestHead => ({ requestId: `b${id}`, method: 'POST', path: '/v1/chat/completions', headers: { 'content-type': 'application/json' } });
const REQUEST_BODY = new TextEncoder().encode('{"model":"m","messages":[{"role":"user","content":"hi"}],"max_tokens":4}');
const RESPONSE_BODY = new TextEncoder().encode(`{"id":"x","object":"chat.completion","choices":[{"index":0,"message":{"role":"assistant","content":"${'a'.repeat(120)}"}}]}`);

async function drain(body: AsyncIterable<Uint8Array>): Promise<void> {
  for await (const _ of body) {
    // consume: the request is over when its body ends
  }
}

async function waitConnected(mesh: Mesh, peerId: string): Promise<void> {
  const deadline = Date.now() + CONNECT_TIMEOUT_MS;
  while (!mesh.connectedPeers().includes(peerId)) {
    if (Date.now() > deadline) throw new Error('mesh nodes did not connect');
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** Runs `one` n times with `concurrency` workers; latencies in ms. */
async function timed(n: number, concurrency: number, one: (i: number) => Promise<void>): Promise<{ latency: Summary; rps: number; errors: number; firstError?: string }> {
  const latencies: number[] = [];
  let next = 0;
  let errors = 0;
  let firstError: string | undefined;
  const start = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < n) {
        const i = next++;
        const t0 = performance.now();
        try {
          await one(i);
          latencies.push(performance.now() - t0);
        } catch (err) {
          errors++;
          firstError ??= (err as Error).message;
        }
      }
    }),
  );
  const elapsedS = (performance.now() - start) / 1000;
  return { latency: summarize(latencies), rps: latencies.length / elapsedS, errors, ...(firstError !== undefined ? { firstError } : {}) };
}

/** A raw long-lived stream echoing every message; one request in flight at a time. */
async function echoRtt(client: Mesh, serverId: string, n: number): Promise<MeshCell> {
  const conn = client.libp2p.getConnections().find((c) => c.remotePeer.toString() === serverId);
  if (conn === undefined) throw new Error('no connection for the echo stream');
  const stream = await conn.newStream(ECHO_PROTOCOL);
  let wake: (() => void) | undefined;
  stream.addEventListener('message', () => {
    wake?.();
  });
  const payload = new Uint8Array(64);
  const one = () =>
    new Promise<void>((resolve) => {
      wake = resolve;
      stream.send(payload);
    });
  for (let i = 0; i < 200; i++) await one();
  const r = await timed(n, 1, one);
  await stream.close().catch(() => undefined);
  return { what: 'raw echo, one long-lived stream (64 B)', concurrency: 1, ...r };
}

/** A raw stream per request: open, send 64 B, wait for the echo, close. The bare stream open cost. */
async function echoNewStream(client: Mesh, serverId: string, n: number): Promise<MeshCell> {
  const payload = new Uint8Array(64);
  const one = async () => {
    const conn = client.libp2p.getConnections().find((c) => c.remotePeer.toString() === serverId);
    if (conn === undefined) throw new Error('no connection');
    const stream = await conn.newStream(ECHO_PROTOCOL, { negotiateFully: false, signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS) });
    await new Promise<void>((resolve) => {
      stream.addEventListener('message', () => resolve(), { once: true });
      stream.send(payload);
    });
    await stream.close();
  };
  for (let i = 0; i < 200; i++) await one();
  const r = await timed(n, 1, one);
  return { what: 'raw echo, new stream per request (64 B)', concurrency: 1, ...r };
}

/** Concurrent forwards on a connection that has carried no stream yet. */
async function freshTrial(make: (name: string, bootstrap: string[]) => Mesh, server: Mesh, name: string, negotiateFully: boolean): Promise<FreshTrial> {
  const client = make(name, server.multiaddrs());
  await client.start();
  try {
    await waitConnected(client, server.peerId);
    const results = await Promise.allSettled(
      Array.from({ length: FRESH_CONCURRENCY }, async (_, i) => {
        const res = await client.forward(server.peerId, head(i), REQUEST_BODY, { signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS) });
        await drain(res.body);
      }),
    );
    const errors = results.flatMap((r) => (r.status === 'rejected' ? [(r.reason as Error).message] : []));
    return { negotiateFully, ok: results.length - errors.length, failed: errors.length, errors: [...new Set(errors)] };
  } finally {
    await client.stop();
  }
}

export async function runMeshBench(requests: number): Promise<MeshBenchResult> {
  const dir = await mkdtemp(join(tmpdir(), 'synkti-bench-mesh-'));
  const key = parseSwarmKey(generateSwarmKey());
  const make = (name: string, bootstrap: string[] = [], forwardMux = true) =>
    new Mesh({ fleet: 'bench', stateDir: join(dir, name), swarmKey: key, listen: ['/ip4/127.0.0.1/tcp/0'], bootstrap, heartbeatMs: 1_000, forgetAfterMs: 10_000, forwardMux });
  const server = make('server');
  const meshes: Mesh[] = [server];
  try {
    await server.start();
    await server.serveForwards(
      async (): Promise<ForwardResponse> => ({
        status: 200,
        headers: { 'content-type': 'application/json' },
        body: (async function* () {
          yield RESPONSE_BODY;
        })(),
      }),
      512,
    );
    await server.libp2p.handle(ECHO_PROTOCOL, async (stream) => {
      stream.addEventListener('message', (evt) => {
        const data = evt.data;
        // The requester may close right after its echo; a late send must not throw from a listener.
        if (stream.writeStatus === 'writable') stream.send(data instanceof Uint8Array ? data : data.subarray());
      });
      // Close our side when the requester closes its own, or half-open streams pile up to the limit.
      stream.addEventListener('remoteCloseWrite', () => void stream.close().catch(() => undefined));
    }, { maxInboundStreams: 256 });
    const client = make('client', server.multiaddrs());
    meshes.push(client);
    await client.start();
    await waitConnected(client, server.peerId);

    // The protocol before mux, a pooled stream per request, measured beside it.
    const legacy = make('client-1s', server.multiaddrs(), false);
    meshes.push(legacy);
    await legacy.start();
    await waitConnected(legacy, server.peerId);

    const cells: MeshCell[] = [];
    const forwardWith = (mesh: Mesh) => async (i: number) => {
      const res = await mesh.forward(server.peerId, head(i), REQUEST_BODY, { signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS) });
      await drain(res.body);
    };
    const forwardOnce = forwardWith(client);
    const forwardLegacy = forwardWith(legacy);
    // Warm every path (JIT, yamux windows) before timing anything.
    await timed(500, 8, forwardOnce);
    await timed(500, 8, forwardLegacy);
    cells.push(await echoRtt(client, server.peerId, requests));
    cells.push(await echoNewStream(client, server.peerId, requests));
    for (const concurrency of CONCURRENCIES) {
      const r = await timed(requests, concurrency, forwardOnce);
      cells.push({ what: 'Mesh.forward over the mux stream', concurrency, ...r });
      const l = await timed(requests, concurrency, forwardLegacy);
      cells.push({ what: 'Mesh.forward, a pooled stream per request', concurrency, ...l });
    }
    const fresh: FreshTrial[] = [];
    for (let t = 0; t < FRESH_TRIALS; t++) {
      for (const negotiateFully of [true, false]) fresh.push(await freshTrial(make, server, `fresh-${t}-${negotiateFully}`, negotiateFully));
    }
    return { cells, fresh };
  } finally {
    for (const mesh of meshes.reverse()) await mesh.stop().catch(() => undefined);
    await rm(dir, { recursive: true, force: true });
  }
}

export function formatMeshBench(r: MeshBenchResult): string {
  const lines = ['Stream open cost (two Mesh nodes in one process, pnet + noise + yamux, loopback; ms):', ''];
  lines.push(`${'what'.padEnd(52)} ${'c'.padStart(3)} ${'p50'.padStart(7)} ${'p99'.padStart(7)} ${'req/s'.padStart(8)} errors`);
  for (const c of r.cells) {
    lines.push(`${c.what.padEnd(52)} ${String(c.concurrency).padStart(3)} ${fmtMs(c.latency.p50).padStart(7)} ${fmtMs(c.latency.p99).padStart(7)} ${c.rps.toFixed(0).padStart(8)} ${c.errors}${c.firstError ? ` (${c.firstError})` : ''}`);
  }
  lines.push('', `${FRESH_CONCURRENCY} concurrent forwards on a fresh connection, ${FRESH_TRIALS} trials each:`);
  for (const f of r.fresh) lines.push(`  negotiateFully: ${String(f.negotiateFully).padEnd(5)} ok ${f.ok}, failed ${f.failed}${f.errors.length > 0 ? ` — ${f.errors.join('; ')}` : ''}`);
  return lines.join('\n');
}

export async function main(argv: string[]): Promise<void> {
  const { values } = parseArgs({ args: argv, options: { requests: { type: 'string', default: '2000' }, json: { type: 'boolean', default: false } } });
  const result = await runMeshBench(Number(values.requests));
  console.log(values.json ? JSON.stringify(result, null, 2) : formatMeshBench(result));
}
