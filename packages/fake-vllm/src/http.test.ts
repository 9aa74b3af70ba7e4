import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { expectedCompletion } from './expected.js';
import { client, json, MODEL, postJson, startFake, statusOf } from './test-helpers.js';

type Chunk = { choices: { index: number; delta?: { role?: string; content?: string }; text?: string; finish_reason: string | null }[]; usage?: { prompt_tokens: number; completion_tokens: number } };

async function chunksOf(res: Response): Promise<Chunk[]> {
  const events = (await res.text()).split('\n\n').filter((e) => e !== '');
  assert.equal(events.pop(), 'data: [DONE]');
  return events.map((e) => JSON.parse(e.slice('data: '.length)) as Chunk);
}

describe("vLLM's HTTP behaviour", { timeout: 20_000 }, () => {
  it('sends the 200 head of a stream before queueing and prefill, errors before any head', async (t) => {
    const { url } = await startFake(t.after.bind(t), { ttftMs: 1_500 });
    const started = Date.now();
    const res = await postJson(url, '/v1/chat/completions', { model: MODEL, messages: [{ role: 'user', content: 'x' }], stream: true, max_tokens: 1 });
    const headAfterMs = Date.now() - started;
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type') ?? '', /^text\/event-stream/);
    assert.ok(headAfterMs < 700, `head after ${headAfterMs} ms, while the engine still prefills`);
    const reader = res.body!.getReader();
    const first = await reader.read();
    const firstAfterMs = Date.now() - started;
    assert.ok(firstAfterMs >= 1_400, `first token after ${firstAfterMs} ms`);
    assert.match(new TextDecoder().decode(first.value), /"role":"assistant"/);
    await reader.cancel();
    const bad = await postJson(url, '/v1/chat/completions', { model: 'nope', messages: [{ role: 'user', content: 'x' }], stream: true });
    assert.equal(bad.status, 404, 'validation answers its own status, not a 200 head');
    await bad.arrayBuffer();
  });

  it('streams n choices interleaved, each with its index and finish reason, usage over all', async (t) => {
    const { url } = await startFake(t.after.bind(t), { tokensPerS: 200 });
    const messages = [{ role: 'user', content: 'three ways' }];
    const res = await postJson(url, '/v1/chat/completions', { model: MODEL, messages, n: 3, max_tokens: 4, stream: true, stream_options: { include_usage: true } });
    const chunks = await chunksOf(res);
    assert.deepEqual(
      chunks.slice(0, 3).map((c) => [c.choices[0]?.index, c.choices[0]?.delta?.role]),
      [
        [0, 'assistant'],
        [1, 'assistant'],
        [2, 'assistant'],
      ],
    );
    const tokens = chunks.slice(3, -1);
    const order = tokens.map((c) => c.choices[0]?.index);
    assert.ok(order.indexOf(1) < order.lastIndexOf(0), `interleaved: ${order.join(',')}`);
    const [expected] = expectedCompletion('chat', { model: MODEL, messages, max_tokens: 4 });
    for (const index of [0, 1, 2]) {
      const mine = tokens.filter((c) => c.choices[0]?.index === index);
      assert.equal(mine.map((c) => c.choices[0]?.delta?.content).join(''), expected?.text, 'every choice is the greedy answer');
      assert.deepEqual(
        mine.map((c) => c.choices[0]?.finish_reason),
        [null, null, null, 'length'],
      );
    }
    const usage = chunks.at(-1)?.usage;
    assert.deepEqual([usage?.prompt_tokens, usage?.completion_tokens], [expected?.promptTokenIds.length, 12]);
    // The official client reads such a stream too.
    const stream = await client(url).chat.completions.create({ model: MODEL, messages: [{ role: 'user', content: 'x' }], n: 2, max_tokens: 2, stream: true });
    const seen = new Set<number>();
    for await (const chunk of stream) for (const c of chunk.choices) seen.add(c.index);
    assert.deepEqual([...seen].sort(), [0, 1]);
  });

  it('answers batched prompts × n with choices indexed prompt × n + i', async (t) => {
    const { url } = await startFake(t.after.bind(t));
    const body = { model: MODEL, prompt: ['first prompt', 'second'], n: 2, max_tokens: 3 };
    const whole = await json(postJson(url, '/v1/completions', body));
    const expected = expectedCompletion('completions', body);
    assert.deepEqual(
      whole.choices.map((c: { index: number; text: string }) => [c.index, c.text]),
      expected.map((c) => [c.index, c.text]),
    );
    assert.equal(expected[0]?.text, expected[1]?.text);
    assert.notEqual(expected[1]?.text, expected[2]?.text);
    assert.equal(whole.usage.prompt_tokens, 3 + 2, 'each prompt counted once');
    assert.equal(whole.usage.completion_tokens, 12);
    const streamed = await chunksOf(await postJson(url, '/v1/completions', { ...body, prompt: [[1000, 1001], [1002]], stream: true }));
    assert.deepEqual(
      [...new Set(streamed.map((c) => c.choices[0]?.index))].sort(),
      [0, 1, 2, 3],
    );
  });

  it('rejects what vLLM rejects before reading the request: media type, JSON, min_tokens', async (t) => {
    const { url } = await startFake(t.after.bind(t));
    const body = JSON.stringify({ model: MODEL, prompt: 'x' });
    for (const headers of [{ 'content-type': 'text/plain' }, {}] as Record<string, string>[]) {
      const res = await fetch(`${url}/v1/completions`, { method: 'POST', headers, body: new TextEncoder().encode(body) });
      assert.equal(res.status, 400);
      assert.equal((await json(res)).error.message, "Unsupported Media Type: Only 'application/json' is allowed");
    }
    const charset = await fetch(`${url}/v1/completions`, { method: 'POST', headers: { 'content-type': 'Application/JSON; charset=utf-8' }, body });
    assert.equal(await statusOf(charset), 200);
    assert.equal(await statusOf(postJson(url, '/v1/completions', 'not json')), 400);
    const min = await postJson(url, '/v1/completions', { model: MODEL, prompt: 'x', max_tokens: 2, min_tokens: 3 });
    assert.equal(min.status, 400);
    assert.match((await json(min)).error.message, /min_tokens must be less than or equal to max_tokens=2, got 3/);
  });

  it('defaults like vLLM: chat to the context left, completions to 16 tokens', async (t) => {
    const { url } = await startFake(t.after.bind(t), { tokensPerS: 0, ttftMs: 0, maxModelLen: 300 });
    const chat = await json(postJson(url, '/v1/chat/completions', { model: MODEL, messages: [{ role: 'user', content: 'hi' }], ignore_eos: true }));
    assert.equal(chat.usage.completion_tokens + chat.usage.prompt_tokens, 300);
    assert.equal(chat.choices[0].finish_reason, 'length');
    const text = await json(postJson(url, '/v1/completions', { model: MODEL, prompt: 'hi', ignore_eos: true }));
    assert.equal(text.usage.completion_tokens, 16);
  });

  it('queues without limit by default; a configured maxWaitingRequests answers 503 beyond it', async (t) => {
    const many = async (options: object): Promise<number[]> => {
      const { url } = await startFake(t.after.bind(t), { maxNumSeqs: 1, ...options });
      const body = { model: MODEL, prompt: 'q', max_tokens: 2 };
      return Promise.all(Array.from({ length: 6 }, () => statusOf(postJson(url, '/v1/completions', body))));
    };
    assert.deepEqual(await many({ ttftMs: 50 }), [200, 200, 200, 200, 200, 200]);
    const capped = await many({ ttftMs: 50, maxWaitingRequests: 1 });
    assert.ok(capped.includes(503) && capped.includes(200), capped.join(','));
  });
});
