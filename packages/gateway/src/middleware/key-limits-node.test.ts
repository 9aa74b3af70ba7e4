import assert from 'node:assert/strict';
import { request } from 'node:http';
import { after, before, describe, it } from 'node:test';
import { MembershipView, type FleetEvent } from '@synkti/fleet';
import { seededRng, silentLogger } from '@synkti/interface';
import { type ForwardResponse, sampleNodeState } from '@synkti/protocol';
import { createGatewayApp } from '../app.js';
import type { FleetSource } from '../fleet-source.js';
import { RequestPath } from '../request-path/index.js';
import { HttpServer } from '../server.js';

const MODEL = 'm';
const enc = new TextEncoder();
const chunk = (content: string, finish: string | null) => enc.encode(`data: ${JSON.stringify({ id: 'c1', object: 'chat.completion.chunk', created: 1, model: MODEL, choices: [{ index: 0, delta: { content }, finish_reason: finish }] })}\n\n`);

function fleet(): FleetSource {
  const view = new MembershipView('f');
  view.observe(sampleNodeState({ fleet: 'f', peerId: 'p1', engine: { state: 'warm', models: [MODEL], inStateMs: 0 } }), 0);
  return { selfId: 'p1', fleet: 'f', now: () => 0, peers: () => view.snapshot(0), events: (): FleetEvent[] => [] };
}

/** A stream that sends its first token, then waits for `release()` before its last. */
function heldStream() {
  let release: () => void = () => undefined;
  const released = new Promise<void>((r) => (release = r));
  const send = async (): Promise<ForwardResponse> => ({
    status: 200,
    headers: { 'content-type': 'text/event-stream' },
    body: (async function* () {
      yield chunk('a', null);
      await released;
      yield chunk(' b', 'stop');
      yield enc.encode('data: [DONE]\n\n');
    })(),
  });
  return { send, release: () => release() };
}

/** POSTs a streamed chat; resolves with the status once the head is in, and the rest of the body. */
function post(port: number): Promise<{ status: number; body: Promise<string>; destroy: () => void }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path: '/v1/chat/completions', method: 'POST', headers: { 'content-type': 'application/json', authorization: 'Bearer k1' } }, (res) => {
      let text = '';
      const body = new Promise<string>((done, fail) => {
        res.on('data', (c: Buffer) => (text += c.toString()));
        res.on('end', () => done(text));
        res.on('error', fail);
      });
      body.catch(() => undefined);
      resolve({ status: res.statusCode ?? 0, body, destroy: () => req.destroy() });
    });
    req.on('error', reject);
    req.end(JSON.stringify({ model: MODEL, messages: [{ role: 'user', content: 'hi' }], stream: true }));
  });
}

describe('a key limit on a stream written straight to the socket', () => {
  let stream = heldStream();
  let server: HttpServer;
  before(async () => {
    const f = fleet();
    const requestPath = new RequestPath({ fleet: f, target: { send: () => stream.send() }, rng: seededRng(1), logger: silentLogger, affinityLoadFactor: 1.25, retryAfterS: 1 });
    server = new HttpServer(createGatewayApp({ fleet: f, requestPath, logger: silentLogger, apiKeys: ['k1'], keyLimits: { requestsPerSecond: 0, maxConcurrent: 1 } }), '127.0.0.1', 0);
    await server.start();
  });
  after(() => server.stop());

  const waitFreed = async () => {
    for (let i = 0; i < 100; i++) {
      stream = heldStream();
      const probe = await post(server.port);
      if (probe.status === 200) return probe;
      await probe.body;
      await new Promise((r) => setTimeout(r, 20));
    }
    throw new Error('the slot was never freed');
  };

  it('holds the slot until the stream ends, then frees it', async () => {
    const first = await post(server.port);
    assert.equal(first.status, 200);
    const second = await post(server.port);
    assert.equal(second.status, 429, 'a second stream while the first runs');
    assert.match(await second.body, /rate_limit_error/);
    stream.release();
    assert.match(await first.body, /data: \[DONE\]/);
    const third = await waitFreed();
    stream.release();
    assert.match(await third.body, /data: \[DONE\]/);
  });

  it('frees the slot when the client goes away mid-stream', async () => {
    stream = heldStream();
    const first = await post(server.port);
    assert.equal(first.status, 200);
    first.destroy();
    const next = await waitFreed();
    stream.release();
    assert.match(await next.body, /data: \[DONE\]/);
  });
});
