import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { PrefixCache } from './prefix-cache.js';
import { client, json, MODEL, metricValue, postJson, scrape, startFake } from './test-helpers.js';
import { encodeText } from './text.js';

describe('prefix cache and the metrics vLLM has beyond load', { timeout: 20_000 }, () => {
  it('PrefixCache: a hit is the longest prefix shared with a remembered prompt', () => {
    const cache = new PrefixCache(8);
    assert.equal(cache.lookup([1, 2, 3, 4]), 0, 'nothing seen yet');
    assert.equal(cache.lookup([1, 2, 3, 4]), 4, 'the same prompt again');
    assert.equal(cache.lookup([1, 2, 9]), 2);
    assert.equal(cache.lookup([1, 2, 9, 9, 9]), 3, 'the longest of several matches');
    assert.equal(cache.lookup([7, 1, 2]), 0, 'a prefix, not a substring');
    assert.equal(cache.lookup([]), 0);
  });

  it('PrefixCache: remembers only the last `capacity` prompts', () => {
    const cache = new PrefixCache(2);
    cache.lookup([1, 1]);
    cache.lookup([2, 2]);
    cache.lookup([3, 3]); // pushes [1, 1] out
    assert.equal(cache.lookup([1, 1]), 0);
    assert.equal(cache.lookup([3, 3]), 2);
  });

  it('counts prefix cache queries and hits in tokens, once per prompt, at prefill', async (t) => {
    const { url } = await startFake(t.after.bind(t));
    const system = 'You are a careful assistant who answers briefly. ';
    const complete = (prompt: string, n = 1) =>
      json(postJson(url, '/v1/completions', { model: MODEL, prompt, max_tokens: 2, n }));
    const first = `${system}What is a prefix cache?`;
    const second = `${system}Why does it help?`;
    await complete(first);
    await complete(first, 3); // three choices, one prefill
    await complete(second);
    const ids = [encodeText(first), encodeText(second)] as const;
    let shared = 0;
    while (ids[0][shared] === ids[1][shared]) shared++;
    assert.ok(shared > 0 && shared < ids[1].length, 'the prompts share a proper prefix');
    const text = await scrape(url);
    assert.equal(metricValue(text, 'vllm:prefix_cache_queries_total'), 2 * ids[0].length + ids[1].length);
    assert.equal(metricValue(text, 'vllm:prefix_cache_hits_total'), ids[0].length + shared);
    assert.equal(metricValue(text, 'vllm:prompt_tokens_total'), metricValue(text, 'vllm:prefix_cache_queries_total'));
  });

  it('exposes preemptions (never any) and the prefix cache counters in vLLM text format', async (t) => {
    const { url } = await startFake(t.after.bind(t), { maxNumSeqs: 1 });
    const openai = client(url);
    // More requests than slots: they queue, they are not preempted.
    await Promise.all([1, 2, 3].map(() => openai.completions.create({ model: MODEL, prompt: 'abcd', max_tokens: 3 })));
    const text = await scrape(url);
    const labels = 'engine="0",model_name="synkti/fake-model"';
    for (const [name, help] of [
      ['vllm:num_preemptions_total', 'Cumulative number of preemption from the engine.'],
      ['vllm:prefix_cache_queries_total', 'Prefix cache queries, in terms of number of queried tokens.'],
      ['vllm:prefix_cache_hits_total', 'Prefix cache hits, in terms of number of cached tokens.'],
    ] as const) {
      assert.ok(text.includes(`# HELP ${name} ${help}\n# TYPE ${name} counter\n${name}{${labels}} `), name);
    }
    assert.equal(metricValue(text, 'vllm:num_preemptions_total'), 0);
    assert.match(text, /^vllm:prefix_cache_queries_total\{[^}]*\} 3\.0$/m);
    assert.match(text, /^vllm:prefix_cache_hits_total\{[^}]*\} 2\.0$/m);
  });

  it('GET /version answers like vLLM; engineVersion overrides the default', async (t) => {
    const fake = await startFake(t.after.bind(t));
    assert.deepEqual(await json(fetch(`${fake.url}/version`)), { version: '0.0.0+synkti.fake' });
    const pinned = await startFake(t.after.bind(t), { engineVersion: '0.11.0' });
    assert.deepEqual(await json(fetch(`${pinned.url}/version`)), { version: '0.11.0' });
  });
});
