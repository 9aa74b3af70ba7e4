import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { MembershipView, type FleetEvent } from '@synkti/fleet';
import { seededRng, silentLogger } from '@synkti/interface';
import { type ForwardResponse, sampleNodeState } from '@synkti/protocol';
import { Hono } from 'hono';
import { createGatewayApp } from '../app.js';
import type { FleetSource } from '../fleet-source.js';
import { AgentMetrics } from '../metrics.js';
import { RequestPath, type RequestTarget } from '../request-path/index.js';
import { keyLimits } from './key-limits.js';

const MODEL = 'm';
const fleet: FleetSource = (() => {
  const view = new MembershipView('f');
  view.observe(sampleNodeState({ fleet: 'f', peerId: 'p1', engine: { state: 'warm', models: [MODEL], inStateMs: 0 } }), 0);
  return { selfId: 'p1', fleet: 'f', now: () => 0, peers: () => view.snapshot(0), events: (): FleetEvent[] => [] };
})();
const ok = (): ForwardResponse => ({ status: 200, headers: { 'content-type': 'application/json' }, body: (async function* () { yield new TextEncoder().encode('{}'); })() });
const chat = (key?: string) => ({ method: 'POST', headers: { 'content-type': 'application/json', ...(key ? { authorization: `Bearer ${key}` } : {}) }, body: JSON.stringify({ model: MODEL, messages: [{ role: 'user', content: 'hi' }] }) });

function gateway(send: RequestTarget['send'], o: { maxInFlight?: number; keyRequestsPerSecond?: number; keyMaxConcurrent?: number } = {}) {
  const metrics = new AgentMetrics({ gossip: () => ({ published: 0, received: 0, rejected: 0 }), peersByStatus: () => ({}), engineState: () => null });
  const requestPath = new RequestPath({ fleet, target: { send }, rng: seededRng(1), logger: silentLogger, affinityLoadFactor: 1.25, retryAfterS: 2, metrics, limits: { maxInFlight: o.maxInFlight ?? 1_024 } });
  return createGatewayApp({ fleet, requestPath, logger: silentLogger, metrics, apiKeys: ['api-key'], opsKeys: ['ops-key'], keyLimits: { requestsPerSecond: o.keyRequestsPerSecond ?? 0, maxConcurrent: o.keyMaxConcurrent ?? 0 } });
}

async function openAiError(res: Response): Promise<{ type: string; code: string }> {
  const body = (await res.json()) as { error: { type: string; code: string; message: string } };
  assert.equal(typeof body.error.message, 'string');
  return { type: body.error.type, code: body.error.code };
}

describe('who may use the gateway', () => {
  it('with keys configured, /fleet and /metrics need an API or ops key (OpenAI-shaped 401); /healthz and /readyz stay open', async () => {
    const app = gateway(async () => ok());
    for (const path of ['/fleet', '/metrics']) {
      const res = await app.request(path);
      assert.equal(res.status, 401, path);
      assert.deepEqual(await openAiError(res), { type: 'authentication_error', code: 'missing_api_key' });
      assert.equal((await app.request(path, { headers: { authorization: 'Bearer api-key' } })).status, 200, `${path} with an API key`);
      assert.equal((await app.request(path, { headers: { authorization: 'Bearer ops-key' } })).status, 200, `${path} with the ops key`);
    }
    assert.equal((await app.request('/v1/chat/completions', chat('ops-key'))).status, 401, 'an ops key is not an API key');
    assert.equal((await app.request('/healthz')).status, 200);
    assert.notEqual((await app.request('/readyz')).status, 401);
  });

  it('a key over its rate gets 429 with Retry-After; the next window serves it', async () => {
    let t = 0;
    const app = new Hono();
    app.use('*', keyLimits({ requestsPerSecond: 2, maxConcurrent: 0 }, () => t));
    app.get('/', (c) => c.text('ok'));
    const get = () => app.request('/', { headers: { authorization: 'Bearer k1' } });
    assert.equal((await get()).status, 200);
    assert.equal((await get()).status, 200);
    const limited = await get();
    assert.equal(limited.status, 429);
    assert.equal(limited.headers.get('retry-after'), '1');
    assert.deepEqual(await openAiError(limited), { type: 'rate_limit_error', code: 'rate_limited' });
    assert.equal((await app.request('/', { headers: { authorization: 'Bearer k2' } })).status, 200, 'another key has its own budget');
    t += 1_000;
    assert.equal((await get()).status, 200, 'the next second serves it again');
  });

  it('a key at its concurrency limit gets 429 until a running request (a stream, until its end) finishes', async () => {
    let finish: () => void = () => undefined;
    const gate = new Promise<void>((r) => (finish = r));
    let sent = 0;
    const send: RequestTarget['send'] = async () => {
      sent++;
      return { status: 200, headers: { 'content-type': 'application/json' }, body: (async function* () { await gate; yield new TextEncoder().encode('{}'); })() };
    };
    const app = gateway(send, { keyMaxConcurrent: 1 });
    // A non-streamed answer is held until its first byte: the first request is running, not answered.
    const first = Promise.resolve(app.request('/v1/chat/completions', chat('api-key')));
    while (sent === 0) await new Promise((r) => setTimeout(r, 5));
    const second = await app.request('/v1/chat/completions', chat('api-key'));
    assert.equal(second.status, 429);
    assert.deepEqual(await openAiError(second), { type: 'rate_limit_error', code: 'too_many_concurrent' });
    finish();
    assert.equal(await (await first).text(), '{}');
    assert.equal((await app.request('/v1/chat/completions', chat('api-key'))).status, 200, 'the slot came back when the first ended');
  });

  it('an agent at maxInFlight sheds new requests with 503 and Retry-After, and takes them again once one ends', async () => {
    let finish: () => void = () => undefined;
    const gate = new Promise<void>((r) => (finish = r));
    let calls = 0;
    const send: RequestTarget['send'] = async () => (++calls === 1 ? { status: 200, headers: { 'content-type': 'application/json' }, body: (async function* () { await gate; yield new TextEncoder().encode('{}'); })() } : ok());
    const app = gateway(send, { maxInFlight: 1 });
    const first = Promise.resolve(app.request('/v1/chat/completions', chat('api-key')));
    while (calls === 0) await new Promise((r) => setTimeout(r, 5));
    const shed = await app.request('/v1/chat/completions', chat('api-key'));
    assert.equal(shed.status, 503);
    assert.equal(shed.headers.get('retry-after'), '2');
    assert.deepEqual(await openAiError(shed), { type: 'service_unavailable', code: 'overloaded' });
    finish();
    assert.equal(await (await first).text(), '{}');
    assert.equal((await app.request('/v1/chat/completions', chat('api-key'))).status, 200);
  });
});
