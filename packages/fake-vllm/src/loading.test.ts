import assert from 'node:assert/strict';
import { once } from 'node:events';
import { connect } from 'node:net';
import { describe, it } from 'node:test';
import { createFakeVllm } from './fake-vllm.js';
import { FAST, json, waitFor } from './test-helpers.js';

const status = (url: string, path = '/health'): Promise<number> =>
  fetch(`${url}${path}`).then(
    async (res) => {
      await res.arrayBuffer();
      return res.status;
    },
    () => -1, // connection refused, or closed without an answer
  );

/** Opens a TCP connection and sends a request: what the peer did with it, and what came back. */
async function rawExchange(port: number): Promise<{ connected: boolean; received: string }> {
  const socket = connect(port, '127.0.0.1');
  let connected = false;
  let received = '';
  socket.on('connect', () => {
    connected = true;
    socket.write('GET /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
  });
  socket.setEncoding('utf8').on('data', (d: string) => {
    received += d;
  });
  // Refused or reset: 'close' follows the error (once() would reject on the error instead).
  socket.on('error', () => {});
  await new Promise((resolve) => socket.once('close', resolve));
  return { connected, received };
}

describe('loading', { timeout: 20_000 }, () => {
  it("'503' mode: listens at once, answers 503 while loading, then 200", async (t) => {
    // slowStartMs holds the load until the test has looked; clearing it lets the load end.
    const fake = createFakeVllm({ ...FAST, loadMs: 10, loadMode: '503', faults: { slowStartMs: 60_000 } });
    t.after(() => fake.stop());
    const ready = once(fake, 'ready');
    const { url } = await fake.start();
    assert.equal(fake.stats().phase, 'loading');
    assert.equal(await status(url), 503);
    assert.equal(await status(url, '/v1/models'), 503);
    const res = await fetch(`${url}/v1/chat/completions`, { method: 'POST', body: '{}' });
    assert.equal(res.status, 503);
    assert.equal((await json(res)).error.type, 'ServiceUnavailableError');
    assert.equal(await status(url, '/_fake/state'), 200, 'the control plane answers while loading');
    fake.setFaults({ slowStartMs: 0 });
    await ready;
    assert.equal(await status(url), 200);
    assert.equal(fake.stats().phase, 'ready');
  });

  it("'closed' mode, the default: the port is shut while loading, like a bare vLLM", async (t) => {
    const fake = createFakeVllm({ ...FAST, loadMs: 10, faults: { slowStartMs: 60_000 } });
    t.after(() => fake.stop());
    assert.equal(fake.config.loadMode, 'closed');
    const listening = once(fake, 'listening');
    const { url, port } = await fake.start();
    assert.ok(port > 0);
    assert.equal(await status(url), -1, 'connection refused while loading');
    assert.deepEqual(await rawExchange(port), { connected: false, received: '' }, 'refused, not accepted');
    assert.equal(fake.stats().phase, 'loading');
    fake.setFaults({ slowStartMs: 0 });
    const [address] = await listening;
    assert.deepEqual(address, { url, port });
    assert.equal(await status(url), 200);
  });

  it("'accept-close' mode: accepts at once, closes every connection without a byte until loaded", async (t) => {
    // vLLM behind docker's port proxy: the proxy accepts, finds nothing behind it, and closes.
    const fake = createFakeVllm({ ...FAST, loadMs: 10, loadMode: 'accept-close', faults: { slowStartMs: 60_000 } });
    t.after(() => fake.stop());
    const listening = once(fake, 'listening');
    const ready = once(fake, 'ready');
    const { url, port } = await fake.start();
    assert.deepEqual((await listening)[0], { url, port }, 'the port opens at once');
    assert.equal(fake.stats().phase, 'loading');
    assert.deepEqual(await rawExchange(port), { connected: true, received: '' });
    assert.equal(await status(url), -1, 'fetch fails: no answer at all');
    assert.equal(await status(url, '/_fake/state'), -1, 'the control plane too');
    fake.setFaults({ slowStartMs: 0 });
    await ready;
    assert.equal(await status(url), 200);
    assert.match((await rawExchange(port)).received, /^HTTP\/1\.1 200 /, 'loaded: connections are served');
  });

  it('slowStartMs stretches a load in progress; clearing it ends the load', async (t) => {
    const fake = createFakeVllm({ ...FAST, loadMs: 20, loadMode: '503', faults: { slowStartMs: 60_000 } });
    t.after(() => fake.stop());
    const { url } = await fake.start();
    await new Promise((resolve) => setTimeout(resolve, 60)); // past loadMs alone
    assert.equal(await status(url), 503);
    fake.setFaults({ slowStartMs: 0 });
    await waitFor(async () => ((await status(url)) === 200 ? true : undefined), 'health 200');
  });

  it('is harmless to start twice or stop before start; restarts fresh', async () => {
    const fake = createFakeVllm(FAST);
    await fake.stop();
    const a = await fake.start();
    const b = await fake.start();
    assert.deepEqual(a, b);
    await fetch(`${a.url}/v1/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'synkti/fake-model', prompt: 'x' }),
    }).then((r) => r.json());
    assert.equal(fake.stats().served, 1);
    await fake.stop();
    await fake.stop();
    assert.equal(fake.stats().phase, 'stopped');
    assert.equal(await status(a.url), -1);
    const c = await fake.start();
    assert.equal(fake.stats().served, 0, 'a restart is a fresh process');
    assert.equal(await status(c.url), 200);
    await fake.stop();
  });

  it('rejects invalid options with a typed error', () => {
    assert.throws(() => createFakeVllm({ maxNumSeqs: 0 }), { code: 'INVALID_OPTIONS', message: /maxNumSeqs/ });
    assert.throws(() => createFakeVllm({ models: [] }), { code: 'INVALID_OPTIONS' });
    assert.throws(() => createFakeVllm({ faults: { errorRate: 2 } }), { code: 'INVALID_OPTIONS' });
    const fake = createFakeVllm();
    assert.throws(() => fake.setFaults({ errorRate: -1 }), { code: 'INVALID_FAULTS' });
  });
});
