import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { FakeVllm } from '@synkti/fake-vllm';
import OpenAI from 'openai';
import type { AgentProcess } from '../harness/agent-process.js';
import { type FakeEngineAgent, startEngineAgent, waitHealthy } from '../harness/engine-fleet.js';
import { TestFleet } from '../harness/fleet.js';
import { loseNode, MODEL, referenceText, startReferenceEngine, type StreamKind, type StreamResult, streamCompletion, until } from '../harness/streams.js';

/** Decode speed of every fake engine: a 1,000-token answer takes 10 s, so a loss lands mid-stream. */
const TOKENS_PER_S = 100;
const ENGINE = [`--tokens-per-s=${TOKENS_PER_S}`];
const TOKENS = 1_000;
const STREAMS = 32;

function params(kind: StreamKind, i: number, extra: Record<string, unknown> = {}): Record<string, unknown> {
  const base = { model: MODEL, max_tokens: TOKENS, temperature: 0, ignore_eos: true, stream_options: { include_usage: true }, ...extra };
  return kind === 'chat' ? { ...base, messages: [{ role: 'user', content: `migration test ${i}` }] } : { ...base, prompt: `Migration test ${i}:` };
}

function assertWhole(r: StreamResult, reference: string, label: string): void {
  assert.equal(r.error, null, `${label}: raised ${r.error?.message}`);
  assert.deepEqual(r.finishReasons, ['length'], `${label}: one finish_reason`);
  assert.equal(r.contentChunks, TOKENS, `${label}: every token`);
  assert.equal(r.usage?.completion_tokens, TOKENS, `${label}: usage counts the whole answer`);
  assert.equal(r.ids.size, 1, `${label}: one id`);
  assert.ok(r.roles <= 1, `${label}: at most one role delta`);
  assert.equal(r.text, reference, `${label}: the text of an uninterrupted run`);
  assert.ok(r.sawDone, `${label}: the body ended with data: [DONE]`);
  assert.ok(!r.sawErrorEvent, `${label}: no error event`);
}

describe('unbroken streams: the serving node is lost mid-stream', { timeout: 300_000 }, () => {
  let reference: FakeVllm;
  before(async () => {
    reference = await startReferenceEngine();
  });
  after(() => reference.stop());

  for (const kind of ['chat', 'text'] as const) {
    it(`${kind}: ${STREAMS} streams through one agent; every other serving peer loses agent and engine after ~50 tokens; every stream is whole`, async () => {
      const fleet = await TestFleet.create();
      try {
        const nodes: FakeEngineAgent[] = [];
        for (let i = 0; i < 4; i++) nodes.push(await startEngineAgent(fleet, `n${i}`, ENGINE, ['--engine-capacity', '64']));
        const entry = nodes[0]!.agent;
        await waitHealthy(entry, 4);
        const progress = new Array<number>(STREAMS).fill(0);
        const results = Array.from({ length: STREAMS }, (_, i) => streamCompletion(entry.apiUrl, kind, params(kind, i), (n) => (progress[i] = n)));
        const references = await Promise.all(Array.from({ length: STREAMS }, (_, i) => referenceText(reference, kind, params(kind, i))));
        await until('every stream to pass 50 tokens', () => progress.every((n) => n >= 50), 60_000);
        const victims = lostPeers(nodes.map((n) => n.agent), entry);
        await Promise.all(victims.map((v) => loseNode(v)));
        const done = await Promise.all(results);
        const onVictims = done.filter((r) => victims.some((v) => v.peerId === r.firstPeer)).length;
        assert.ok(onVictims > 0, 'some streams were served by the lost peers');
        const trouble = entry.logs.filter((l) => Number(l['level']) >= 40).map((l) => `${String(l['msg'])} ${JSON.stringify({ requestId: l['requestId'], reason: l['reason'], detail: l['detail'], notContinued: l['notContinued'], err: (l['err'] as { message?: string } | undefined)?.message })}`);
        done.forEach((r, i) => assertWhole(r, references[i]!, `stream ${i} ${r.requestId} (first served by ${r.firstPeer === entry.peerId ? 'the entry' : r.firstPeer}; entry warnings: ${trouble.slice(-12).join(' | ')})`));
      } finally {
        await fleet.close();
      }
    });
  }

  it('a json_schema stream whose peer is lost ends with an error the openai client raises, never a clean end', async () => {
    const fleet = await TestFleet.create();
    try {
      const entry = (await startEngineAgent(fleet, 'gw', ENGINE)).agent;
      // The entry's own engine is busy with nothing; make the peer serve by stopping routing to self:
      // two peers, lose whichever served.
      const peers = [await startEngineAgent(fleet, 'p1', ENGINE), await startEngineAgent(fleet, 'p2', ENGINE)];
      await waitHealthy(entry, 3);
      const json = { response_format: { type: 'json_schema', json_schema: { name: 'answer', schema: { type: 'object' } } } };
      const progress = [0, 0, 0, 0, 0, 0];
      const results = progress.map((_, i) => streamCompletion(entry.apiUrl, 'chat', params('chat', 100 + i, json), (n) => (progress[i] = n)));
      await until('every stream to pass 20 tokens', () => progress.every((n) => n >= 20), 30_000);
      await Promise.all(peers.map((p) => loseNode(p.agent)));
      const done = await Promise.all(results);
      const lost = done.filter((r) => r.firstPeer !== entry.peerId);
      assert.ok(lost.length > 0, 'some streams were served by the lost peers');
      for (const r of lost) {
        assert.ok(r.sawErrorEvent, 'the stream carried an SSE error event');
        assert.ok(r.error instanceof OpenAI.APIError, `the openai client raised the error event as an APIError, not ${String(r.error)}`);
        assert.ok(!r.sawDone, 'no [DONE] after the error');
        assert.deepEqual(r.finishReasons, [], 'no finish_reason was invented');
        assert.ok(r.contentChunks < TOKENS);
      }
    } finally {
      await fleet.close();
    }
  });
});

/** Every other peer (the entry excluded), in peer-ID order: half the serving capacity is reclaimed. */
function lostPeers(agents: AgentProcess[], entry: AgentProcess): AgentProcess[] {
  return agents.filter((a) => a !== entry).sort((a, b) => (a.peerId < b.peerId ? -1 : 1)).filter((_, i) => i % 2 === 0);
}
