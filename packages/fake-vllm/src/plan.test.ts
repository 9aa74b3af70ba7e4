import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { HttpError } from './errors.js';
import { parseOptions } from './options.js';
import { type CompletionJob, planJob, type PromptJob } from './plan.js';
import { Scheduler } from './scheduler.js';

const config = parseOptions({ models: ['m'], maxModelLen: 64, maxTokensDefault: 16, answerTokens: 12 });
const chat = (extra: object = {}) => ({ model: 'm', messages: [{ role: 'user', content: 'hi' }], ...extra });
/** The first (for these tests: only) prompt of a job. */
const one = (job: CompletionJob): PromptJob & { promptTokens: number } => {
  const prompt = job.prompts[0]!;
  return { ...prompt, promptTokens: prompt.promptTokenIds.length };
};

const rejectsWith = (status: number, pattern: RegExp, body: unknown, kind: 'chat' | 'text' = 'chat') =>
  assert.throws(
    () => planJob(kind, body, config),
    (err: unknown) => err instanceof HttpError && err.status === status && pattern.test(err.message),
  );

describe('planJob', { timeout: 20_000 }, () => {
  it('ends with stop below the limit, length at or past it', () => {
    assert.deepEqual(
      [planJob('chat', chat(), config), planJob('chat', chat({ max_tokens: 12 }), config), planJob('chat', chat({ max_tokens: 13 }), config)]
        .map(one)
        .map((j) => [j.outputTokens, j.finishReason]),
      [
        [12, 'stop'],
        [12, 'length'],
        [12, 'stop'],
      ],
    );
    assert.equal(one(planJob('chat', chat({ min_tokens: 14, max_tokens: 20 }), config)).outputTokens, 14);
    assert.equal(one(planJob('chat', chat({ max_completion_tokens: 2, max_tokens: 9 }), config)).outputTokens, 2);
  });

  it('defaults like vLLM: chat to the context left, legacy completions to 16', () => {
    // 'hi' renders to 7 tokens of a 64-token context.
    assert.deepEqual([one(planJob('chat', chat({ ignore_eos: true }), config))].map((j) => [j.outputTokens, j.finishReason]), [[57, 'length']]);
    assert.equal(one(planJob('text', { model: 'm', prompt: 'x', ignore_eos: true }, config)).outputTokens, 16);
  });

  it('ends a continued answer answerTokens into the assistant message', () => {
    const messages = [
      { role: 'user', content: 'hi' },
      { role: 'assistant', content: 'the fleet serves' },
    ];
    const job = one(planJob('chat', chat({ messages, continue_final_message: true, add_generation_prompt: false }), config));
    assert.deepEqual([job.outputTokens, job.finishReason], [9, 'stop']);
    assert.equal(job.context, '<|user|>\nhi\n<|assistant|>\nthe fleet serves');
    const done = messages.map((m, i) => (i === 1 ? { ...m, content: Array(12).fill('a').join(' ') } : m));
    const finished = one(planJob('chat', chat({ messages: done, continue_final_message: true, add_generation_prompt: false }), config));
    assert.deepEqual([finished.outputTokens, finished.finishReason], [0, 'stop'], 'nothing left: an immediate EOS');
  });

  it('plans n choices per prompt and batched prompts', () => {
    const job = planJob('text', { model: 'm', prompt: ['ab', 'cd'], n: 3 }, config);
    assert.equal(job.n, 3);
    assert.deepEqual(
      job.prompts.map((p) => p.context),
      ['ab', 'cd'],
    );
    assert.equal(planJob('text', { model: 'm', prompt: [[1000, 1001], [7]] }, config).prompts.length, 2);
  });

  it('counts prompts: ~4 characters a token, token-id prompts by length', () => {
    assert.equal(one(planJob('text', { model: 'm', prompt: 'abcdefghi' }, config)).promptTokens, 3);
    assert.equal(one(planJob('text', { model: 'm', prompt: [1, 2, 3, 4, 5] }, config)).promptTokens, 5);
    assert.equal(one(planJob('text', { model: 'm', prompt: ['abcd'] }, config)).promptTokens, 1);
  });

  it('caps the default output by the room left in the context', () => {
    const job = one(planJob('text', { model: 'm', prompt: 'x'.repeat(240) }, config));
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
    rejectsWith(400, /^n must be at least 1, got 0\.$/, chat({ n: 0 }));
    rejectsWith(400, /Input should be/, chat({ model: 7 }));
    rejectsWith(400, /^min_tokens must be less than or equal to max_tokens=5, got 6\.$/, chat({ max_tokens: 5, min_tokens: 6 }));
    rejectsWith(400, /^The decoder prompt cannot be empty$/, { model: 'm', prompt: '' }, 'text');
    rejectsWith(400, /the prompt is empty/, { model: 'm', prompt: [] }, 'text');
    const cannot = /^Cannot set both `continue_final_message` and `add_generation_prompt` to True\.$/;
    rejectsWith(400, cannot, chat({ continue_final_message: true }));
    rejectsWith(400, cannot, chat({ continue_final_message: true, add_generation_prompt: true }));
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
