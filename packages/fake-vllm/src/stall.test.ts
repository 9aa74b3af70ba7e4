import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { client, json, MODEL, metricValue, postJson, scrape, startFake, statusOf, waitFor } from './test-helpers.js';

const ask = (url: string, content = 'x') =>
  client(url).chat.completions.create({ model: MODEL, messages: [{ role: 'user', content }], max_tokens: 4 });

/** Ten token times at `tokensPerS`: long enough that a running engine would visibly progress. */
const tenTokenTimes = (tokensPerS: number) => new Promise((resolve) => setTimeout(resolve, 10_000 / tokensPerS));

describe('faults that leave /health at 200: a stalled engine, a slow /health', { timeout: 20_000 }, () => {
  it('stall: nothing progresses, newcomers wait, every route still answers; healing resumes all', async (t) => {
    const { fake, url } = await startFake(t.after.bind(t), { tokensPerS: 100, maxNumSeqs: 4 });
    const stream = await client(url).completions.create({ model: MODEL, prompt: 'x', stream: true, max_tokens: 6 });
    const iterator = stream[Symbol.asyncIterator]();
    await iterator.next();
    const res = await postJson(url, '/_fake/faults', { stall: true });
    assert.equal(res.status, 200);
    assert.equal((await json(res)).faults.stall, true);
    const tokensAtStall = fake.stats().generationTokens;

    // A newcomer waits although three slots are free: the deadlocked scheduler admits nothing.
    const late = ask(url);
    await waitFor(() => (fake.stats().waiting === 1 ? true : undefined), 'the newcomer waiting');
    await tenTokenTimes(100);
    const metrics = await scrape(url);
    assert.equal(metricValue(metrics, 'vllm:num_requests_running'), 1);
    assert.equal(metricValue(metrics, 'vllm:num_requests_waiting'), 1);
    // The token in flight when the stall began may still land; nothing after it.
    const flat = metricValue(metrics, 'vllm:generation_tokens_total') ?? -1;
    assert.ok(flat <= tokensAtStall + 1, `no progress while stalled: ${tokensAtStall} then ${flat}`);
    assert.equal((await fetch(`${url}/health`)).status, 200, "vLLM's /health only checks for an errored engine");
    assert.equal(await statusOf(fetch(`${url}/v1/models`)), 200);
    assert.equal(metricValue(await scrape(url), 'vllm:generation_tokens_total'), flat, 'still flat');
    assert.equal(fake.stats().held, 0, 'requests are held by the engine, not at the door as in a hang');

    assert.equal((await postJson(url, '/_fake/faults', { stall: false })).status, 200);
    let rest = 0;
    for (let next = await iterator.next(); next.done !== true; next = await iterator.next()) rest++;
    assert.ok(rest >= 5, `the stream resumed where it stopped: ${rest} more chunks`);
    assert.equal((await late).choices[0]?.finish_reason, 'length');
    assert.equal(fake.stats().served, 2);
  });

  it('stall holds a request mid-prefill and those not yet admitted: prompt tokens and prefix cache stay flat', async (t) => {
    const ttftMs = 100;
    const { fake, url } = await startFake(t.after.bind(t), { ttftMs, maxNumSeqs: 1 });
    const first = ask(url, 'a prompt of some length');
    await waitFor(() => (fake.stats().running === 1 ? true : undefined), 'the first request prefilling');
    fake.setFaults({ stall: true });
    const atStall = fake.stats().promptTokens; // 0 unless this machine was slower than a prefill
    const second = ask(url, 'another prompt');
    await waitFor(() => (fake.stats().waiting === 1 ? true : undefined), 'the second request waiting');
    assert.equal((await fetch(`${url}/health`)).status, 200);
    await new Promise((resolve) => setTimeout(resolve, 3 * ttftMs)); // past the prefill time
    const metrics = await scrape(url);
    assert.equal(metricValue(metrics, 'vllm:prompt_tokens_total'), atStall, 'the prefill did not complete');
    assert.equal(metricValue(metrics, 'vllm:prefix_cache_queries_total'), atStall);
    fake.setFaults({ stall: false });
    assert.equal((await first).choices[0]?.finish_reason, 'length');
    assert.equal((await second).choices[0]?.finish_reason, 'length');
    assert.ok(fake.stats().promptTokens > atStall);
  });

  it('stallAfterMs stalls later, null cancels one pending; a stalled engine can still die', async (t) => {
    const { fake, url } = await startFake(t.after.bind(t), { faults: { deathExitMs: null } });
    fake.setFaults({ stallAfterMs: 60_000 });
    assert.equal(fake.stats().faults.stallAfterMs, 60_000);
    fake.setFaults({ stallAfterMs: null });
    assert.equal(fake.stats().faults.stallAfterMs, null);
    assert.equal((await postJson(url, '/_fake/faults', { stallAfterMs: 1 })).status, 200);
    await waitFor(() => (fake.stats().faults.stall ? true : undefined), 'stalled after 1 ms');
    assert.equal(fake.stats().faults.stallAfterMs, null, 'fired');
    const answer = ask(url).then(
      () => 'answered',
      (err: { status?: number }) => err.status,
    );
    await waitFor(() => (fake.stats().waiting === 1 ? true : undefined), 'the request waiting');
    fake.setFaults({ die: true });
    assert.equal(await answer, 500, 'the waiting request fails with the engine death');
    assert.equal((await fetch(`${url}/health`)).status, 503);
  });

  it('healthDelayMs: /health answers 200 only after the delay while generation goes on', async (t) => {
    const { fake, url } = await startFake(t.after.bind(t), { faults: { healthDelayMs: 60_000 } });
    let settled = false;
    const health = fetch(`${url}/health`).then((res) => {
      settled = true;
      return res.status;
    });
    await waitFor(() => (fake.stats().healthWaiting === 1 ? true : undefined), 'the probe delayed');
    assert.equal((await ask(url)).choices[0]?.finish_reason, 'length', 'completions are not delayed');
    assert.equal(metricValue(await scrape(url), 'vllm:generation_tokens_total'), 4);
    assert.equal(settled, false, 'the probe is still waiting');
    // A shorter delay re-times the waiting probe; it has waited longer than that already.
    assert.equal((await json(postJson(url, '/_fake/faults', { healthDelayMs: 1 }))).faults.healthDelayMs, 1);
    assert.equal(await health, 200);
    assert.equal(fake.stats().healthWaiting, 0);
  });

  it('healthDelayPerRequestMs: /health answers at once when idle and waits in proportion to the requests running or waiting', async (t) => {
    const { fake, url } = await startFake(t.after.bind(t), { tokensPerS: 20, faults: { healthDelayPerRequestMs: 60_000 } });
    assert.equal((await fetch(`${url}/health`)).status, 200, 'an idle engine answers at once');
    const stream = await client(url).completions.create({ model: MODEL, prompt: 'x', stream: true, max_tokens: 200 });
    const iterator = stream[Symbol.asyncIterator]();
    await iterator.next();
    let settled = false;
    const health = fetch(`${url}/health`).then((res) => {
      settled = true;
      return res.status;
    });
    await waitFor(() => (fake.stats().healthWaiting === 1 ? true : undefined), 'the probe delayed by the running request');
    assert.equal(settled, false);
    assert.equal((await json(postJson(url, '/_fake/faults', { healthDelayPerRequestMs: 0 }))).faults.healthDelayPerRequestMs, 0);
    assert.equal(await health, 200);
    await stream.controller.abort();
  });

  it('healthDelayMs: a probe whose client gives up stops waiting; stop() ends the rest', async (t) => {
    const { fake, url } = await startFake(t.after.bind(t), { faults: { healthDelayMs: 60_000 } });
    const gone = new AbortController();
    const abandoned = fetch(`${url}/health`, { signal: gone.signal }).catch(() => 'aborted');
    const pending = fetch(`${url}/health`).then(
      (res) => res.status,
      () => 'cut',
    );
    await waitFor(() => (fake.stats().healthWaiting === 2 ? true : undefined), 'two probes delayed');
    gone.abort();
    assert.equal(await abandoned, 'aborted');
    await waitFor(() => (fake.stats().healthWaiting === 1 ? true : undefined), 'the abandoned probe gone');
    await fake.stop();
    assert.ok((await pending) !== 200, 'a stopped engine answers no delayed probe with 200');
    assert.equal(fake.stats().healthWaiting, 0);
  });
});
