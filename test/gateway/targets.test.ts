// The request path through `app.request()` with both of its targets: this node's engine (the
// real LocalEngineTarget over node:http to an in-process fake vLLM) and a peer (a stub mesh), a
// peer that hangs before its first token (on mocked timers: no waiting out a real deadline),
// and the admission limit.
import assert from 'node:assert/strict';
import { after, before, describe, it, mock } from 'node:test';
import { createFakeVllm, type FakeVllm } from '@synkti/fake-vllm';
import { type FleetEvent, MembershipView } from '@synkti/fleet';
import { createGatewayApp, requestTargetOf, LocalEngineTarget, RequestPath, type RequestPathLimits, type RequestTarget } from '@synkti/gateway';
import { seededRng, silentLogger } from '@synkti/interface';
import { type ForwardResponse, sampleNodeState } from '@synkti/protocol';

const MODEL = 'synkti/fake-model';
const SELF = 'self';
const enc = new TextEncoder();

/** A fleet view in which `warm` peers serve the model (`self` is this node). */
function fleetOf(warm: string[]) {
  const view = new MembershipView('f');
  for (const peerId of warm) view.observe(sampleNodeState({ fleet: 'f', peerId, engine: { state: 'warm', models: [MODEL], inStateMs: 0 } }), 0);
  return { selfId: SELF, fleet: 'f', now: () => 0, peers: () => view.snapshot(0), events: (): FleetEvent[] => [] };
}

/** A peer over the mesh that answers a whole chat completion at once (no timers). */
const peerAnswer = (peerId: string): ForwardResponse => ({
  status: 200,
  headers: { 'content-type': 'application/json' },
  body: (async function* () {
    yield enc.encode(JSON.stringify({ id: `c-${peerId}`, object: 'chat.completion', created: 1, model: MODEL, choices: [{ index: 0, message: { role: 'assistant', content: `from ${peerId}` }, finish_reason: 'stop' }], usage: { prompt_tokens: 1, completion_tokens: 2, total_tokens: 3 } }));
  })(),
});

/** A peer that never sends a head: its attempt ends only when the request path aborts it. */
function hangUntilAborted(signal: AbortSignal): Promise<ForwardResponse> {
  return new Promise((_, reject) => signal.addEventListener('abort', () => reject(signal.reason as Error), { once: true }));
}

const chat = (extra: Record<string, unknown> = {}) => ({
  method: 'POST',
  headers: { 'content-type': 'application/json' },
  body: JSON.stringify({ model: MODEL, messages: [{ role: 'user', content: 'hello' }], max_tokens: 8, ...extra }),
});

describe('the request path through app.request(): both targets, a hung peer, the admission limit', { timeout: 60_000 }, () => {
  let fake: FakeVllm;
  let local: LocalEngineTarget;
  let localInFlight = 0;

  before(async () => {
    fake = createFakeVllm({ port: 0, loadMs: 0, ttftMs: 0, tokensPerS: 2_000 });
    await fake.start();
    const engine = { baseUrl: fake.address!.url, state: () => 'warm', beginRequest: () => (localInFlight++, () => void localInFlight--) };
    local = new LocalEngineTarget({ engine: () => engine, accepting: () => true });
  });
  after(async () => {
    local.close();
    await fake.stop();
  });

  /** The agent's one target: this node's engine for `self`, the stub mesh for every other peer. */
  function gateway(warm: string[], peer: RequestTarget['send'], limits: Partial<RequestPathLimits> = {}) {
    const fleet = fleetOf(warm);
    const target = requestTargetOf({ selfId: SELF, local, peers: { forward: (peerId, head, body, { signal }) => peer(peerId, head, body, signal) } });
    const requestPath = new RequestPath({ fleet, target, rng: seededRng(7), logger: silentLogger, affinityLoadFactor: 1.25, retryAfterS: 3, limits });
    return { app: createGatewayApp({ fleet, requestPath, logger: silentLogger }), requestPath };
  }

  it('serves from this node\'s engine over node:http, plain and streamed', async () => {
    const { app, requestPath } = gateway([SELF], () => Promise.reject(new Error('no peer should be asked')));
    const plain = await app.request('/v1/chat/completions', chat());
    assert.equal(plain.status, 200);
    assert.equal(plain.headers.get('x-synkti-peer'), SELF);
    const body = (await plain.json()) as { choices: { message: { content: string } }[]; usage: { completion_tokens: number } };
    assert.equal(body.usage.completion_tokens, 8);
    const streamed = await app.request('/v1/chat/completions', chat({ stream: true }));
    assert.equal(streamed.status, 200);
    const text = await streamed.text();
    assert.match(text, /"finish_reason":"length"/);
    assert.ok(text.trimEnd().endsWith('data: [DONE]'));
    assert.equal(requestPath.inFlight().size, 0, 'nothing left in flight');
    assert.equal(localInFlight, 0);
  });

  it('serves from a peer over the mesh when this node has no warm engine', async () => {
    const asked: string[] = [];
    const { app } = gateway(['p1'], async (peerId) => (asked.push(peerId), peerAnswer(peerId)));
    const res = await app.request('/v1/chat/completions', chat());
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('x-synkti-peer'), 'p1');
    assert.equal(((await res.json()) as { choices: { message: { content: string } }[] }).choices[0]!.message.content, 'from p1');
    assert.deepEqual(asked, ['p1']);
  });
});

