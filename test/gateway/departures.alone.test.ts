import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { FakeVllm } from '@synkti/fake-vllm';
import { EXIT } from 'synkti-agent';
import { AgentProcess } from '../harness/agent-process.js';
import { type FakeEngineAgent, startEngineAgent, waitHealthy } from '../harness/engine-fleet.js';
import { TestFleet } from '../harness/fleet.js';
import { freePort } from '../harness/ports.js';
import { MODEL, type StreamResult, referenceText, startReferenceEngine, streamCompletion, until } from '../harness/streams.js';
import { waitFor } from '../harness/wait.js';

const chat = (i: number, tokens: number) => ({ model: MODEL, max_tokens: tokens, temperature: 0, ignore_eos: true, stream_options: { include_usage: true }, messages: [{ role: 'user', content: `departure ${i}` }] });


/** Nothing of a response arrived: a load balancer may send the request to another agent. */
function refusedBeforeAnyByte(r: StreamResult): boolean {
  const status = (r.error as { status?: number } | null)?.status;
  return r.error !== null && r.contentChunks === 0 && r.roles === 0 && (status === 503 || status === undefined);
}

describe('planned departures hand streams over instead of cutting them', { timeout: 300_000 }, () => {
  let fast: FakeVllm;
  before(async () => {
    fast = await startReferenceEngine();
  });
  after(() => fast.stop());

  it('rolling restart: each agent of three in turn gets SIGTERM and starts again, under 16 streaming clients: 0 failed, 0 truncated', async () => {
    const fleet = await TestFleet.create();
    const TOKENS = 300;
    // Streams take 3 s (100 tokens/s); the ones an agent's engine still serves 1 s after its
    // SIGTERM are handed over, and its own clients' streams keep flowing (served by peers).
    const drain = ['--drain-timeout-ms', '1000', '--drain-relay-timeout-ms', '20000'];
    try {
      const nodes: FakeEngineAgent[] = [];
      for (let i = 0; i < 3; i++) nodes.push(await startEngineAgent(fleet, `r${i}`, ['--tokens-per-s=100'], drain));
      await waitHealthy(nodes[0]!.agent, 3);
      const up = new Set(nodes.map((n) => n.agent));
      let stop = false;
      let next = 0;
      const outcomes: { i: number; r: StreamResult }[] = [];
      let retriedElsewhere = 0;
      // 16 clients behind a load balancer that sends each request to a live agent and tries
      // another when one refuses before any byte (503 while draining, or connection refused).
      const clients = Array.from({ length: 16 }, async (_, c) => {
        while (!stop) {
          const i = next++;
          for (let tries = 0; ; tries++) {
            const agents = [...up];
            const agent = agents[(c + tries) % agents.length]!;
            const r = await streamCompletion(agent.apiUrl, 'chat', chat(i % 40, TOKENS));
            if (refusedBeforeAnyByte(r) && tries < 6) {
              retriedElsewhere++;
              continue;
            }
            outcomes.push({ i, r });
            break;
          }
        }
      });
      for (const node of nodes) {
        await new Promise((r) => setTimeout(r, 1_000));
        const old = node.agent;
        old.kill('SIGTERM');
        const code = await old.exited();
        up.delete(old);
        assert.equal(code, 0, 'a drained agent exits 0');
        const others = [...up].flatMap((a) => a.addrs);
        const restarted = new AgentProcess({ ...old.options, bootstrap: others });
        fleet.agents.push(restarted);
        await restarted.start();
        await waitFor('the restarted agent to be healthy everywhere', async () => ((await restarted.fleet()).peers.filter((p) => p.healthy).length >= 3 ? true : undefined), 30_000);
        up.add(restarted);
        node.agent = restarted;
      }
      stop = true;
      await Promise.all(clients);
      const references = await Promise.all(Array.from({ length: 40 }, (_, i) => referenceText(fast, 'chat', chat(i, TOKENS))));
      const failed = outcomes.filter(({ r }) => r.error !== null);
      const truncated = outcomes.filter(({ i, r }) => r.error === null && (r.contentChunks !== TOKENS || r.finishReasons.length !== 1 || !r.sawDone || r.sawErrorEvent || r.text !== references[i % 40]));
      assert.ok(outcomes.length >= 48, `enough streams ran (${outcomes.length})`);
      assert.deepEqual(failed.map(({ r }) => r.error?.message), [], 'no stream failed');
      assert.equal(truncated.length, 0, 'no stream was truncated or altered');
      const handedOver = fleet.agents.flatMap((a) => a.logs).filter((l) => l['msg'] === 'drain deadline: handed running streams over to other peers');
      assert.ok(handedOver.length > 0, 'the drain deadline handed streams over (the test exercised hand-over)');
      console.log(`rolling restart: ${outcomes.length} streams, ${retriedElsewhere} refused before any byte and sent elsewhere, ${handedOver.length} drains handed streams over`);
    } finally {
      await fleet.close();
    }
  });

  it("an entry agent whose relay deadline passes ends its clients' streams with an error event, never as if finished, and exits 0", async () => {
    const fleet = await TestFleet.create();
    try {
      const entry = (await startEngineAgent(fleet, 'entry', [], ['--engine-runtime', 'none', '--drain-timeout-ms', '300', '--drain-relay-timeout-ms', '1500'])).agent;
      await startEngineAgent(fleet, 'server', ['--tokens-per-s=100']);
      await waitHealthy(entry, 1);
      const progress = [0, 0];
      const results = progress.map((_, i) => streamCompletion(entry.apiUrl, 'chat', chat(200 + i, 1_000), (n) => (progress[i] = n)));
      await until('both streams to pass 30 tokens', () => progress.every((n) => n >= 30), 30_000);
      entry.kill('SIGTERM');
      for (const r of await Promise.all(results)) {
        assert.ok(r.sawErrorEvent, 'the stream carried an SSE error event');
        assert.ok(!r.sawDone, 'no [DONE]');
        assert.ok(r.error !== null, 'the openai client raised');
        assert.deepEqual(r.finishReasons, [], 'no finish_reason was invented');
        assert.ok(r.contentChunks < 1_000);
      }
      assert.equal(await entry.exited(), 0, 'a drained agent exits 0');
      assert.ok(entry.logs.some((l) => l['msg'] === 'ending every response still relayed: this agent is leaving'));
    } finally {
      await fleet.close();
    }
  });

  it('a spot interruption whose deadline is shorter than the running streams: they are handed over; 0 truncated', async () => {
    const fleet = await TestFleet.create();
    const TOKENS = 1_000;
    try {
      const imds = [await freePort(), await freePort(), await freePort()];
      const nodes: FakeEngineAgent[] = [];
      for (let i = 0; i < 3; i++) nodes.push(await startEngineAgent(fleet, `s${i}`, ['--tokens-per-s=100'], ['--emulate-imds-port', String(imds[i]), '--imds-poll-ms', '200', '--drain-margin-ms', '500']));
      const entry = nodes[0]!.agent;
      const victim = nodes[1]!;
      await waitHealthy(entry, 3);
      const progress = new Array<number>(16).fill(0);
      const results = progress.map((_, i) => streamCompletion(entry.apiUrl, 'chat', chat(100 + i, TOKENS), (n) => (progress[i] = n)));
      await until('every stream to pass 50 tokens', () => progress.every((n) => n >= 50), 30_000);
      const res = await fetch(`http://127.0.0.1:${imds[1]}/_synkti/notice`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ kind: 'terminate', inSeconds: 4 }) });
      assert.equal(res.status, 200);
      const done = await Promise.all(results);
      assert.ok(done.some((r) => r.firstPeer === victim.agent.peerId), 'the interrupted node served streams');
      for (const [i, r] of done.entries()) {
        assert.equal(r.error, null, `stream ${i}: ${r.error?.message}`);
        assert.deepEqual([r.contentChunks, r.usage?.completion_tokens, r.finishReasons.length, r.sawDone, r.sawErrorEvent], [TOKENS, TOKENS, 1, true, false]);
        assert.equal(r.text, await referenceText(fast, 'chat', chat(100 + i, TOKENS)));
      }
      assert.equal(await victim.agent.exited(), EXIT.LEFT_FLEET, 'the interrupted agent drained and left for good');
      assert.ok(victim.agent.logs.some((l) => l['msg'] === 'drain deadline: handed running streams over to other peers'));
    } finally {
      await fleet.close();
    }
  });
});
