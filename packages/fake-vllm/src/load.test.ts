import assert from 'node:assert/strict';
import { request } from 'node:http';
import { describe, it } from 'node:test';
import { client, MODEL, metricValue, scrape, startFake, waitFor } from './test-helpers.js';

describe('load, queueing and cancellation', { timeout: 20_000 }, () => {
  it('queues beyond maxNumSeqs, visible in /metrics; aborted clients are cancelled', async (t) => {
    // Slow decoding so the requests stay in flight until the test aborts them.
    const { fake, url } = await startFake(t.after.bind(t), { maxNumSeqs: 2, tokensPerS: 5 });
    const openai = client(url);
    const aborts = [0, 1, 2, 3, 4].map(() => new AbortController());
    const calls = aborts.map((ac) =>
      openai.chat.completions
        .create({ model: MODEL, messages: [{ role: 'user', content: 'q' }], max_tokens: 200 }, { signal: ac.signal })
        .then(
          () => 'answered',
          () => 'aborted',
        ),
    );
    const text = await waitFor(async () => {
      const metrics = await scrape(url);
      return metricValue(metrics, 'vllm:num_requests_waiting') === 3 ? metrics : undefined;
    }, '3 waiting');
    assert.equal(metricValue(text, 'vllm:num_requests_running'), 2);
    assert.equal(metricValue(text, 'vllm:kv_cache_usage_perc'), 1);
    assert.match(text, /^vllm:num_requests_running\{engine="0",model_name="synkti\/fake-model"\} 2\.0$/m);
    assert.match(text, /^# TYPE vllm:time_to_first_token_seconds histogram$/m);

    // A waiting request leaves the queue; a running one frees its slot for the next in line.
    aborts[4]?.abort();
    await waitFor(() => (fake.stats().cancelled === 1 ? true : undefined), 'one cancelled while waiting');
    assert.equal(fake.stats().waiting, 2);
    aborts[0]?.abort();
    await waitFor(() => (fake.stats().cancelled === 2 && fake.stats().waiting === 1 ? true : undefined), 'slot handed on');
    assert.equal(fake.stats().running, 2);
    for (const ac of aborts) ac.abort();
    assert.deepEqual(await Promise.all(calls), ['aborted', 'aborted', 'aborted', 'aborted', 'aborted']);
    await waitFor(() => (fake.stats().cancelled === 5 ? true : undefined), 'all cancelled');
    const after = await scrape(url);
    assert.equal(metricValue(after, 'vllm:num_requests_running'), 0);
    assert.equal(metricValue(after, 'vllm:num_requests_waiting'), 0);
    assert.equal(fake.stats().served, 0);
  });

  it('sees a streaming client that disconnects mid-stream', async (t) => {
    const { fake, url } = await startFake(t.after.bind(t), { tokensPerS: 20 });
    const body = JSON.stringify({ model: MODEL, prompt: 'p', stream: true, max_tokens: 500, ignore_eos: true });
    const req = request(`${url}/v1/completions`, { method: 'POST', headers: { 'content-type': 'application/json' } });
    req.on('error', () => {});
    req.end(body);
    const [res] = await new Promise<[import('node:http').IncomingMessage]>((resolve) => req.once('response', (r) => resolve([r])));
    await new Promise((resolve) => res.once('data', resolve));
    assert.equal(fake.stats().running, 1);
    req.destroy();
    await waitFor(() => (fake.stats().cancelled === 1 && fake.stats().running === 0 ? true : undefined), 'cancelled');
  });

  it('counts prompt and generation tokens and observes time to first token', async (t) => {
    const { url } = await startFake(t.after.bind(t));
    const openai = client(url);
    const a = await openai.completions.create({ model: MODEL, prompt: 'abcdefgh', max_tokens: 3 });
    const b = await openai.chat.completions.create({ model: MODEL, messages: [{ role: 'user', content: 'hi' }] });
    const text = await scrape(url);
    assert.equal(metricValue(text, 'vllm:prompt_tokens_total'), (a.usage?.prompt_tokens ?? 0) + (b.usage?.prompt_tokens ?? 0));
    assert.equal(metricValue(text, 'vllm:generation_tokens_total'), 3 + 12);
    assert.equal(metricValue(text, 'vllm:time_to_first_token_seconds_count'), 2);
    assert.match(text, /^vllm:time_to_first_token_seconds_bucket\{engine="0",model_name="synkti\/fake-model",le="\+Inf"\} 2\.0$/m);
    assert.ok((metricValue(text, 'vllm:time_to_first_token_seconds_sum') ?? 0) > 0);
  });
});
