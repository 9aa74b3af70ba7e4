import assert from 'node:assert/strict';
import { once } from 'node:events';
import { describe, it } from 'node:test';
import OpenAI from 'openai';
import type { FakeVllmError } from './errors.js';
import { client, json, MODEL, postJson, startFake, waitFor } from './test-helpers.js';

/** vLLM's bytes for a stream whose engine died: an error event, then [DONE], then a clean end. */
const DEATH_TAIL =
  'data: {"error": {"message": "EngineCore encountered an issue. See stack trace (above) for the root cause.", ' +
  '"type": "InternalServerError", "param": null, "code": 500}}\n\ndata: [DONE]\n\n';

const DEAD_BODY = {
  error: { message: 'EngineCore encountered an issue. See stack trace (above) for the root cause.', type: 'InternalServerError', param: null, code: 500 },
};

const streamBody = (extra: object = {}) => ({ model: MODEL, prompt: 'p', stream: true, max_tokens: 50, ignore_eos: true, ...extra });

/** The `data:` events of an SSE text that carry tokens. */
const tokenEvents = (text: string): number => text.split('\n\n').filter((e) => e.includes('"text"')).length;

describe('engine death (EngineDeadError)', { timeout: 20_000 }, () => {
  it('ends streams in flight cleanly with the error event, fails other requests with 500, then exits', async (t) => {
    const { fake, url } = await startFake(t.after.bind(t), { tokensPerS: 50, faults: { deathExitMs: 400 } });
    const stream = await postJson(url, '/v1/completions', streamBody());
    const reader = stream.body!.getReader();
    await reader.read(); // a token is out: the stream is in flight
    const whole = postJson(url, '/v1/chat/completions', { model: MODEL, messages: [{ role: 'user', content: 'x' }], max_tokens: 50 });
    await waitFor(() => (fake.stats().running === 2 ? true : undefined), 'two in flight');
    const dead = once(fake, 'dead');
    const crashed = once(fake, 'crash');
    const control = await json(postJson(url, '/_fake/faults', { die: true }));
    assert.equal(control.phase, 'dead');
    await dead;

    let rest = '';
    for (let next = await reader.read(); next.done !== true; next = await reader.read()) rest += new TextDecoder().decode(next.value);
    assert.ok(rest.endsWith(DEATH_TAIL), `the body ends normally after the error event: ${JSON.stringify(rest.slice(-300))}`);
    const res = await whole;
    assert.equal(res.status, 500);
    assert.deepEqual(await json(res), DEAD_BODY);

    assert.equal((await fetch(`${url}/health`)).status, 503);
    assert.equal((await fetch(`${url}/v1/models`)).status, 200, 'the API server is still up');
    for (const body of [streamBody(), { model: MODEL, prompt: 'p' }]) {
      const later = await postJson(url, '/v1/completions', body);
      assert.equal(later.status, 500, 'new requests, streamed or not, get a 500 before any head');
      assert.deepEqual(await json(later), DEAD_BODY);
    }
    assert.equal(fake.stats().running, 0);
    assert.equal(fake.stats().failed, 2);

    const [err] = (await crashed) as [FakeVllmError];
    assert.equal(err.code, 'CRASHED');
    await assert.rejects(fetch(`${url}/health`), 'then the server is gone like a crashed process');
    assert.equal(fake.stats().phase, 'crashed');
  });

  it('dieAfterTokens: exactly that many tokens reach the client, then the error event', async (t) => {
    const { fake, url } = await startFake(t.after.bind(t), { faults: { dieAfterTokens: 5, deathExitMs: null } });
    const text = await (await postJson(url, '/v1/completions', streamBody())).text();
    assert.equal(tokenEvents(text), 5);
    assert.ok(text.endsWith(DEATH_TAIL));
    assert.equal(fake.stats().phase, 'dead');
    assert.deepEqual([fake.stats().faults.dieAfterTokens, fake.stats().faults.deathExitMs], [null, null]);
    await new Promise((resolve) => setTimeout(resolve, 50));
    assert.equal((await fetch(`${url}/health`)).status, 503, 'deathExitMs null: stays up, dead');
  });

  it('a stream still prefilling already has its 200 head: it gets the error event alone', async (t) => {
    const { fake, url } = await startFake(t.after.bind(t), { ttftMs: 5_000, faults: { deathExitMs: null } });
    const res = await postJson(url, '/v1/chat/completions', { model: MODEL, messages: [{ role: 'user', content: 'x' }], stream: true });
    assert.equal(res.status, 200);
    fake.setFaults({ die: true });
    assert.equal(await res.text(), DEATH_TAIL);
  });

  it('the official client surfaces the error event as an APIError', async (t) => {
    const { url } = await startFake(t.after.bind(t), { faults: { dieAfterTokens: 2, deathExitMs: null } });
    const stream = await client(url).chat.completions.create({ model: MODEL, messages: [{ role: 'user', content: 'x' }], stream: true, max_tokens: 10 });
    const contents: string[] = [];
    await assert.rejects(
      (async () => {
        for await (const chunk of stream) if (chunk.choices[0]?.delta.content) contents.push(chunk.choices[0].delta.content);
      })(),
      (err: unknown) => err instanceof OpenAI.APIError && /EngineCore encountered an issue/.test(err.message),
    );
    assert.equal(contents.length, 2);
  });

  it('dieAfterMs as an option: dead, then crash after deathExitMs; CLI-style defaults stay within 5 s', async (t) => {
    const { fake } = await startFake(t.after.bind(t), { faults: { dieAfterMs: 10, deathExitMs: 30 } });
    await once(fake, 'dead');
    const [err] = (await once(fake, 'crash')) as [FakeVllmError];
    assert.match(err.message, /EngineDeadError/);
    const { fake: other } = await startFake(t.after.bind(t));
    assert.ok((other.stats().faults.deathExitMs ?? Infinity) <= 5_000);
  });
});
