import assert from 'node:assert/strict';
import { request } from 'node:http';
import { after, before, describe, it } from 'node:test';
import { MembershipView, type FleetEvent } from '@synkti/fleet';
import { seededRng, silentLogger } from '@synkti/interface';
import { sampleNodeState } from '@synkti/protocol';
import { createGatewayApp } from './app.js';
import type { FleetSource } from './fleet-source.js';
import { RequestPath } from './request-path/index.js';
import { HttpServer } from './server.js';

const MODEL = 'm';
const LIMIT = 1024;

function fleet(): FleetSource {
  const view = new MembershipView('f');
  view.observe(sampleNodeState({ fleet: 'f', peerId: 'p1', engine: { state: 'warm', models: [MODEL], inStateMs: 0 } }), 0);
  return { selfId: 'p1', fleet: 'f', now: () => 0, peers: () => view.snapshot(0), events: (): FleetEvent[] => [] };
}

/** POSTs `parts` as a chunked body (no content-length), so only reading can find its size. */
function postChunked(port: number, parts: string[]): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path: '/v1/chat/completions', method: 'POST', headers: { 'content-type': 'application/json', 'transfer-encoding': 'chunked' } }, (res) => {
      let body = '';
      res.on('data', (c: Buffer) => (body += c.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    for (const p of parts) req.write(p);
    req.end();
  });
}

describe('request bodies read off node:http', () => {
  const received: string[] = [];
  let server: HttpServer;
  before(async () => {
    const f = fleet();
    const requestPath = new RequestPath({
      fleet: f,
      rng: seededRng(1),
      logger: silentLogger,
      affinityLoadFactor: 1.25,
      retryAfterS: 1,
      target: {
        send: async (_peer, _head, body) => {
          received.push(new TextDecoder().decode(body));
          return { status: 200, headers: { 'content-type': 'application/json' }, body: (async function* () { yield new TextEncoder().encode('{"ok":true}'); })() };
        },
      },
    });
    server = new HttpServer(createGatewayApp({ fleet: f, requestPath, logger: silentLogger, maxBodyBytes: LIMIT }), '127.0.0.1', 0);
    await server.start();
  });
  after(() => server.stop());

  it('reads a chunked body whole and forwards exactly its bytes', async () => {
    const json = JSON.stringify({ model: MODEL, messages: [{ role: 'user', content: 'hé, ' + 'y'.repeat(300) }] });
    const res = await postChunked(server.port, [json.slice(0, 10), json.slice(10, 200), json.slice(200)]);
    assert.equal(res.status, 200);
    assert.equal(res.body, '{"ok":true}');
    assert.equal(received.at(-1), json);
  });

  it('answers HEAD on a forwarded /v1 path with a head and keeps serving', async () => {
    const status = await new Promise<number>((resolve, reject) => {
      const req = request({ host: '127.0.0.1', port: server.port, path: '/v1/anything', method: 'HEAD' }, (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
      });
      req.on('error', reject);
      req.end();
    });
    assert.equal(status, 200);
    const after = await postChunked(server.port, [JSON.stringify({ model: MODEL, messages: [] })]);
    assert.equal(after.status, 200);
  });

  it('answers 413 in OpenAI shape to a chunked body over the limit, without forwarding it', async () => {
    const before = received.length;
    const res = await postChunked(server.port, ['{"model":"m","pad":"', 'x'.repeat(LIMIT), '"}']);
    assert.equal(res.status, 413);
    assert.equal((JSON.parse(res.body) as { error: { type: string } }).error.type, 'invalid_request_error');
    assert.equal(received.length, before);
  });
});
