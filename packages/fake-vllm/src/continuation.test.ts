import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type OpenAI from 'openai';
import { expectedCompletion } from './expected.js';
import { createFakeVllm } from './fake-vllm.js';
import { client, json, MODEL, postJson } from './test-helpers.js';

/** Fast enough for 1000-token answers; seed 3 so the text is not the default seed's. */
const OPTIONS = { ttftMs: 0, tokensPerS: 0, seed: 3 };

/** Every `data:` payload of an SSE body, `[DONE]` included as a string. */
async function events(res: Response): Promise<unknown[]> {
  const text = await res.text();
  return text
    .split('\n\n')
    .filter((e) => e !== '')
    .map((e) => (e === 'data: [DONE]' ? '[DONE]' : JSON.parse(e.slice('data: '.length))));
}

describe('continuations: a request resumed from a prefix of its output gets exactly the rest', { timeout: 30_000 }, () => {
  const fake = createFakeVllm(OPTIONS);
  after(() => fake.stop());
  let url = '';
  let openai: OpenAI;
  before(async () => {
    ({ url } = await fake.start());
    openai = client(url);
  });

  it('chat: final assistant message + continue_final_message, max_tokens reduced', async () => {
    const messages: OpenAI.ChatCompletionMessageParam[] = [
      { role: 'system', content: 'be brief' },
      { role: 'user', content: 'write a long story' },
    ];
    const extra = { ignore_eos: true } as object;
    const whole = await openai.chat.completions.create({ model: MODEL, messages, max_tokens: 1000, ...extra });
    const text = whole.choices[0]?.message.content ?? '';
    const tokens = text.split(' ');
    assert.equal(tokens.length, 1000);
    assert.equal(whole.usage?.completion_tokens, 1000);
    assert.equal(text, expectedCompletion('chat', { model: MODEL, messages, max_tokens: 1000, ...extra }, OPTIONS)[0]?.text);
    for (const k of [0, 1, 13, 500, 999]) {
      const partial = tokens.slice(0, k).join(' ');
      const rest = await openai.chat.completions.create({
        model: MODEL,
        messages: [...messages, { role: 'assistant', content: partial }],
        max_tokens: 1000 - k,
        ...({ continue_final_message: true, add_generation_prompt: false, ignore_eos: true } as object),
      });
      const more = rest.choices[0]?.message.content ?? '';
      assert.equal(partial + more, text, `k=${k}`);
      assert.equal(rest.usage?.completion_tokens, 1000 - k);
      assert.equal(rest.choices[0]?.finish_reason, 'length');
    }
  });

  it('chat, streamed: the natural end counts from the start of the assistant message', async () => {
    const messages = [{ role: 'user', content: 'short answer please' }];
    const whole = await json(postJson(url, '/v1/chat/completions', { model: MODEL, messages }));
    const text: string = whole.choices[0].message.content;
    assert.equal(whole.choices[0].finish_reason, 'stop');
    assert.equal(text.split(' ').length, 12);
    const partial = text.split(' ').slice(0, 5).join(' ');
    const res = await postJson(url, '/v1/chat/completions', {
      model: MODEL,
      messages: [...messages, { role: 'assistant', content: partial }],
      continue_final_message: true,
      add_generation_prompt: false,
      stream: true,
    });
    const chunks = (await events(res)) as { choices: { delta: { content?: string }; finish_reason: string | null }[] }[];
    assert.equal(chunks.at(-1), '[DONE]');
    const deltas = chunks.slice(1, -1).map((c) => c.choices[0]?.delta.content ?? '');
    assert.equal(partial + deltas.join(''), text);
    assert.equal(chunks.at(-2)?.choices[0]?.finish_reason, 'stop');
    // A continuation of the complete answer adds nothing and stops.
    const done = await json(
      postJson(url, '/v1/chat/completions', {
        model: MODEL,
        messages: [...messages, { role: 'assistant', content: text }],
        continue_final_message: true,
        add_generation_prompt: false,
      }),
    );
    assert.deepEqual([done.choices[0].message.content, done.choices[0].finish_reason, done.usage.completion_tokens], ['', 'stop', 0]);
  });

  it('chat: continue_final_message without add_generation_prompt false is a 400, as in vLLM', async () => {
    const res = await postJson(url, '/v1/chat/completions', {
      model: MODEL,
      messages: [{ role: 'assistant', content: 'the' }],
      continue_final_message: true,
    });
    assert.equal(res.status, 400);
    assert.equal((await json(res)).error.message, 'Cannot set both `continue_final_message` and `add_generation_prompt` to True.');
  });

  it('completions: prompt + text so far, or prompt ids + token ids so far', async () => {
    const prompt = 'Once upon a time';
    const whole = await json(postJson(url, '/v1/completions', { model: MODEL, prompt, max_tokens: 1000, ignore_eos: true, return_token_ids: true }));
    const choice = whole.choices[0];
    assert.equal(choice.token_ids.length, 1000);
    assert.equal(whole.usage.prompt_tokens, choice.prompt_token_ids.length);
    const tokens: string[] = choice.text.match(/ ?\S+/g);
    for (const k of [1, 64, 999]) {
      const byText = await json(
        postJson(url, '/v1/completions', { model: MODEL, prompt: prompt + tokens.slice(0, k).join(''), max_tokens: 1000 - k, ignore_eos: true }),
      );
      assert.equal(tokens.slice(0, k).join('') + byText.choices[0].text, choice.text, `text, k=${k}`);
      const byIds = await json(
        postJson(url, '/v1/completions', {
          model: MODEL,
          prompt: [...choice.prompt_token_ids, ...choice.token_ids.slice(0, k)],
          max_tokens: 1000 - k,
          ignore_eos: true,
          return_token_ids: true,
        }),
      );
      assert.deepEqual(byIds.choices[0].token_ids, choice.token_ids.slice(k), `ids, k=${k}`);
      assert.equal(byIds.choices[0].text, byText.choices[0].text);
    }
  });

  it('return_token_ids in streams: token_ids per chunk, prompt_token_ids on the first', async () => {
    const chat = await events(
      await postJson(url, '/v1/chat/completions', {
        model: MODEL,
        messages: [{ role: 'user', content: 'ids' }],
        max_tokens: 3,
        stream: true,
        return_token_ids: true,
      }),
    );
    const [role, ...rest] = chat as { prompt_token_ids?: number[]; choices: { token_ids?: number[] }[] }[];
    assert.ok(Array.isArray(role?.prompt_token_ids) && role.prompt_token_ids.length > 0, 'chat: at the top of the role chunk, as vLLM');
    const tokenChunks = rest.slice(0, 3);
    assert.ok(tokenChunks.every((c) => c.choices[0]?.token_ids?.length === 1 && c.prompt_token_ids === undefined));
    const [whole] = expectedCompletion('chat', { model: MODEL, messages: [{ role: 'user', content: 'ids' }], max_tokens: 3 }, OPTIONS);
    assert.deepEqual(
      tokenChunks.map((c) => c.choices[0]?.token_ids?.[0]),
      whole?.tokenIds,
    );
    assert.deepEqual(role?.prompt_token_ids, whole?.promptTokenIds);

    const text = (await events(
      await postJson(url, '/v1/completions', { model: MODEL, prompt: 'ids', max_tokens: 2, stream: true, return_token_ids: true }),
    )) as { choices: { prompt_token_ids?: number[]; token_ids?: number[] }[] }[];
    assert.ok(Array.isArray(text[0]?.choices[0]?.prompt_token_ids), 'completions: on the choice of the first chunk');
    assert.equal(text[1]?.choices[0]?.prompt_token_ids, undefined);
    assert.equal(text[1]?.choices[0]?.token_ids?.length, 1);
    const plain = await json(postJson(url, '/v1/chat/completions', { model: MODEL, messages: [{ role: 'user', content: 'x' }], max_tokens: 1 }));
    assert.equal(plain.choices[0].token_ids, undefined, 'only when asked');
  });
});
