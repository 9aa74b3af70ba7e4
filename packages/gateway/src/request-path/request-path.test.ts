import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { type FleetEvent, MembershipView } from '@synkti/fleet';
import { seededRng, silentLogger, UpstreamCode, UpstreamError } from '@synkti/interface';
import { type ForwardResponse, sampleNodeState } from '@synkti/protocol';
import { createGatewayApp } from '../app.js';
import type { FleetSource } from '../fleet-source.js';
import { AgentMetrics } from '../metrics.js';
import type { BodySource } from './body-source.js';
import { describeCompletion } from './completion.js';
import { MAX_BUFFERED_PLAIN_BYTES } from './constants.js';
import { RequestPath, type RequestPathLimits } from './request-path.js';

const MODEL = 'm';
const enc = new TextEncoder();

function fleetOf(ids: string[]): FleetSource {
  const view = new MembershipView('f');
  for (const peerId of ids) view.observe(sampleNodeState({ fleet: 'f', peerId, engine: { state: 'warm', models: [MODEL], inStateMs: 0 } }), 0);
  return { selfId: 'self', fleet: 'f', now: () => 0, peers: () => view.snapshot(0), events: (): FleetEvent[] => [] };
}

/** How a fake peer misbehaves for one attempt, given the body it was sent. */
type Fault = 'none' | { breakAfter: number } | { finalAfter: number } | { errorEventAfter: number } | { handoverAfter: number } | { doneWithoutFinish: number } | 'hang';

interface Sent {
  peerId: string;
  body: Record<string, unknown>;
  requestId: string | undefined;
  sequencesHeader: string | undefined;
}

/** A vLLM-like engine: token i of an answer is ` w<i>`; a continuation starts where its text ends. */
function engineTarget(faultOf: (peerId: string, n: number) => Fault, sent: Sent[] = []) {
  return async (peerId: string, head: { headers: Record<string, string> }, bytes: Uint8Array, signal: AbortSignal): Promise<ForwardResponse> => {
    const body = JSON.parse(new TextDecoder().decode(bytes)) as Record<string, unknown>;
    sent.push({ peerId, body, requestId: head.headers['x-request-id'], sequencesHeader: head.headers['x-synkti-sequences'] });
    const fault = faultOf(peerId, sent.length);
    const chat = Array.isArray(body['messages']);
    const messages = (body['messages'] ?? []) as { role: string; content: string }[];
    const partial = chat ? (body['continue_final_message'] === true ? messages.at(-1)!.content : '') : String(body['prompt']).slice('P:'.length);
    const start = partial === '' ? 0 : partial.trim().split(' ').length;
    const count = Number(body['max_tokens']);
    const id = `cmpl-${peerId}-${sent.length}`;
    const continuous = (body['stream_options'] as Record<string, unknown> | undefined)?.['continuous_usage_stats'] === true;
    const chunk = (choice: Record<string, unknown>, done: number) => `data: ${JSON.stringify({ id, object: chat ? 'chat.completion.chunk' : 'text_completion', created: 100 + sent.length, model: MODEL, choices: [choice], ...(continuous ? { usage: { prompt_tokens: 10 + start, completion_tokens: done, total_tokens: 10 + start + done } } : {}) })}\n\n`;
    async function* sse(): AsyncGenerator<Uint8Array> {
      if (fault === 'hang') await new Promise((_, reject) => signal.addEventListener('abort', () => reject(signal.reason as Error)));
      if (chat) yield enc.encode(chunk({ index: 0, delta: { role: 'assistant', content: '' }, finish_reason: null }, 0));
      for (let i = 0; i < count; i++) {
        const n = i;
        if (typeof fault === 'object' && 'breakAfter' in fault && n === fault.breakAfter) throw new UpstreamError('FORWARD_STREAM_BROKEN', 'peer lost', { retryable: true, phase: 'after-head' });
        if (typeof fault === 'object' && 'finalAfter' in fault && n === fault.finalAfter) throw new UpstreamError('SOMETHING_FINAL', 'no peer can do better', { retryable: false, phase: 'after-head' });
        if (typeof fault === 'object' && 'handoverAfter' in fault && n === fault.handoverAfter) throw new UpstreamError(UpstreamCode.HANDOVER, 'leaving', { retryable: true, phase: 'after-head' });
        if (typeof fault === 'object' && 'errorEventAfter' in fault && n === fault.errorEventAfter) {
          yield enc.encode('data: {"error": {"message": "EngineCore encountered an issue.", "type": "InternalServerError", "param": null, "code": 500}}\n\ndata: [DONE]\n\n');
          return;
        }
        if (typeof fault === 'object' && 'doneWithoutFinish' in fault && n === fault.doneWithoutFinish) return void (yield enc.encode('data: [DONE]\n\n'));
        const text = `${start + n === 0 ? '' : ' '}w${start + n}`;
        const last = n === count - 1;
        yield enc.encode(chunk(chat ? { index: 0, delta: { content: text }, finish_reason: last ? 'length' : null } : { index: 0, text, finish_reason: last ? 'length' : null }, n + 1));
      }
      const usage = (body['stream_options'] as Record<string, unknown> | undefined)?.['include_usage'] === true;
      if (usage) yield enc.encode(`data: ${JSON.stringify({ id, object: 'chat.completion.chunk', created: 1, model: MODEL, choices: [], usage: { prompt_tokens: 10 + start, completion_tokens: count, total_tokens: 10 + start + count } })}\n\n`);
      yield enc.encode('data: [DONE]\n\n');
    }
    return { status: 200, headers: { 'content-type': 'text/event-stream' }, body: sse() };
  };
}

