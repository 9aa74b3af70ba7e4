import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { MembershipView, type FleetEvent } from '@synkti/fleet';
import { seededRng, silentLogger, UpstreamError } from '@synkti/interface';
import { type ForwardResponse, sampleNodeState } from '@synkti/protocol';
import { createGatewayApp } from './app.js';
import type { FleetSource } from './fleet-source.js';
import { RequestPath, type RequestTarget } from './request-path/index.js';

const MODEL = 'm';

function fleetOf(states: Parameters<typeof sampleNodeState>[0][]): FleetSource {
  const view = new MembershipView('f');
  for (const s of states) view.observe(sampleNodeState({ fleet: 'f', engine: { state: 'warm', models: [MODEL], inStateMs: 0 }, ...s }), 0);
  return { selfId: 'p0', fleet: 'f', now: () => 0, peers: () => view.snapshot(0), events: (): FleetEvent[] => [] };
}

const ok = (text: string): ForwardResponse => ({ status: 200, headers: { 'content-type': 'application/json' }, body: (async function* () { yield new TextEncoder().encode(text); })() });

function app(fleet: FleetSource, send: RequestTarget['send'], apiKeys: string[] = []) {
  const requestPath = new RequestPath({ fleet, target: { send }, rng: seededRng(1), logger: silentLogger, affinityLoadFactor: 1.25, retryAfterS: 2 });
  return createGatewayApp({ fleet, requestPath, logger: silentLogger, apiKeys, maxBodyBytes: 1024 });
}

const chat = { model: MODEL, messages: [{ role: 'user', content: 'hi' }] };
const req = (body: unknown, headers: Record<string, string> = {}) => ({ method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: typeof body === 'string' ? body : JSON.stringify(body) });

describe('gateway app', () => {
  it('names the serving peer and echoes or makes a request ID', async () => {
    const res = await app(fleetOf([{ peerId: 'p1' }]), async () => ok('{}')).request('/v1/chat/completions', req(chat, { 'x-request-id': 'abc-1' }));
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('x-synkti-peer'), 'p1');
    assert.equal(res.headers.get('x-request-id'), 'abc-1');
    const generated = await app(fleetOf([{ peerId: 'p1' }]), async () => ok('{}')).request('/v1/chat/completions', req(chat));
    assert.match(generated.headers.get('x-request-id') ?? '', /^[0-9a-f-]{36}$/);
  });

  it('retries a failure before the first byte on the next peer, at most twice', async () => {
    const tried: string[] = [];
    const fleet = fleetOf([{ peerId: 'p1' }, { peerId: 'p2' }, { peerId: 'p3' }, { peerId: 'p4' }]);
    const res = await app(fleet, async (peerId) => {
      tried.push(peerId);
      if (tried.length < 3) throw new UpstreamError('FORWARD_STREAM_FAILED', 'stream reset', { retryable: true });
      return ok('{}');
    }).request('/v1/chat/completions', req(chat));
    assert.equal(res.status, 200);
    assert.equal(tried.length, 3);
    assert.equal(new Set(tried).size, 3);
  });

  it('treats a 503 from a draining peer as retryable', async () => {
    let calls = 0;
    const res = await app(fleetOf([{ peerId: 'p1' }, { peerId: 'p2' }]), async () => (++calls === 1 ? { ...ok('{}'), status: 503 } : ok('{"ok":true}'))).request('/v1/chat/completions', req(chat));
    assert.equal(res.status, 200);
    assert.equal(await res.text(), '{"ok":true}');
  });

  it('answers 502 in OpenAI shape when every candidate fails', async () => {
    const res = await app(fleetOf([{ peerId: 'p1' }, { peerId: 'p2' }]), async () => {
      throw new UpstreamError('FORWARD_DIAL_FAILED', 'connection refused', { retryable: true });
    }).request('/v1/chat/completions', req(chat));
    assert.equal(res.status, 502);
    const body = (await res.json()) as { error: { type: string; code: string } };
    assert.equal(body.error.type, 'server_error');
    assert.equal(body.error.code, 'upstream_failed');
  });

  it('answers 503 with Retry-After when the model is known but no peer is healthy', async () => {
    const res = await app(fleetOf([{ peerId: 'p1', engine: { state: 'loading', models: [MODEL], inStateMs: 0 } }]), async () => ok('{}')).request('/v1/chat/completions', req(chat));
    assert.equal(res.status, 503);
    assert.equal(res.headers.get('retry-after'), '2');
    const ready = await app(fleetOf([{ peerId: 'p1', engine: { state: 'loading', models: [MODEL], inStateMs: 0 } }]), async () => ok('{}')).request('/readyz');
    assert.equal(ready.status, 503);
  });

  it('answers 400, 404 and 413 for bad requests', async () => {
    const a = app(fleetOf([{ peerId: 'p1' }]), async () => ok('{}'));
    assert.equal((await a.request('/v1/chat/completions', req('{oops'))).status, 400);
    assert.equal((await a.request('/v1/chat/completions', req({ messages: [] }))).status, 400);
    assert.equal((await a.request('/v1/chat/completions', req({ model: 7 }))).status, 400);
    assert.equal((await a.request('/v1/chat/completions', req({ model: 'other', messages: [] }))).status, 404);
    assert.equal((await a.request('/v1/chat/completions', req({ ...chat, pad: 'x'.repeat(2048) }))).status, 413);
    assert.equal((await a.request('/nope')).status, 404);
  });

  it('requires a valid API key once keys are configured', async () => {
    const a = app(fleetOf([{ peerId: 'p1' }]), async () => ok('{}'), ['secret-1', 'secret-2']);
    // OpenAI's answers: 401 with an error body, for a missing key, a wrong one, and one no key could equal.
    const refusal = async (headers: Record<string, string>) => {
      const res = await a.request('/v1/chat/completions', req(chat, headers));
      return [res.status, ((await res.json()) as { error: { type: string; code: string } }).error.code];
    };
    assert.deepEqual(await refusal({}), [401, 'missing_api_key']);
    assert.deepEqual(await refusal({ authorization: 'Basic c2VjcmV0LTE=' }), [401, 'missing_api_key']);
    assert.deepEqual(await refusal({ authorization: 'Bearer wrong' }), [401, 'invalid_api_key']);
    assert.deepEqual(await refusal({ authorization: 'Bearer not a key!' }), [401, 'invalid_api_key'], "Hono's own answer would be a 400");
    assert.equal((await a.request('/v1/chat/completions', req(chat, { authorization: 'Bearer secret-2' }))).status, 200);
    assert.equal((await a.request('/v1/models', { headers: { authorization: 'Bearer secret-1' } })).status, 200);
    assert.equal((await a.request('/healthz')).status, 200, 'ops endpoints stay open for probes');
  });

  it('lists the union of models of healthy peers', async () => {
    const a = app(fleetOf([{ peerId: 'p1' }, { peerId: 'p2', engine: { state: 'warm', models: ['z', MODEL], inStateMs: 0 } }, { peerId: 'p3', engine: { state: 'failed', models: ['hidden'], inStateMs: 0 } }]), async () => ok('{}'));
    const res = await a.request('/v1/models');
    const body = (await res.json()) as { object: string; data: { id: string }[] };
    assert.equal(body.object, 'list');
    assert.deepEqual(body.data.map((m) => m.id), [MODEL, 'z']);
  });
});
