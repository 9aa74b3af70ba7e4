import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { continuationBody, describeCompletion, firstAttemptBody, NotContinuableError } from './completion.js';

const chat = (extra: Record<string, unknown> = {}) => ({ model: 'm', messages: [{ role: 'user', content: 'q' }], stream: true, ...extra });

describe('what a continuation may be built from', () => {
  it('names why a stream may not be migrated', () => {
    const cases: [Record<string, unknown>, string | null][] = [
      [chat(), null],
      [chat({ stream: false }), 'not streamed'],
      [chat({ n: 2 }), 'n > 1'],
      [chat({ response_format: { type: 'json_schema' } }), 'response_format json_schema'],
      [chat({ response_format: { type: 'json_object' } }), 'response_format json_object'],
      [chat({ response_format: { type: 'text' } }), null],
      [chat({ guided_regex: 'a+' }), 'guided decoding (guided_regex)'],
      [chat({ structured_outputs: { json: {} } }), 'guided decoding (structured_outputs)'],
      [chat({ logprobs: true }), 'logprobs'],
      [chat({ logprobs: false }), null],
      [chat({ top_logprobs: 2 }), 'logprobs'],
      [chat({ echo: true }), 'echo'],
    ];
    for (const [body, why] of cases) assert.equal(describeCompletion('chat', body).notMigratable, why, JSON.stringify(body));
    assert.equal(describeCompletion('text', { model: 'm', prompt: ['a', 'b'], stream: true }).notMigratable, 'batched prompts');
    assert.equal(describeCompletion('text', { model: 'm', prompt: [1, 2, 3], stream: true }).notMigratable, null);
  });

  it('asks the engine for per-chunk usage on a migratable stream only', () => {
    const asked = firstAttemptBody(describeCompletion('chat', chat({ stream_options: { include_usage: false } })));
    assert.deepEqual(asked['stream_options'], { include_usage: true, continuous_usage_stats: true });
    const untouched = chat({ n: 2 });
    assert.equal(firstAttemptBody(describeCompletion('chat', untouched)), untouched);
  });

  it('reduces every token limit by what was sent, and keeps the rest of the request', () => {
    const body = continuationBody(describeCompletion('chat', chat({ max_completion_tokens: 100, min_tokens: 30, seed: 7, temperature: 0 })), { text: 'so far', tokenIds: null, tokens: 40 });
    assert.deepEqual([body['max_completion_tokens'], body['min_tokens'], body['seed'], body['temperature']], [60, 0, 7, 0]);
    assert.deepEqual((body['messages'] as unknown[]).at(-1), { role: 'assistant', content: 'so far' });
  });

  it('continues a token-id prompt with token ids, and refuses when the engine did not report them', () => {
    const request = describeCompletion('text', { model: 'm', prompt: [5, 6], max_tokens: 10, stream: true });
    assert.deepEqual(continuationBody(request, { text: ' a b', tokenIds: [1001, 1002], tokens: 2 })['prompt'], [5, 6, 1001, 1002]);
    assert.throws(() => continuationBody(request, { text: ' a b', tokenIds: null, tokens: 2 }), NotContinuableError);
    assert.deepEqual(continuationBody(describeCompletion('text', { model: 'm', prompt: ['P:'], stream: true }), { text: ' a', tokenIds: null, tokens: 1 })['prompt'], ['P: a']);
  });
});
