import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { FakeVllm } from '@synkti/fake-vllm';
import { FAST_TIMINGS, signalGroup } from '../harness/agent-process.js';
import { startEngineAgent, waitHealthy } from '../harness/engine-fleet.js';
import { TestFleet } from '../harness/fleet.js';
import { enginePidOf, MODEL, referenceText, startReferenceEngine, streamCompletion, until } from '../harness/streams.js';

const TOKENS = 300;

const chat = (i: number) => ({ model: MODEL, max_tokens: TOKENS, temperature: 0, ignore_eos: true, stream_options: { include_usage: true }, messages: [{ role: 'user', content: `engine fault ${i}` }] });


const fault = (engineUrl: string, patch: object) => fetch(`${engineUrl}/_fake/faults`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(patch) });

describe('unbroken streams: engines that die and peers that freeze', { timeout: 240_000 }, () => {
  let fast: FakeVllm;
  before(async () => {
    fast = await startReferenceEngine();
  });
  after(() => fast.stop());

  it('migrates streams whose engine alone dies, both ways vLLM dies: the process vanishes; an error event then [DONE]', async () => {
    const fleet = await TestFleet.create();
    try {
      const entry = (await startEngineAgent(fleet, 'entry', [], ['--engine-runtime', 'none'])).agent;
      const killed = await startEngineAgent(fleet, 'killed', ['--tokens-per-s=100']);
      const dying = await startEngineAgent(fleet, 'dying', ['--tokens-per-s=100']);
      await startEngineAgent(fleet, 'healthy', ['--tokens-per-s=100']);
      await waitHealthy(entry, 3);
      const progress = new Array<number>(12).fill(0);
      const results = progress.map((_, i) => streamCompletion(entry.apiUrl, 'chat', chat(i), (n) => (progress[i] = n)));
      await until('every stream to pass 30 tokens', () => progress.every((n) => n >= 30), 30_000);
      signalGroup(await enginePidOf(killed.agent), 'SIGKILL');
      await fault(dying.engineUrl, { die: true });
      const done = await Promise.all(results);
      assert.ok(done.some((r) => r.firstPeer === killed.agent.peerId) && done.some((r) => r.firstPeer === dying.agent.peerId), 'both failing engines served streams');
      for (const [i, r] of done.entries()) {
        assert.equal(r.error, null, `stream ${i}: ${r.error?.message}`);
        assert.deepEqual([r.contentChunks, r.usage?.completion_tokens, r.finishReasons.length, r.sawDone, r.sawErrorEvent], [TOKENS, TOKENS, 1, true, false]);
        assert.equal(r.text, await referenceText(fast, 'chat', chat(i)));
      }
      assert.ok(entry.logs.some((l) => l['msg'] === 'stream migrated' && l['reason'] === 'engine-error'), 'the error event was taken for a break');

    } finally {
      await fleet.close();
    }
  });

  it('retries a stream whose engine dies before its first token (vLLM has sent the head): the client sees one clean answer', async () => {
    const fleet = await TestFleet.create();
    try {
      const entry = (await startEngineAgent(fleet, 'entry', [], ['--engine-runtime', 'none'])).agent;
      const slow = await startEngineAgent(fleet, 'slow', ['--ttft-ms=3000']);
      const healthy = await startEngineAgent(fleet, 'healthy');
      await waitHealthy(entry, 2);
      // Two candidates: the power of two choices alternates between them, so half go to the slow one.
      const early = Array.from({ length: 6 }, (_, i) => streamCompletion(entry.apiUrl, 'chat', { ...chat(50 + i), max_tokens: 20 }));
      await new Promise((r) => setTimeout(r, 500));
      await fault(slow.engineUrl, { die: true });
      for (const r of await Promise.all(early)) {
        assert.equal(r.error, null);
        assert.deepEqual([r.contentChunks, r.roles, r.finishReasons.length, r.ids.size], [20, 1, 1, 1]);
        assert.equal(r.firstPeer, healthy.agent.peerId);
      }
      // Under load a request may reach the engine only after it died (a 500: refused before any head).
      const retried = new Set(['stream failed before its first token; retrying on another peer', 'attempt failed before a response; trying the next peer']);
      assert.ok(entry.logs.some((l) => retried.has(l['msg'] as string) && l['peer'] === slow.agent.peerId), 'streams were retried away from the dying engine');
    } finally {
      await fleet.close();
    }
  });

  it('a peer frozen (SIGSTOP) before its first token costs one deadline: served elsewhere within deadline + 1 s, never tried again', async () => {
    const fleet = await TestFleet.create();
    const deadlineMs = 2_000;
    try {
      // The entry learns of the freeze only after suspectAfter: requests sent at once still go there.
      const entry = (await startEngineAgent(fleet, 'entry', [], ['--engine-runtime', 'none', '--first-token-timeout-ms', String(deadlineMs), ...FAST_TIMINGS])).agent;
      const frozen = await startEngineAgent(fleet, 'frozen');
      const other = await startEngineAgent(fleet, 'other');
      await waitHealthy(entry, 2);
      const enginePid = await enginePidOf(frozen.agent);
      frozen.agent.kill('SIGSTOP');
      signalGroup(enginePid, 'SIGSTOP');
      try {
        const started = Date.now();
        const results = await Promise.all(Array.from({ length: 6 }, async (_, i) => {
          let firstTokenMs = Infinity;
          const r = await streamCompletion(entry.apiUrl, 'chat', { ...chat(70 + i), max_tokens: 20 }, (n) => {
            if (n > 0) firstTokenMs = Math.min(firstTokenMs, Date.now() - started);
          });
          return { r, firstTokenMs };
        }));
        for (const { r, firstTokenMs } of results) {
          assert.equal(r.error, null);
          assert.ok(r.sawDone);
          assert.equal(r.firstPeer, other.agent.peerId);
          assert.ok(firstTokenMs < deadlineMs + 1_000, `first token after ${firstTokenMs} ms (deadline ${deadlineMs} ms)`);
        }
        const abandoned = new Set(['stream failed before its first token; retrying on another peer', 'attempt failed before a response; trying the next peer']);
        const timeouts = entry.logs.filter((l) => abandoned.has(l['msg'] as string) && l['peer'] === frozen.agent.peerId);
        assert.ok(timeouts.length > 0, 'some request went to the frozen peer first');
        const perRequest = new Map<unknown, number>();
        for (const l of timeouts) perRequest.set(l['requestId'], (perRequest.get(l['requestId']) ?? 0) + 1);
        assert.ok([...perRequest.values()].every((n) => n === 1), 'the frozen peer was not tried again for the same request');
      } finally {
        signalGroup(enginePid, 'SIGCONT');
        frozen.agent.kill('SIGCONT');
      }
    } finally {
      await fleet.close();
    }
  });
});
