import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { ForwardResponse, RequestHead } from '@synkti/protocol';
import { UpstreamCode, UpstreamError } from '@synkti/interface';
import { generateSwarmKey, Mesh, parseSwarmKey } from '../index.js';
import type { InboundForward } from './handler.js';

const MiB = 1024 * 1024;
const head = (path: string, requestId = 'r1'): RequestHead => ({ requestId, method: 'POST', path, headers: { 'content-type': 'application/octet-stream' } });
const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

async function* chunks(total: number, chunkSize: number, seed: number): AsyncGenerator<Uint8Array> {
  for (let sent = 0; sent < total; sent += chunkSize) {
    const chunk = new Uint8Array(Math.min(chunkSize, total - sent));
    for (let i = 0; i < chunk.length; i++) chunk[i] = (sent + i + seed) & 0xff;
    yield chunk;
  }
}

async function collect(body: AsyncIterable<Uint8Array>): Promise<Uint8Array> {
  const parts: Uint8Array[] = [];
  for await (const c of body) parts.push(c);
  return Buffer.concat(parts);
}

for (const mux of [true, false]) describe(`forward protocol (${mux ? 'one mux stream per peer' : 'a stream per request'})`, { timeout: 120_000 }, () => {
  let dir: string;
  let client: Mesh;
  let server: Mesh;
  const cancelled: string[] = [];
  let release: (() => void) | undefined;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'synkti-forward-'));
    const key = parseSwarmKey(generateSwarmKey());
    const make = (name: string, bootstrap: string[] = []) =>
      new Mesh({ fleet: 'f', stateDir: join(dir, name), swarmKey: key, listen: ['/ip4/127.0.0.1/tcp/0'], bootstrap, heartbeatMs: 1_000, forgetAfterMs: 10_000, forwardMux: mux });
    server = make('server');
    await server.start();
    await server.serveForwards(async (req: InboundForward): Promise<ForwardResponse> => {
      req.signal.addEventListener('abort', () => cancelled.push(req.head.requestId));
      switch (req.head.path) {
        case '/echo-hash':
          return { status: 200, headers: { 'x-sha': sha(req.body), 'x-len': String(req.body.byteLength) }, body: (async function* () {})() };
        case '/big':
          return { status: 200, headers: {}, body: chunks(64 * MiB, MiB, 7) };
        case '/handover':
        case '/break':
          return {
            status: 200,
            headers: { 'content-type': 'text/event-stream' },
            body: (async function* () {
              yield new TextEncoder().encode('data: first\n\n');
              await new Promise((r) => setTimeout(r, 20));
              if (req.head.path === '/handover') throw new UpstreamError(UpstreamCode.HANDOVER, 'draining', { retryable: true, phase: 'after-head' });
              throw new Error('engine died');
            })(),
          };
        case '/refuse':
          throw new UpstreamError('ENGINE_DRAINING', 'draining', { retryable: true });
        case '/slow-stream':
          return {
            status: 200,
            headers: { 'content-type': 'text/event-stream' },
            body: (async function* () {
              yield new TextEncoder().encode('data: first\n\n');
              await new Promise<void>((resolve) => {
                release = resolve;
                req.signal.addEventListener('abort', () => resolve());
              });
              yield new TextEncoder().encode('data: second\n\n');
            })(),
          };
        default:
          return { status: 404, headers: {}, body: (async function* () {})() };
      }
    }, 64);
    client = make('client', server.multiaddrs());
    await client.start();
    const deadline = Date.now() + 10_000;
    while (client.connectedPeers().length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  });
  after(async () => {
    await client.stop();
    await server.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it('carries a 64 MiB request and a 64 MiB response intact with the swarm key on, other streams unharmed', async () => {
    const body = await collect(chunks(64 * MiB, 4 * MiB, 3));
    const small = async (i: number) => {
      const res = await client.forward(server.peerId, head('/echo-hash', `small-${i}`), new Uint8Array([i]), {});
      await collect(res.body);
      return res.headers['x-sha'];
    };
    const [up, down, ...smalls] = await Promise.all([
      client.forward(server.peerId, head('/echo-hash'), body),
      client.forward(server.peerId, head('/big'), new Uint8Array()).then(async (r) => collect(r.body)),
      ...Array.from({ length: 10 }, (_, i) => small(i)),
    ]);
    assert.equal((up as ForwardResponse).headers['x-len'], String(64 * MiB));
    assert.equal((up as ForwardResponse).headers['x-sha'], sha(body));
    assert.equal(sha(down as Uint8Array), sha(await collect(chunks(64 * MiB, MiB, 7))));
    for (const [i, s] of smalls.entries()) assert.equal(s, sha(new Uint8Array([i])));
  });

  it('reports a refusal before any response as a retryable before-head UpstreamError', async () => {
    await assert.rejects(client.forward(server.peerId, head('/refuse'), new Uint8Array()), (err: unknown) => err instanceof UpstreamError && err.retryable && err.phase === 'before-head' && err.code === 'ENGINE_DRAINING');
  });

  it('ends a stream its server abandons with an after-head error, never a clean end', async () => {
    for (const [path, code] of [['/handover', UpstreamCode.HANDOVER], ['/break', 'FORWARD_STREAM_BROKEN']] as const) {
      const res = await client.forward(server.peerId, head(path, `hb-${path}`), new Uint8Array(), {});
      const iterator = res.body[Symbol.asyncIterator]();
      assert.equal(new TextDecoder().decode((await iterator.next()).value as Uint8Array), 'data: first\n\n');
      await assert.rejects(iterator.next(), (err: unknown) => err instanceof UpstreamError && err.code === code && err.phase === 'after-head' && err.retryable, path);
    }
  });

  it('streams chunks as they are produced, and cancels the remote request when the client aborts', async () => {
    const controller = new AbortController();
    const res = await client.forward(server.peerId, head('/slow-stream', 'stream-1'), new Uint8Array(), { signal: controller.signal });
    const iterator = res.body[Symbol.asyncIterator]();
    const first = await iterator.next();
    assert.equal(new TextDecoder().decode(first.value as Uint8Array), 'data: first\n\n', 'the first chunk arrives before the second is produced');
    controller.abort();
    const deadline = Date.now() + 5_000;
    while (!cancelled.includes('stream-1') && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    assert.ok(cancelled.includes('stream-1'), 'the serving side saw the cancellation');
    release?.();
  });

  it('fails with a retryable error when the peer is unreachable', async () => {
    await assert.rejects(client.forward('12D3KooWRBy97UB99e3J6hiPesre1MZeuNQvfan4gBziswrRJsNK', head('/echo-hash'), new Uint8Array(), { signal: AbortSignal.timeout(2_000) }), (err: unknown) => err instanceof UpstreamError && err.retryable);
  });
});
