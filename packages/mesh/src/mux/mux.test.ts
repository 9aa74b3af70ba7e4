import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { UpstreamError } from '@synkti/interface';
import { type ForwardResponse, MUX_PROTOCOL, type RequestHead } from '@synkti/protocol';
import { generateSwarmKey, Mesh, parseSwarmKey } from '../index.js';
import type { InboundForward } from '../forward/handler.js';

const MiB = 1024 * 1024;
const head = (path: string, requestId: string): RequestHead => ({ requestId, method: 'POST', path, headers: {} });

/** Bytes the server's '/big' body has produced so far: what a stalled reader lets its sender get ahead. */
let produced = 0;
async function* big(total: number): AsyncGenerator<Uint8Array> {
  for (let sent = 0; sent < total; sent += MiB) {
    produced += Math.min(MiB, total - sent);
    yield new Uint8Array(Math.min(MiB, total - sent)).fill(sent / MiB);
  }
}

async function drain(body: AsyncIterable<Uint8Array>): Promise<number> {
  let n = 0;
  for await (const c of body) n += c.byteLength;
  return n;
}

describe('mux: every request to a peer over one stream', { timeout: 120_000 }, () => {
  let dir: string;
  let client: Mesh;
  let server: Mesh;
  const cancelled = new Set<string>();
  const hold = new Map<string, () => void>();

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'synkti-mux-'));
    const key = parseSwarmKey(generateSwarmKey());
    const make = (name: string, bootstrap: string[] = []) => new Mesh({ fleet: 'f', stateDir: join(dir, name), swarmKey: key, listen: ['/ip4/127.0.0.1/tcp/0'], bootstrap, heartbeatMs: 1_000, forgetAfterMs: 10_000 });
    server = make('server');
    await server.start();
    await server.serveForwards(async (req: InboundForward): Promise<ForwardResponse> => {
      req.signal.addEventListener('abort', () => cancelled.add(req.head.requestId));
      if (req.head.path === '/big') return { status: 200, headers: {}, body: big(32 * MiB) };
      if (req.head.path === '/held')
        return {
          status: 200,
          headers: {},
          body: (async function* () {
            yield new TextEncoder().encode('first');
            await new Promise<void>((resolve) => {
              hold.set(req.head.requestId, resolve);
              req.signal.addEventListener('abort', () => resolve());
            });
            yield new TextEncoder().encode('second');
          })(),
        };
      if (req.head.path === '/fail-early')
        return {
          status: 200,
          headers: {},
          body: {
            [Symbol.asyncIterator]: () => ({ next: () => Promise.reject(new UpstreamError('ENGINE_DIED', 'the engine died before its first token', { retryable: true })) }),
          },
        };
      return { status: 200, headers: { 'x-len': String(req.body.byteLength) }, body: (async function* () { yield req.body; })() };
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

  const muxStreams = () => client.libp2p.getConnections().flatMap((c) => c.streams).filter((s) => s.protocol === MUX_PROTOCOL && s.status === 'open');

  it('carries 50 concurrent requests on one stream, each answered with its own body', async () => {
    const answers = await Promise.all(
      Array.from({ length: 50 }, async (_, i) => {
        const res = await client.forward(server.peerId, head('/echo', `e-${i}`), new Uint8Array(i + 1).fill(i));
        const bytes: number[] = [];
        for await (const c of res.body) bytes.push(...c);
        return { len: res.headers['x-len'], ok: bytes.length === i + 1 && bytes.every((b) => b === i) };
      }),
    );
    assert.ok(answers.every((a, i) => a.ok && a.len === String(i + 1)));
    assert.equal(muxStreams().length, 1, 'one mux stream to the peer');
  });

  it('a slow reader holds back its own request only: another request on the same stream completes while it waits', async () => {
    const slow = await client.forward(server.peerId, head('/big', 'slow'), new Uint8Array());
    const it = slow.body[Symbol.asyncIterator]();
    const first = await it.next();
    assert.ok(first.value !== undefined && first.value.byteLength > 0);
    // The slow reader now reads nothing; its sender stops at its credit. Others go on.
    const other = await client.forward(server.peerId, head('/echo', 'other'), new Uint8Array(3 * MiB).fill(9));
    assert.equal(await drain(other.body), 3 * MiB, 'the other request completed while the slow one was not read');
    // The stalled request's sender is held at its credit: it produced a few MiB of 32, not all.
    await new Promise((r) => setTimeout(r, 200));
    assert.ok(produced <= 4 * MiB, `the server produced ${produced} bytes for a reader that read one chunk`);
    let rest = first.value!.byteLength;
    for (let next = await it.next(); next.done !== true; next = await it.next()) rest += next.value.byteLength;
    assert.equal(rest, 32 * MiB, 'the slow request is whole once read');
    assert.equal(muxStreams().length, 1);
  });

  it('a consumer that stops reading cancels the request on the serving side; the stream stays for the others', async () => {
    const res = await client.forward(server.peerId, head('/held', 'abandoned'), new Uint8Array());
    const it = res.body[Symbol.asyncIterator]();
    await it.next();
    await it.return?.(undefined);
    const deadline = Date.now() + 5_000;
    while (!cancelled.has('abandoned') && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    assert.ok(cancelled.has('abandoned'), 'the server saw the cancellation');
    const next = await client.forward(server.peerId, head('/echo', 'after-cancel'), new Uint8Array([1]));
    assert.equal(await drain(next.body), 1);
  });

  it('a body that fails before its first chunk is a refusal before the head (retryable, with its code), as on the one-stream protocol', async () => {
    await assert.rejects(client.forward(server.peerId, head('/fail-early', 'early'), new Uint8Array()), (err: unknown) => err instanceof UpstreamError && err.phase === 'before-head' && err.retryable && err.code === 'ENGINE_DIED');
  });

  it('a response whose body is never read, then given up, cancels the request on the serving side', async () => {
    const res = await client.forward(server.peerId, head('/held', 'never-read'), new Uint8Array());
    await res.body[Symbol.asyncIterator]().return?.(undefined);
    const deadline = Date.now() + 5_000;
    while (!cancelled.has('never-read') && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    assert.ok(cancelled.has('never-read'), 'the server saw the cancellation');
  });

  it('a broken mux stream fails only the requests it carried (after their head: broken, never an end); the next request opens a new one', async () => {
    const running = await client.forward(server.peerId, head('/held', 'on-broken'), new Uint8Array());
    const it = running.body[Symbol.asyncIterator]();
    await it.next();
    const [stream] = muxStreams();
    assert.ok(stream !== undefined);
    stream.abort(new Error('link lost'));
    await assert.rejects(it.next(), (err: unknown) => err instanceof UpstreamError && err.code === 'FORWARD_STREAM_BROKEN' && err.phase === 'after-head' && err.retryable);
    const fresh = await client.forward(server.peerId, head('/echo', 'after-break'), new Uint8Array([7, 7]));
    assert.equal(await drain(fresh.body), 2);
    assert.equal(muxStreams().length, 1, 'a new stream replaced the broken one');
    hold.get('on-broken')?.();
  });
});
