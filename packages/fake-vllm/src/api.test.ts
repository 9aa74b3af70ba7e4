import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import OpenAI from 'openai';
import { createFakeVllm } from './fake-vllm.js';
import { client, FAST, json, MODEL, postJson } from './test-helpers.js';

describe('OpenAI API through the official client', { timeout: 20_000 }, () => {
  const fake = createFakeVllm({ ...FAST, models: [MODEL, 'alias'], maxModelLen: 256 });
  after(() => fake.stop());
  let url = '';
  let openai: OpenAI;
  before(async () => {
    ({ url } = await fake.start());
    openai = client(url);
  });

  it('answers /health with an empty 200 and lists the models', async () => {
    const health = await fetch(`${url}/health`);
    assert.equal(health.status, 200);
    assert.equal(await health.text(), '');
    const models = await json(fetch(`${url}/v1/models`));
    assert.equal(models.object, 'list');
    assert.deepEqual(
      models.data.map((m: Record<string, unknown>) => [m.id, m.object, m.owned_by, m.root, m.max_model_len]),
      [
        [MODEL, 'model', 'vllm', MODEL, 256],
        ['alias', 'model', 'vllm', MODEL, 256],
      ],
    );
    assert.equal(typeof models.data[0].created, 'number');
    const listed = await openai.models.list();
    assert.deepEqual(
      listed.data.map((m) => m.id),
      [MODEL, 'alias'],
    );
  });

  it('completes a chat, non-streamed, deterministically', async () => {
    const ask = () => openai.chat.completions.create({ model: MODEL, messages: [{ role: 'user', content: 'hello there' }] });
    const a = await ask();
    const b = await ask();
    assert.match(a.id, /^chatcmpl-[0-9a-f]+$/);
    assert.equal(a.object, 'chat.completion');
    assert.equal(a.model, MODEL);
    assert.ok(Number.isInteger(a.created) && a.created > 1_600_000_000 && a.created < 10_000_000_000);
    const choice = a.choices[0];
    assert.equal(choice?.message.role, 'assistant');
    assert.equal(choice?.finish_reason, 'stop');
    assert.equal(choice?.message.content, b.choices[0]?.message.content, 'same request, same text');
    assert.ok(a.usage !== undefined);
    assert.equal(a.usage.completion_tokens, 12);
    assert.ok(a.usage.prompt_tokens > 0);
    assert.equal(a.usage.total_tokens, a.usage.prompt_tokens + a.usage.completion_tokens);
    const other = await openai.chat.completions.create({ model: MODEL, messages: [{ role: 'user', content: 'another prompt' }] });
    assert.notEqual(other.choices[0]?.message.content, choice?.message.content);
  });

  it('stops at max_tokens and max_completion_tokens with finish_reason length', async () => {
    const a = await openai.chat.completions.create({ model: MODEL, messages: [{ role: 'user', content: 'x' }], max_tokens: 3 });
    assert.equal(a.choices[0]?.finish_reason, 'length');
    assert.equal(a.usage?.completion_tokens, 3);
    assert.equal(a.choices[0]?.message.content?.split(' ').length, 3);
    const b = await openai.chat.completions.create({
      model: 'alias',
      messages: [{ role: 'user', content: 'x' }],
      max_completion_tokens: 5,
    });
    assert.equal(b.choices[0]?.finish_reason, 'length');
    assert.equal(b.usage?.completion_tokens, 5);
    assert.equal(b.model, 'alias');
  });

  it('streams a chat: role first, one token per chunk, usage, [DONE]', async () => {
    const stream = await openai.chat.completions.create({
      model: MODEL,
      messages: [{ role: 'user', content: 'stream me' }],
      stream: true,
      stream_options: { include_usage: true },
      max_tokens: 4,
    });
    const chunks: OpenAI.ChatCompletionChunk[] = [];
    for await (const chunk of stream) chunks.push(chunk);
    assert.equal(chunks.length, 1 + 4 + 1);
    assert.equal(chunks[0]?.choices[0]?.delta.role, 'assistant');
    assert.ok(chunks.every((c) => c.object === 'chat.completion.chunk' && c.id === chunks[0]?.id));
    const tokens = chunks.slice(1, 5);
    assert.deepEqual(
      tokens.map((c) => c.choices[0]?.finish_reason),
      [null, null, null, 'length'],
    );
    const usage = chunks[5];
    assert.deepEqual(usage?.choices, []);
    assert.equal(usage?.usage?.completion_tokens, 4);
    const whole = await openai.chat.completions.create({
      model: MODEL,
      messages: [{ role: 'user', content: 'stream me' }],
      max_tokens: 4,
    });
    assert.equal(tokens.map((c) => c.choices[0]?.delta.content).join(''), whole.choices[0]?.message.content);
  });

  it('frames SSE exactly: data lines, blank line, [DONE]; no usage chunk unless asked', async () => {
    const res = await postJson(url, '/v1/chat/completions', {
      model: MODEL,
      messages: [{ role: 'user', content: 'raw' }],
      stream: true,
      max_tokens: 2,
    });
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type') ?? '', /^text\/event-stream/);
    const text = await res.text();
    const events = text.split('\n\n');
    assert.equal(events.pop(), '');
    assert.equal(events.at(-1), 'data: [DONE]');
    assert.ok(events.every((e) => e.startsWith('data: ') && !e.includes('\n')));
    const payloads = events.slice(0, -1).map((e) => JSON.parse(e.slice(6)));
    assert.equal(payloads.length, 3);
    assert.ok(payloads.every((p) => p.choices.length === 1 && p.usage === undefined));
  });

  it('completes legacy completions, non-streamed and streamed', async () => {
    const a = await openai.completions.create({ model: MODEL, prompt: 'Once upon a time' });
    assert.match(a.id, /^cmpl-[0-9a-f]+$/);
    assert.equal(a.object, 'text_completion');
    assert.equal(a.choices[0]?.finish_reason, 'stop');
    assert.equal(a.usage?.completion_tokens, 12);
    assert.equal(a.usage?.prompt_tokens, 4);
    const stream = await openai.completions.create({
      model: MODEL,
      prompt: 'Once upon a time',
      stream: true,
      stream_options: { include_usage: true },
      max_tokens: 20,
    });
    const chunks: OpenAI.Completion[] = [];
    for await (const chunk of stream) chunks.push(chunk);
    const withText = chunks.filter((c) => c.choices.length > 0);
    assert.equal(withText.length, 12);
    assert.equal(withText.at(-1)?.choices[0]?.finish_reason, 'stop');
    assert.equal(withText.map((c) => c.choices[0]?.text).join(''), a.choices[0]?.text);
    assert.equal(chunks.at(-1)?.usage?.total_tokens, 16);
  });

  it('generates to max_tokens with ignore_eos, as vLLM does', async () => {
    const res = await postJson(url, '/v1/completions', { model: MODEL, prompt: 'x', max_tokens: 30, ignore_eos: true });
    const body = await json(res);
    assert.equal(body.usage.completion_tokens, 30);
    assert.equal(body.choices[0].finish_reason, 'length');
  });

  it('rejects bad requests like vLLM, surfaced by the client with status and message', async () => {
    await assert.rejects(
      openai.chat.completions.create({ model: 'nope', messages: [{ role: 'user', content: 'x' }] }),
      (err: unknown) => {
        assert.ok(err instanceof OpenAI.NotFoundError);
        assert.equal(err.status, 404);
        assert.equal(err.message, '404 The model `nope` does not exist.');
        assert.equal(err.type, 'NotFoundError');
        return true;
      },
    );
    const missing = [
      () => openai.chat.completions.create({ messages: [{ role: 'user', content: 'x' }] } as never),
      () => openai.chat.completions.create({ model: MODEL } as never),
      () => openai.completions.create({ model: MODEL } as never),
      () => openai.chat.completions.create({ model: MODEL, messages: [{ role: 'user', content: 'x' }], max_tokens: 0 }),
      () => openai.completions.create({ model: MODEL, prompt: 'x'.repeat(2_000) }),
    ];
    for (const call of missing) {
      await assert.rejects(call(), (err: unknown) => {
        assert.ok(err instanceof OpenAI.BadRequestError);
        assert.equal(err.status, 400);
        assert.equal(err.type, 'BadRequestError');
        return true;
      });
    }
    await assert.rejects(openai.completions.create({ model: MODEL, prompt: 'x'.repeat(2_000) }), /maximum context length is 256/);
    await assert.rejects(openai.chat.completions.create({ model: MODEL } as never), /body\.messages: Field required/);
  });

  it('answers malformed JSON with a 400 in vLLM error shape', async () => {
    const res = await postJson(url, '/v1/chat/completions', '{"model": ');
    assert.equal(res.status, 400);
    const body = await json(res);
    assert.deepEqual(Object.keys(body.error).sort(), ['code', 'message', 'param', 'type']);
    assert.equal(body.error.code, 400);
    assert.equal(body.error.type, 'BadRequestError');
    const unknown = await fetch(`${url}/v2/nothing`);
    assert.equal(unknown.status, 404);
    assert.deepEqual(await json(unknown), { detail: 'Not Found' });
  });
});
