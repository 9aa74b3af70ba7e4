import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { createFakeVllm, type FakeVllm } from '@synkti/fake-vllm';
import { LocalEngineTarget } from '@synkti/gateway';
import { UpstreamCode, UpstreamError } from '@synkti/interface';

const MODEL = 'synkti/fake-model';
const json = (body: object) => new TextEncoder().encode(JSON.stringify(body));
const head = (path: string) => ({ requestId: 'r1', method: 'POST' as const, path, headers: { 'content-type': 'application/json', 'x-request-id': 'r1-1' } });

/** The engine as the request path sees it: warm unless told otherwise, counting requests in flight. */
function engineOf(fake: FakeVllm, state = { name: 'warm' }) {
  let inFlight = 0;
  return {
    get inFlight() {
      return inFlight;
    },
    engine: {
      baseUrl: fake.address!.url,
      state: () => state.name,
      beginRequest: (sequences = 1) => {
        inFlight += sequences;
        return () => void (inFlight -= sequences);
      },
    },
  };
}

describe('the local engine target (node:http to the engine)', { timeout: 60_000 }, () => {
  let fake: FakeVllm;
  before(async () => {
    fake = createFakeVllm({ port: 0, loadMs: 0, ttftMs: 0, tokensPerS: 200 });
    await fake.start();
  });
  after(() => fake.stop());

  it('streams a response and counts it in flight until its body ends', async () => {
    const e = engineOf(fake);
    const target = new LocalEngineTarget({ engine: () => e.engine, accepting: () => true });
    const res = await target.send(head('/v1/chat/completions'), json({ model: MODEL, messages: [{ role: 'user', content: 'x' }], max_tokens: 5, stream: true }), new AbortController().signal);
    assert.equal(res.status, 200);
    assert.equal(target.running, 0, 'not running before its body is read');
    let text = '';
    for await (const chunk of res.body) text += new TextDecoder().decode(chunk);
    assert.match(text, /\[DONE\]/);
    assert.equal(e.inFlight, 0);
    target.close();
  });

  it('weighs a request in the engine\'s in-flight count by the sequences the entry agent counted (n × prompts)', async () => {
    const e = engineOf(fake);
    const target = new LocalEngineTarget({ engine: () => e.engine, accepting: () => true });
    const weighted = { ...head('/v1/completions'), headers: { ...head('/v1/completions').headers, 'x-synkti-sequences': '6' } };
    const res = await target.send(weighted, json({ model: MODEL, prompt: ['a', 'b', 'c'], n: 2, max_tokens: 3, stream: true }), new AbortController().signal);
    assert.equal(e.inFlight, 6);
    for await (const chunk of res.body) void chunk;
    assert.equal(e.inFlight, 0);
    const bogus = { ...head('/v1/completions'), headers: { ...head('/v1/completions').headers, 'x-synkti-sequences': '-3' } };
    const plain = await target.send(bogus, json({ model: MODEL, prompt: 'a', max_tokens: 1 }), new AbortController().signal);
    assert.equal(e.inFlight, 1, 'a malformed weight counts as one');
    for await (const chunk of plain.body) void chunk;
    assert.equal(e.inFlight, 0);
    target.close();
  });

  it('sends a request again on a new connection when the engine closed the kept-alive one as it was reused (llama-server does)', async () => {
    // An engine that serves one request per connection and resets the connection when a second
    // arrives on it, without saying Connection: close: a reused socket fails before any answer.
    const served = new WeakSet<object>();
    let resets = 0;
    const server = createServer((req, res) => {
      if (served.has(req.socket)) {
        resets++;
        req.socket.destroy();
        return;
      }
      served.add(req.socket);
      req.resume();
      req.on('end', () => res.end(JSON.stringify({ ok: true })));
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as AddressInfo).port;
    const engine = { baseUrl: `http://127.0.0.1:${port}`, state: () => 'warm', beginRequest: () => () => undefined };
    const target = new LocalEngineTarget({ engine: () => engine, accepting: () => true });
    try {
      for (let i = 0; i < 4; i++) {
        const res = await target.send(head('/v1/completions'), json({ model: MODEL, prompt: 'x' }), new AbortController().signal);
        assert.equal(res.status, 200, `request ${i}`);
        for await (const _ of res.body) {
          // read to the end, so the socket goes back to the pool
        }
      }
      assert.ok(resets >= 1, 'the stale-socket case happened');
    } finally {
      target.close();
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
    }
  });

  it('refuses, retryably and before any head, while the node drains', async () => {
    const e = engineOf(fake);
    const target = new LocalEngineTarget({ engine: () => e.engine, accepting: () => false });
    await assert.rejects(target.send(head('/v1/completions'), json({ model: MODEL, prompt: 'x' }), new AbortController().signal), (err: unknown) => err instanceof UpstreamError && err.code === 'NODE_DRAINING' && err.retryable && err.phase === 'before-head');
    target.close();
  });

  it('hands running streams over: their bodies end with a HANDOVER error, never a clean end', async () => {
    const e = engineOf(fake);
    const target = new LocalEngineTarget({ engine: () => e.engine, accepting: () => true });
    const res = await target.send(head('/v1/chat/completions'), json({ model: MODEL, messages: [{ role: 'user', content: 'y' }], max_tokens: 1_000, ignore_eos: true, stream: true }), new AbortController().signal);
    const iterator = res.body[Symbol.asyncIterator]();
    await iterator.next();
    assert.equal(target.running, 1);
    assert.equal(target.handOverAll(), 1);
    await assert.rejects(
      (async () => {
        for (;;) if ((await iterator.next()).done === true) return;
      })(),
      (err: unknown) => err instanceof UpstreamError && err.code === UpstreamCode.HANDOVER && err.phase === 'after-head',
    );
    assert.equal(target.running, 0);
    assert.equal(e.inFlight, 0);
    target.close();
  });

  it("turns a dying engine's 500 into a retryable refusal, and passes a 500 of a healthy engine through", async () => {
    const dying = createFakeVllm({ port: 0, loadMs: 0, ttftMs: 0, faults: { die: true, deathExitMs: null } });
    await dying.start();
    try {
      const e = engineOf(dying);
      const target = new LocalEngineTarget({ engine: () => e.engine, accepting: () => true });
      await assert.rejects(target.send(head('/v1/completions'), json({ model: MODEL, prompt: 'x' }), new AbortController().signal), (err: unknown) => err instanceof UpstreamError && err.code === 'ENGINE_DYING' && err.retryable && err.phase === 'before-head');
      assert.equal(e.inFlight, 0);
      target.close();
    } finally {
      await dying.stop();
    }
    const failing = createFakeVllm({ port: 0, loadMs: 0, ttftMs: 0, faults: { errorRate: 1 } });
    await failing.start();
    try {
      const target = new LocalEngineTarget({ engine: () => engineOf(failing).engine, accepting: () => true });
      const res = await target.send(head('/v1/completions'), json({ model: MODEL, prompt: 'x' }), new AbortController().signal);
      assert.equal(res.status, 500, 'an ordinary engine error is the client answer');
      target.close();
    } finally {
      await failing.stop();
    }
  });
});
