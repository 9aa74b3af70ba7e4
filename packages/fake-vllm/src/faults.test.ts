import assert from 'node:assert/strict';
import { once } from 'node:events';
import { describe, it } from 'node:test';
import OpenAI from 'openai';
import type { FakeVllmError } from './errors.js';
import { client, json, MODEL, postJson, startFake, statusOf, waitFor } from './test-helpers.js';

const complete = (url: string) => postJson(url, '/v1/completions', { model: MODEL, prompt: 'p', max_tokens: 2 });

describe('faults', { timeout: 20_000 }, () => {
  it('errorRate 1 answers every completion with a 500 in OpenAI error shape', async (t) => {
    const { fake, url } = await startFake(t.after.bind(t), { faults: { errorRate: 1 } });
    await assert.rejects(
      client(url).chat.completions.create({ model: MODEL, messages: [{ role: 'user', content: 'x' }] }),
      (err: unknown) => {
        assert.ok(err instanceof OpenAI.InternalServerError);
        assert.equal(err.status, 500);
        assert.equal(err.type, 'InternalServerError');
        return true;
      },
    );
    assert.equal(fake.stats().failed, 1);
    assert.equal((await fetch(`${url}/health`)).status, 200, 'health is unaffected');
  });

  it('errorRate is seeded: the same seed fails the same requests', async (t) => {
    const pattern = async (seed: number): Promise<number[]> => {
      const { url } = await startFake(t.after.bind(t), { seed, faults: { errorRate: 0.5 } });
      const statuses = [];
      for (let i = 0; i < 16; i++) statuses.push(await statusOf(complete(url)));
      return statuses;
    };
    const a = await pattern(7);
    assert.deepEqual(await pattern(7), a);
    assert.ok(a.includes(500) && a.includes(200), `a mix of failures and answers: ${a}`);
  });

  it('dropStreamAfterTokens cuts a stream mid-way by destroying the socket', async (t) => {
    const { fake, url } = await startFake(t.after.bind(t), { faults: { dropStreamAfterTokens: 3 } });
    const stream = await client(url).chat.completions.create({
      model: MODEL,
      messages: [{ role: 'user', content: 'x' }],
      stream: true,
      max_tokens: 10,
    });
    const contents: string[] = [];
    await assert.rejects(async () => {
      for await (const chunk of stream) {
        const content = chunk.choices[0]?.delta.content;
        if (content) contents.push(content);
      }
    });
    assert.equal(contents.length, 3);
    await waitFor(() => (fake.stats().dropped === 1 ? true : undefined), 'dropped counted');
    assert.equal(fake.stats().cancelled, 0);
    assert.equal(fake.stats().running, 0);
    // Non-streamed requests are not cut.
    assert.equal((await complete(url)).status, 200);
  });

  it('hang: accepts but never answers (health included) until healed; the control plane still answers', async (t) => {
    const { fake, url } = await startFake(t.after.bind(t));
    const res = await postJson(url, '/_fake/faults', { hang: true });
    assert.equal(res.status, 200);
    assert.equal((await json(res)).faults.hang, true);
    const health = fetch(`${url}/health`);
    const chat = client(url).chat.completions.create({ model: MODEL, messages: [{ role: 'user', content: 'x' }] });
    await waitFor(() => (fake.stats().held === 2 ? true : undefined), 'two requests held');
    const state = await json(fetch(`${url}/_fake/state`));
    assert.equal(state.held, 2);
    fake.setFaults({ hang: false });
    assert.equal((await health).status, 200);
    assert.equal((await chat).choices[0]?.finish_reason, 'stop');
  });

  it('hang stalls a stream in flight; hangAfterMs starts a hang later', async (t) => {
    const { fake, url } = await startFake(t.after.bind(t), { tokensPerS: 100 });
    const stream = await client(url).completions.create({ model: MODEL, prompt: 'x', stream: true, max_tokens: 6 });
    const iterator = stream[Symbol.asyncIterator]();
    await iterator.next();
    fake.setFaults({ hang: true });
    const before = fake.stats().generationTokens;
    await new Promise((resolve) => setTimeout(resolve, 100)); // ten token times
    assert.ok(fake.stats().generationTokens <= before + 1, 'no progress while hung');
    fake.setFaults({ hang: false });
    let rest = 0;
    for (let next = await iterator.next(); next.done !== true; next = await iterator.next()) rest++;
    assert.ok(rest >= 4);
    fake.setFaults({ hangAfterMs: 1 });
    await waitFor(() => (fake.stats().faults.hang ? true : undefined), 'hang after 1 ms');
  });

  it('crash via the control endpoint: answers, then destroys every socket and emits crash', async (t) => {
    const { fake, url } = await startFake(t.after.bind(t), { tokensPerS: 10 });
    const crashed = once(fake, 'crash');
    const stream = await client(url).completions.create({ model: MODEL, prompt: 'x', stream: true, max_tokens: 100 });
    const consumed = (async () => {
      for await (const _ of stream) {
        // drain until cut
      }
    })();
    const res = await postJson(url, '/_fake/faults', { crash: true });
    assert.equal(res.status, 200);
    const [err] = (await crashed) as [FakeVllmError];
    assert.equal(err.code, 'CRASHED');
    await assert.rejects(consumed, 'the in-flight stream is cut');
    await assert.rejects(fetch(`${url}/health`), 'the port is closed');
    assert.equal(fake.stats().phase, 'crashed');
    await fake.stop();
    assert.equal(fake.stats().phase, 'stopped');
  });

  it('crashAfterMs as an option crashes after start', async (t) => {
    const { fake } = await startFake(t.after.bind(t), { faults: { crashAfterMs: 10 } });
    const [err] = (await once(fake, 'crash')) as [FakeVllmError];
    assert.equal(err.code, 'CRASHED');
  });

  it('rejects a bad fault patch with a 400', async (t) => {
    const { url } = await startFake(t.after.bind(t));
    assert.equal((await postJson(url, '/_fake/faults', '{nope')).status, 400);
    const res = await postJson(url, '/_fake/faults', { errorRate: 3, bogus: 1 });
    assert.equal(res.status, 400);
    assert.match((await json(res)).error.message, /errorRate/);
  });
});