// Mocked timers are global: a second suite with no in-process engine, whose own timers would run under them.
describe('the request path on a mocked clock: a hung peer, the admission limit', { timeout: 60_000 }, () => {
  function gateway(warm: string[], send: RequestTarget['send'], limits: Partial<RequestPathLimits> = {}) {
    const fleet = fleetOf(warm);
    const requestPath = new RequestPath({ fleet, target: { send }, rng: seededRng(7), logger: silentLogger, affinityLoadFactor: 1.25, retryAfterS: 3, limits });
    return { app: createGatewayApp({ fleet, requestPath, logger: silentLogger }), requestPath };
  }

  it('a peer that hangs before its head costs one deadline, on a mocked clock: the request is served by the next peer', async () => {
    // A non-streamed request's deadline is responseTimeoutMs (a stream's, firstTokenTimeoutMs): both set alike here.
    const firstTokenTimeoutMs = 30_000;
    const asked: string[] = [];
    let hungCalled: () => void = () => {};
    const hung = new Promise<void>((r) => (hungCalled = r));
    const { app, requestPath } = gateway(['p1', 'p2'], async (peerId, _head, _body, signal) => {
      asked.push(peerId);
      if (asked.length === 1) {
        hungCalled();
        return hangUntilAborted(signal);
      }
      return peerAnswer(peerId);
    }, { firstTokenTimeoutMs, responseTimeoutMs: firstTokenTimeoutMs });
    mock.timers.enable({ apis: ['setTimeout'] });
    try {
      const pending = Promise.resolve(app.request('/v1/chat/completions', chat()));
      await hung;
      mock.timers.tick(firstTokenTimeoutMs - 1);
      await new Promise((r) => setImmediate(r));
      assert.equal(asked.length, 1, 'not given up before its deadline');
      mock.timers.tick(1);
      // Past the deadline: advance the mocked clock in small steps (a retry may back off) until it is answered, bounded.
      let settled = false;
      void pending.then(() => (settled = true), () => (settled = true));
      for (let step = 0; step < 200 && !settled; step++) {
        await new Promise((r) => setImmediate(r));
        mock.timers.tick(50);
      }
      const res = await pending;
      assert.equal(res.status, 200);
      assert.equal(asked.length, 2);
      assert.notEqual(asked[0], asked[1], 'the hung peer is not asked again');
      assert.equal(res.headers.get('x-synkti-peer'), asked[1]);
      await res.text();
      assert.equal(requestPath.inFlight().size, 0);
    } finally {
      mock.timers.reset();
    }
  });

  it('over the admission limit: 503 in OpenAI\'s shape with Retry-After, and the held request still completes', async () => {
    let release: () => void = () => {};
    const gate = new Promise<void>((r) => (release = r));
    const { app, requestPath } = gateway(['p1'], async (peerId) => (await gate, peerAnswer(peerId)), { maxInFlight: 1 });
    const first = app.request('/v1/chat/completions', chat());
    while (requestPath.inFlight().size === 0) await new Promise((r) => setImmediate(r));
    const refused = await app.request('/v1/chat/completions', chat());
    assert.equal(refused.status, 503);
    assert.ok(Number(refused.headers.get('retry-after')) >= 1, `Retry-After: ${refused.headers.get('retry-after')}`);
    const err = (await refused.json()) as { error: { type: string; message: string } };
    assert.equal(err.error.type, 'service_unavailable');
    release();
    const held = await first;
    assert.equal(held.status, 200);
    await held.text();
    assert.equal(requestPath.inFlight().size, 0, 'released once its body was read');
  });
});