function gateway(ids: string[], send: ReturnType<typeof engineTarget>, limits: Partial<RequestPathLimits> = {}) {
  const fleet = fleetOf(ids);
  const metrics = new AgentMetrics({ gossip: () => ({ published: 0, received: 0, rejected: 0 }), peersByStatus: () => ({}), engineState: () => null });
  const requestPath = new RequestPath({ fleet, target: { send }, rng: seededRng(3), logger: silentLogger, affinityLoadFactor: 1.25, retryAfterS: 1, limits, metrics });
  return { app: createGatewayApp({ fleet, requestPath, logger: silentLogger, metrics }), requestPath, metrics };
}

const post = (path: string, body: unknown) => ({ method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
const chatBody = (extra: Record<string, unknown> = {}) => ({ model: MODEL, messages: [{ role: 'user', content: 'hi' }], max_tokens: 20, stream: true, ...extra });

/** Reads an SSE response to its end; `aborted` when the body errored (what SDKs raise on). */
async function readEvents(res: Response): Promise<{ events: string[]; aborted: boolean }> {
  const reader = res.body!.getReader();
  let text = '';
  let aborted = false;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      text += new TextDecoder().decode(value);
    }
  } catch {
    aborted = true;
  }
  return { events: text.split('\n\n').filter((e) => e.startsWith('data: ')).map((e) => e.slice(6)), aborted };
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- test reads loose JSON
type Loose = Record<string, any>;

function summarise(events: string[], kind: 'chat' | 'text' = 'chat') {
  const chunks = events.filter((e) => e !== '[DONE]').map((e) => JSON.parse(e) as Loose);
  const choices = chunks.flatMap((c) => (c['choices'] ?? []) as Loose[]);
  return {
    text: choices.map((c) => (kind === 'chat' ? c['delta']?.['content'] ?? '' : c['text'] ?? '')).join(''),
    ids: new Set(chunks.map((c) => c['id'])),
    created: new Set(chunks.map((c) => c['created'])),
    roles: choices.filter((c) => c['delta']?.['role'] !== undefined).length,
    finishes: choices.filter((c) => c['finish_reason'] !== null && c['finish_reason'] !== undefined).length,
    dones: events.filter((e) => e === '[DONE]').length,
    usage: chunks.filter((c) => c['usage'] !== undefined).map((c) => c['usage']),
    errors: chunks.filter((c) => c['error'] !== undefined),
  };
}

const expected = (n: number) => Array.from({ length: n }, (_, i) => `${i === 0 ? '' : ' '}w${i}`).join('');

/** A stream that sends one chunk, then never another: a body that ignores its signal, so only an abort ends the read. */
const oneChunkThenSilence = (delta: Record<string, unknown>) => async (peerId: string, tried: string[] = []): Promise<ForwardResponse> => ({
  status: 200,
  headers: { 'content-type': 'text/event-stream' },
  body: (async function* () {
    tried.push(peerId);
    yield enc.encode(`data: ${JSON.stringify({ id: 'c', object: 'chat.completion.chunk', created: 1, model: MODEL, choices: [{ index: 0, delta, finish_reason: null }] })}\n\n`);
    await new Promise(() => undefined);
  })(),
});

/**
 * Peers as engineTarget, except that the first attempt goes silent after four chunks until its
 * signal aborts (a peer that froze mid-stream). `calls` records the peer of every attempt.
 */
function firstGoesSilent(calls: string[]): ReturnType<typeof engineTarget> {
  const base = engineTarget(() => 'none');
  return async (peerId, head, bytes, signal) => {
    const res = await base(peerId, head, bytes, signal);
    calls.push(peerId);
    if (calls.length > 1) return res;
    return { ...res, body: (async function* () {
      let i = 0;
      for await (const c of res.body) {
        if (i++ === 4) await new Promise((_, reject) => signal.addEventListener('abort', () => reject(signal.reason as Error)));
        yield c;
      }
    })() };
  };
}

describe('request migration at the entry agent', () => {
  it('continues a chat stream whose peer is lost on another peer: one id, one role, one finish, one [DONE], summed usage', async () => {
    const sent: Sent[] = [];
    const { app, requestPath, metrics } = gateway(['p1', 'p2'], engineTarget((_, n) => (n === 1 ? { breakAfter: 7 } : 'none'), sent));
    const res = await app.request('/v1/chat/completions', post('', chatBody({ stream_options: { include_usage: true } })));
    assert.equal(res.status, 200);
    const { events, aborted } = await readEvents(res);
    const s = summarise(events);
    assert.equal(aborted, false);
    assert.equal(s.text, expected(20));
    assert.deepEqual([s.ids.size, s.created.size, s.roles, s.finishes, s.dones, s.errors.length], [1, 1, 1, 1, 1, 0]);
    assert.deepEqual(s.usage, [{ prompt_tokens: 10, completion_tokens: 20, total_tokens: 30 }]);
    const continuation = sent[1]!;
    assert.notEqual(continuation.peerId, sent[0]!.peerId, 'never the peer that failed');
    assert.deepEqual((continuation.body['messages'] as unknown[]).at(-1), { role: 'assistant', content: expected(7) });
    assert.equal(continuation.body['continue_final_message'], true);
    assert.equal(continuation.body['add_generation_prompt'], false);
    assert.equal(continuation.body['max_tokens'], 13);
    assert.notEqual(sent[0]!.requestId, continuation.requestId, 'each attempt reaches the engine under its own request id');
    assert.equal(requestPath.inFlight().size, 0, 'in-flight accounting returns to zero');
    assert.match(await (await metrics.render()).body, /synkti_migrations_total\{reason="peer-lost",outcome="continued"\} 1/);
  });

  it('waits for a healthy peer to continue on when, at the break, none looks healthy (views flapping as a node dies)', async () => {
    const view = new MembershipView('f');
    for (const peerId of ['p1', 'p2']) view.observe(sampleNodeState({ fleet: 'f', peerId, engine: { state: 'warm', models: [MODEL], inStateMs: 0 } }), 0);
    // Whichever peer serves first breaks; at that moment the other looks unhealthy for 300 ms.
    let first: string | undefined;
    let hideOthers = false;
    const fleet: FleetSource = { selfId: 'self', fleet: 'f', now: () => 0, peers: () => view.snapshot(0).filter((p) => !hideOthers || p.peerId === first), events: (): FleetEvent[] => [] };
    const inner = engineTarget((_, n) => (n === 1 ? { breakAfter: 7 } : 'none'));
    const send: typeof inner = async (peerId, head, bytes, signal) => {
      if (first === undefined) {
        first = peerId;
        hideOthers = true;
        setTimeout(() => (hideOthers = false), 300);
      }
      return inner(peerId, head, bytes, signal);
    };
    const metrics = new AgentMetrics({ gossip: () => ({ published: 0, received: 0, rejected: 0 }), peersByStatus: () => ({}), engineState: () => null });
    const requestPath = new RequestPath({ fleet, target: { send }, rng: seededRng(3), logger: silentLogger, affinityLoadFactor: 1.25, retryAfterS: 1, metrics });
    const app = createGatewayApp({ fleet, requestPath, logger: silentLogger, metrics });
    const { events, aborted } = await readEvents(await app.request('/v1/chat/completions', post('', chatBody())));
    assert.equal(aborted, false);
    assert.equal(summarise(events).text, expected(20));
    assert.match(await (await metrics.render()).body, /synkti_migrations_total\{reason="peer-lost",outcome="continued"\} 1/);
  });

  it('continues a completion stream with the prompt plus the text so far', async () => {
    const sent: Sent[] = [];
    const { app } = gateway(['p1', 'p2'], engineTarget((_, n) => (n === 1 ? { breakAfter: 4 } : 'none'), sent));
    const res = await app.request('/v1/completions', post('', { model: MODEL, prompt: 'P:', max_tokens: 10, stream: true }));
    const { events, aborted } = await readEvents(res);
    assert.equal(aborted, false);
    assert.equal(summarise(events, 'text').text, expected(10));
    assert.equal(sent[1]!.body['prompt'], `P:${expected(4)}`);
    assert.equal(sent[1]!.body['max_tokens'], 6);
  });

  it("migrates vLLM's engine-death answer (an error event, then [DONE]) and a [DONE] without a finish", async () => {
    for (const fault of [{ errorEventAfter: 3 }, { doneWithoutFinish: 5 }] as Fault[]) {
      const { app } = gateway(['p1', 'p2'], engineTarget((_, n) => (n === 1 ? fault : 'none')));
      const { events, aborted } = await readEvents(await app.request('/v1/chat/completions', post('', chatBody())));
      const s = summarise(events);
      assert.equal(aborted, false);
      assert.equal(s.text, expected(20), JSON.stringify(fault));
      assert.deepEqual([s.errors.length, s.dones, s.finishes], [0, 1, 1]);
    }
  });

  it('retries a stream that fails before its first token as if new; the client sees nothing of it', async () => {
    const { app } = gateway(['p1', 'p2'], engineTarget((_, n) => (n === 1 ? { errorEventAfter: 0 } : 'none')));
    const res = await app.request('/v1/chat/completions', post('', chatBody()));
    const s = summarise((await readEvents(res)).events);
    assert.equal(s.text, expected(20));
    assert.deepEqual([s.roles, s.ids.size, s.errors.length], [1, 1, 0]);
  });

  it('ends a stream that may not be migrated (json_schema) with an error event and an aborted connection', async () => {
    const sent: Sent[] = [];
    const { app } = gateway(['p1', 'p2'], engineTarget((_, n) => (n === 1 ? { breakAfter: 3 } : 'none'), sent));
    const res = await app.request('/v1/chat/completions', post('', chatBody({ response_format: { type: 'json_schema', json_schema: { name: 'x', schema: {} } } })));
    const { events, aborted } = await readEvents(res);
    const s = summarise(events);
    assert.equal(aborted, true, 'the connection is aborted so SDKs raise');
    assert.equal(s.dones, 0);
    assert.equal(s.errors.length, 1);
    assert.equal(s.text, expected(3));
    assert.equal(sent.length, 1, 'not continued');
  });

  it('does not continue a stream whose upstream error is final (not retryable): the error event instead', async () => {
    const sent: Sent[] = [];
    const { app } = gateway(['p1', 'p2'], engineTarget((_, n) => (n === 1 ? { finalAfter: 4 } : 'none'), sent));
    const { events, aborted } = await readEvents(await app.request('/v1/chat/completions', post('', chatBody())));
    const s = summarise(events);
    assert.equal(aborted, true);
    assert.equal(s.errors.length, 1);
    assert.match(JSON.stringify(s.errors[0]), /SOMETHING_FINAL/);
    assert.equal(s.dones, 0);
    assert.equal(sent.length, 1, 'not continued');
  });

  it('stops after migrationLimit continuations with an error event', async () => {
    const { app } = gateway(['p1', 'p2', 'p3', 'p4'], engineTarget(() => ({ breakAfter: 2 })), { migrationLimit: 2 });
    const { events, aborted } = await readEvents(await app.request('/v1/chat/completions', post('', chatBody())));
    const s = summarise(events);
    assert.equal(aborted, true);
    assert.equal(s.errors.length, 1);
    assert.equal(s.dones, 0);
  });

  it('takes a hand-over like a loss but does not hold it against the peer', async () => {
    const sent: Sent[] = [];
    const { app } = gateway(['p1', 'p2'], engineTarget((_, n) => (n === 1 ? { handoverAfter: 5 } : 'none'), sent));
    const s = summarise((await readEvents(await app.request('/v1/chat/completions', post('', chatBody())))).events);
    assert.equal(s.text, expected(20));
    assert.equal(sent.length, 2);
  });

  it('counts a request in flight by the sequences it runs: n choices of each batched prompt', async () => {
    const sent: Sent[] = [];
    const { app, requestPath } = gateway(['p1'], engineTarget(() => 'hang', sent), { firstTokenTimeoutMs: 60_000 });
    const cases: Array<[Record<string, unknown>, number]> = [
      [chatBody({ n: 4 }), 4],
      [{ model: MODEL, prompt: ['a', 'b', 'c'], n: 2, max_tokens: 5, stream: true }, 6],
      [{ model: MODEL, prompt: [[1, 2], [3]], max_tokens: 5, stream: true }, 2],
      [{ model: MODEL, prompt: 'one', max_tokens: 5, stream: true }, 1],
      [chatBody({ n: 'many' }), 1],
    ];
    for (const [body, weight] of cases) {
      const client = new AbortController();
      const pending = Promise.resolve(app.request('/v1/completions', { ...post('', body), signal: client.signal })).catch(() => undefined);
      const deadline = Date.now() + 5_000;
      while (requestPath.inFlight().get('p1') === undefined && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
      assert.equal(requestPath.inFlight().get('p1'), weight, JSON.stringify(body));
      assert.equal(sent.at(-1)?.sequencesHeader, weight > 1 ? String(weight) : undefined, 'the serving node is told the weight');
      client.abort();
      await pending;
      while (requestPath.inFlight().size > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
      assert.equal(requestPath.inFlight().size, 0, 'released in full');
    }
  });

  it('abandons an attempt with no first token by its deadline and never tries that peer again for the request', async () => {
    const sent: Sent[] = [];
    const { app } = gateway(['p1', 'p2'], engineTarget((_, n) => (n === 1 ? 'hang' : 'none'), sent), { firstTokenTimeoutMs: 200 });
    const s = summarise((await readEvents(await app.request('/v1/chat/completions', post('', chatBody())))).events);
    assert.equal(s.text, expected(20));
    assert.equal(new Set(sent.map((x) => x.peerId)).size, 2);
  });

  it('detects a stall mid-stream and migrates', async () => {
    let calls = 0;
    const base = engineTarget(() => 'none');
    const send: typeof base = async (peerId, head, bytes, signal) => {
      const res = await base(peerId, head, bytes, signal);
      if (++calls > 1) return res;
      return { ...res, body: (async function* () {
        let i = 0;
        for await (const c of res.body) {
          if (i++ === 4) await new Promise((_, reject) => signal.addEventListener('abort', () => reject(signal.reason as Error)));
          yield c;
        }
      })() };
    };
    const { app } = gateway(['p1', 'p2'], send, { streamStallTimeoutMs: 150 });
    const s = summarise((await readEvents(await app.request('/v1/chat/completions', post('', chatBody())))).events);
    assert.equal(s.text, expected(20));
  });

  it('retries a non-streamed request whose response broke before its first byte', async () => {
    let calls = 0;
    const send = async (): Promise<ForwardResponse> => ({
      status: 200,
      headers: { 'content-type': 'application/json' },
      body: (async function* () {
        if (++calls === 1) throw new UpstreamError('FORWARD_STREAM_BROKEN', 'lost', { retryable: true, phase: 'after-head' });
        yield enc.encode('{"ok":true}');
      })(),
    });
    const { app } = gateway(['p1', 'p2'], send);
    const res = await app.request('/v1/chat/completions', post('', { model: MODEL, messages: [{ role: 'user', content: 'x' }] }));
    assert.equal(res.status, 200);
    assert.equal(await res.text(), '{"ok":true}');
  });

  it('retries a non-streamed request whose response broke after its first bytes: nothing had reached the client', async () => {
    const tried: string[] = [];
    const send = async (peerId: string): Promise<ForwardResponse> => ({
      status: 200,
      headers: { 'content-type': 'application/json' },
      body: (async function* () {
        tried.push(peerId);
        yield enc.encode('{"ok":');
        if (tried.length === 1) throw new UpstreamError('FORWARD_STREAM_BROKEN', 'lost', { retryable: true, phase: 'after-head' });
        yield enc.encode('true}');
      })(),
    });
    const { app, requestPath } = gateway(['p1', 'p2'], send);
    const res = await app.request('/v1/chat/completions', post('', { model: MODEL, messages: [{ role: 'user', content: 'x' }] }));
    assert.equal(res.status, 200);
    assert.equal(await res.text(), '{"ok":true}');
    assert.equal(new Set(tried).size, 2, 'the second try went to the other peer');
    assert.deepEqual([...requestPath.inFlight()], []);
  });

  it('a client that leaves mid-stream is no fault of the peer: no continuation, no inhibition, nothing left in flight', async () => {
    const tried: string[] = [];
    const { requestPath, metrics } = gateway(['p1', 'p2'], (peerId) => oneChunkThenSilence({ content: 'w0' })(peerId, tried));
    const json = chatBody();
    const client = new AbortController();
    const served = await requestPath.serve({ model: MODEL, head: { requestId: 'r1', method: 'POST', path: '/v1/chat/completions', headers: {} }, body: enc.encode(JSON.stringify(json)), completion: describeCompletion('chat', json), signal: client.signal });
    const body = served.body as BodySource;
    assert.equal((await body.read()).last, false);
    const pending = body.read();
    client.abort();
    body.cancel(new Error('client went away'));
    assert.equal((await pending).last, true);
    assert.deepEqual(tried, [served.peerId], 'no continuation was opened');
    assert.deepEqual([...requestPath.inFlight()], []);
    assert.equal(requestPath.activeResponses, 0);
    assert.doesNotMatch(await (await metrics.render()).body, /synkti_migrations_total\{/);
  });

  it('a client that leaves before its first token is no fault of the peer either', async () => {
    // A role delta, then a prefill that never ends.
    const { requestPath, metrics } = gateway(['p1', 'p2'], (peerId) => oneChunkThenSilence({ role: 'assistant', content: '' })(peerId));
    const json = chatBody();
    const client = new AbortController();
    const serving = requestPath.serve({ model: MODEL, head: { requestId: 'r1', method: 'POST', path: '/v1/chat/completions', headers: {} }, body: enc.encode(JSON.stringify(json)), completion: describeCompletion('chat', json), signal: client.signal });
    setImmediate(() => client.abort(new Error('client went away')));
    await assert.rejects(serving, /client went away/);
    assert.deepEqual([...requestPath.inFlight()], []);
    assert.equal(requestPath.activeResponses, 0);
    assert.doesNotMatch(await (await metrics.render()).body, /synkti_migrations_total\{/, 'not retried on another peer, not counted against this one');
  });

  it('relays a non-streamed answer larger than it holds: the held part, then the rest as it comes', async () => {
    const piece = 'x'.repeat(MAX_BUFFERED_PLAIN_BYTES / 4);
    const send = async (): Promise<ForwardResponse> => ({
      status: 200,
      headers: { 'content-type': 'application/json' },
      body: (async function* () {
        for (let i = 0; i < 10; i++) yield enc.encode(piece);
      })(),
    });
    const { app, requestPath } = gateway(['p1'], send);
    const res = await app.request('/v1/chat/completions', post('', { model: MODEL, messages: [{ role: 'user', content: 'x' }] }));
    assert.equal(res.status, 200);
    assert.equal(await res.text(), piece.repeat(10));
    assert.deepEqual([...requestPath.inFlight()], []);
    assert.equal(requestPath.activeResponses, 0);
  });

  it('a peer declared dead gives up its waiting requests at once: a non-streamed one is retried on another peer, long before its deadline', async () => {
    const tried: string[] = [];
    const send = async (peerId: string, _head: unknown, _body: unknown, signal: AbortSignal): Promise<ForwardResponse> => {
      tried.push(peerId);
      // The first peer is cut off: no answer ever comes, until the request is abandoned.
      if (tried.length === 1) await new Promise((_, reject) => signal.addEventListener('abort', () => reject(signal.reason as Error)));
      return { status: 200, headers: { 'content-type': 'application/json' }, body: (async function* () { yield enc.encode('{"ok":true}'); })() };
    };
    const { app, requestPath } = gateway(['p1', 'p2'], send, { responseTimeoutMs: 600_000 });
    const pending = app.request('/v1/chat/completions', post('', { model: MODEL, messages: [{ role: 'user', content: 'x' }] }));
    while (tried.length === 0) await new Promise((r) => setTimeout(r, 5));
    assert.equal(requestPath.peerLost(tried[0]!, 'dead'), 1);
    const res = await pending;
    assert.equal(res.status, 200);
    assert.equal(await res.text(), '{"ok":true}');
    assert.equal(tried.length, 2);
    assert.notEqual(tried[1], tried[0]);
    assert.equal(requestPath.peerLost(tried[0]!, 'dead'), 0, 'nothing open there any more');
    assert.deepEqual([...requestPath.inFlight()], [], 'in-flight accounting back to zero');
  });

  it('a peer declared dead mid-stream: the stream continues on another peer, one unbroken answer', async () => {
    const calls: string[] = [];
    const { app, requestPath } = gateway(['p1', 'p2'], firstGoesSilent(calls), { streamStallTimeoutMs: 600_000 });
    const reading = Promise.resolve(app.request('/v1/chat/completions', post('', chatBody()))).then(readEvents);
    while (calls.length === 0) await new Promise((r) => setTimeout(r, 5));
    await new Promise((r) => setTimeout(r, 50));
    assert.equal(requestPath.peerLost(calls[0]!, 'dead'), 1);
    const s = summarise((await reading).events);
    assert.equal(s.text, expected(20));
    assert.equal(s.finishes, 1);
  });
  it('an entry agent that leaves with a stream still relayed ends it with an error event and an aborted connection, not a clean end and no migration', async () => {
    const calls: string[] = [];
    const { app, requestPath } = gateway(['p1', 'p2'], firstGoesSilent(calls), { streamStallTimeoutMs: 600_000 });
    const reading = Promise.resolve(app.request('/v1/chat/completions', post('', chatBody()))).then(readEvents);
    while (calls.length === 0) await new Promise((r) => setTimeout(r, 5));
    await new Promise((r) => setTimeout(r, 50));
    assert.equal(requestPath.endAll('shutting down'), 1);
    const { events, aborted } = await reading;
    const s = summarise(events);
    assert.equal(aborted, true, 'the connection is aborted so SDKs raise');
    assert.equal(s.dones, 0);
    assert.equal(s.finishes, 0);
    assert.equal(s.errors.length, 1);
    assert.match(JSON.stringify(s.errors[0]), /shutting down/);
    assert.equal(calls.length, 1, 'not continued on the other peer');
    assert.equal(requestPath.activeResponses, 0);
    assert.deepEqual([...requestPath.inFlight()], []);
  });

  it('an entry agent that leaves while a non-streamed answer is still on its way answers 503 (retry elsewhere), never a second peer', async () => {
    const sent: Sent[] = [];
    const { app, requestPath } = gateway(['p1', 'p2'], engineTarget(() => 'hang', sent), { responseTimeoutMs: 600_000 });
    const answer = Promise.resolve(app.request('/v1/chat/completions', post('', chatBody({ stream: false }))));
    while (sent.length === 0) await new Promise((r) => setTimeout(r, 5));
    assert.equal(requestPath.endAll('shutting down'), 1);
    const res = await answer;
    assert.equal(res.status, 503);
    assert.equal(((await res.json()) as Loose)['error']['code'], 'agent_leaving');
    assert.equal(sent.length, 1, 'not sent to the other peer');
    assert.deepEqual([...requestPath.inFlight()], []);
  });
});

