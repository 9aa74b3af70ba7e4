import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { HttpError } from './errors.js';
import { parseOptions } from './options.js';
import { planJob } from './plan.js';
import { Scheduler } from './scheduler.js';
import { generatedText } from './text.js';

const config = parseOptions({ models: ['m'], maxModelLen: 64, maxTokensDefault: 16, answerTokens: 12 });
const chat = (extra: object = {}) => ({ model: 'm', messages: [{ role: 'user', content: 'hi' }], ...extra });

const rejectsWith = (status: number, pattern: RegExp, body: unknown, kind: 'chat' | 'text' = 'chat') =>
  assert.throws(
    () => planJob(kind, body, config),
    (err: unknown) => err instanceof HttpError && err.status === status && pattern.test(err.message),
  );

describe('planJob', { timeout: 20_000 }, () => {
  it('ends with stop below the limit, length at or past it', () => {
    assert.deepEqual(
      [planJob('chat', chat(), config), planJob('chat', chat({ max_tokens: 12 }), config), planJob('chat', chat({ max_tokens: 13 }), config)].map(
        (j) => [j.outputTokens, j.finishReason],
      ),
      [
        [12, 'stop'],
        [12, 'length'],
        [12, 'stop'],
      ],
    );
    assert.equal(planJob('chat', chat({ min_tokens: 14, max_tokens: 20 }), config).outputTokens, 14);
    assert.equal(planJob('chat', chat({ ignore_eos: true }), config).outputTokens, 16);
    assert.equal(planJob('chat', chat({ max_completion_tokens: 2, max_tokens: 9 }), config).outputTokens, 2);
  });

  it('counts prompts: ~4 characters a token, token-id prompts by length', () => {
    assert.equal(planJob('text', { model: 'm', prompt: 'abcdefghi' }, config).promptTokens, 3);
    assert.equal(planJob('text', { model: 'm', prompt: [1, 2, 3, 4, 5] }, config).promptTokens, 5);
    assert.equal(planJob('text', { model: 'm', prompt: ['abcd'] }, config).promptTokens, 1);
  });

  it('caps the default output by the room left in the context', () => {
    const job = planJob('text', { model: 'm', prompt: 'x'.repeat(240) }, config);
    assert.equal(job.promptTokens, 60);
    assert.equal(job.outputTokens, 4);
    assert.equal(job.finishReason, 'length');
  });

  it('rejects what vLLM rejects', () => {
    rejectsWith(404, /^The model `other` does not exist\.$/, chat({ model: 'other' }));
    rejectsWith(400, /body\.model: Field required/, { messages: [] });
    rejectsWith(400, /body\.messages/, { model: 'm', messages: [] });
    rejectsWith(400, /body\.prompt: Field required/, { model: 'm' }, 'text');
    rejectsWith(400, /max_tokens must be at least 1, got 0/, chat({ max_tokens: 0 }));
    rejectsWith(400, /maximum context length is 64 tokens\. However, you requested 69 tokens \(7 in the messages, 62 in the completion\)/, chat({ max_tokens: 62 }));
    rejectsWith(400, /Stream options can only be defined when `stream=True`/, chat({ stream_options: { include_usage: true } }));
    rejectsWith(400, /n=1/, chat({ n: 2 }));
    rejectsWith(400, /Input should be/, chat({ model: 7 }));
  });

  it('gives the same text for the same prompt and seed, other text otherwise', () => {
    const seedOf = (content: string, seed = 0) =>
      planJob('chat', chat({ messages: [{ role: 'user', content }] }), { ...config, seed }).textSeed;
    assert.equal(generatedText(seedOf('a'), 5), generatedText(seedOf('a'), 5));
    assert.notEqual(generatedText(seedOf('a'), 5), generatedText(seedOf('b'), 5));
    assert.notEqual(generatedText(seedOf('a'), 5), generatedText(seedOf('a', 1), 5));
  });
});

describe('Scheduler', { timeout: 20_000 }, () => {
  it('admits up to maxNumSeqs, queues in order, and drops aborted waiters', async () => {
    const s = new Scheduler(1, 10);
    const never = new AbortController().signal;
    await s.acquire(never);
    const order: string[] = [];
    const ac = new AbortController();
    const b = s.acquire(ac.signal).then(
      () => order.push('b'),
      () => order.push('b aborted'),
    );
    const c = s.acquire(never).then(() => order.push('c'));
    assert.deepEqual([s.running, s.waiting], [1, 2]);
    ac.abort();
    await b;
    assert.equal(s.waiting, 1);
    s.release();
    await c;
    assert.deepEqual(order, ['b aborted', 'c']);
    assert.deepEqual([s.running, s.waiting], [1, 0]);
  });

  it('answers 503 when the queue is full', async () => {
    const s = new Scheduler(1, 0);
    await s.acquire(new AbortController().signal);
    await assert.rejects(s.acquire(new AbortController().signal), (err: unknown) => err instanceof HttpError && err.status === 503);
  });
});
