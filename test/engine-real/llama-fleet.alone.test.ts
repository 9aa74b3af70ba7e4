// The real-engine lane: three agents, each supervising its own llama.cpp `llama-server` process
// (built by scripts/install-llama.mjs, serving a tiny random-weight model around Qwen2's real
// tokenizer and chat template), exercised with the official openai client. The tests share one
// fleet and run in order: each leaves it as the next expects (a lost node is replaced). The
// migration tests add a fourth agent without an engine as the clients' gateway.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { isProcessAlive as alive } from '@synkti/cloud';
import OpenAI from 'openai';
import { AgentProcess, signalGroup } from '../harness/agent-process.js';
import { TestFleet } from '../harness/fleet.js';
import { enginePidOf, loseNodeNow, streamCompletion } from '../harness/streams.js';
import { waitFor } from '../harness/wait.js';
import { divergence, engineJson, installLlama, LLAMA_MODEL, LLAMA_TIMINGS, type LlamaAgent, SLOTS, startLlamaAgent, trackedStream, watchHealth } from './llama.js';

const install = installLlama();
// One clear line when the lane cannot run: it skips, it never passes silently.
if (!install.ok) console.log(`# real-engine lane (llama.cpp) skipped: ${install.reason}`);

const WORDS = /^( [a-z]+)+$/;
const client = (apiUrl: string): OpenAI => new OpenAI({ baseURL: `${apiUrl}/v1`, apiKey: 'unused', maxRetries: 0, timeout: 120_000 });
const chat = (i: number | string, extra: Record<string, unknown> = {}) => ({ model: LLAMA_MODEL, messages: [{ role: 'user' as const, content: `real engine ${i}` }], temperature: 0, ...extra });
const text = (i: number | string, extra: Record<string, unknown> = {}) => ({ model: LLAMA_MODEL, prompt: `Real engine ${i}:`, temperature: 0, ...extra });

const LANE = 'real engine: three agents over llama.cpp llama-server';
// Not installable: one skipped test (counted as skipped in the run's summary) with the reason;
// where the lane is required (CI sets SYNKTI_REQUIRE_REAL_ENGINE=1) a failed one instead.
const required = process.env['SYNKTI_REQUIRE_REAL_ENGINE'] === '1';
if (install.ok) describe(LANE, { timeout: 900_000 }, lane);
else if (required) it(LANE, () => assert.fail(`the real-engine lane is required here (SYNKTI_REQUIRE_REAL_ENGINE=1) but llama-server is not installed: ${install.reason}`));
else it(LANE, { skip: install.reason }, () => {});

function lane(): void {
  let fleet: TestFleet;
  const nodes: LlamaAgent[] = [];
  const enginePids = new Set<number>();
  let gateway: AgentProcess | undefined;
  const inst = install as Extract<typeof install, { ok: true }>;

  before(async () => {
    fleet = await TestFleet.create('synkti-llama-');
  });
  after(async () => {
    await fleet.close();
    // A test that failed half-way may leave an engine behind: none outlives the lane.
    for (const pid of enginePids) signalGroup(pid, 'SIGKILL');
  });

  it('cold start: each agent starts llama-server, sees it load (the real server answers 503) and only then calls it warm', async () => {
    for (const name of ['a', 'b', 'c']) {
      let health!: ReturnType<typeof watchHealth>;
      const started = Date.now();
      const node = await startLlamaAgent(fleet, name, inst, { onPort: (url) => (health = watchHealth(url)) });
      nodes.push(node);
      const { seen, firstOkAt } = await health;
      assert.ok(seen.includes(503), `${name}: /health answered 503 while the model loaded (seen: ${seen.join(' → ')})`);
      const warm = await waitFor(`${name} warm`, () => node.agent.logs.find((l) => l['msg'] === 'engine state' && l['to'] === 'warm'), 60_000);
      const loading = node.agent.logs.find((l) => l['msg'] === 'engine state' && l['to'] === 'loading');
      assert.ok(loading !== undefined, `${name}: went through loading`);
      assert.ok(Number(warm['time']) >= firstOkAt - 50, `${name}: warm only after the server's /health said 200`);
      enginePids.add(await enginePidOf(node.agent));
      console.log(`# ${name}: cold start ${Number(warm['time']) - started} ms (server /health: ${seen.join(' → ')})`);
    }
    await waitFor('every agent sees 3 healthy peers', async () => ((await Promise.all(nodes.map((n) => n.agent.fleet()))).every((f) => f.peers.filter((p) => p.healthy && p.models.includes(LLAMA_MODEL)).length === 3) ? true : undefined), 30_000);
    const view = await nodes[0]!.agent.fleet();
    for (const p of view.peers) assert.equal(p.load.capacity, SLOTS, 'capacity gossiped = llama-server --parallel');
  });

  it('the openai client through every agent: chat, completions, streams with usage, n and logprobs', async () => {
    for (const { agent } of nodes) {
      const c = client(agent.apiUrl);
      const models = await c.models.list();
      assert.ok(models.data.some((m) => m.id === LLAMA_MODEL));
      const answer = await c.chat.completions.create(chat('openai', { max_tokens: 12 }));
      assert.equal(answer.model, LLAMA_MODEL);
      assert.equal(answer.choices[0]!.finish_reason, 'length', 'the model never ends on its own');
      assert.match(answer.choices[0]!.message.content ?? '', WORDS);
      assert.equal(answer.usage?.completion_tokens, 12);
      const completion = await c.completions.create(text('openai', { max_tokens: 12 }));
      assert.match(completion.choices[0]!.text, WORDS);
      assert.equal(completion.usage?.completion_tokens, 12);
      for (const kind of ['chat', 'text'] as const) {
        const params = kind === 'chat' ? chat('openai', { max_tokens: 12, stream_options: { include_usage: true } }) : text('openai', { max_tokens: 12, stream_options: { include_usage: true } });
        const r = await streamCompletion(agent.apiUrl, kind, params);
        assert.equal(r.error, null);
        assert.deepEqual(r.finishReasons, ['length']);
        assert.equal(r.usage?.completion_tokens, 12);
        assert.equal(r.contentChunks, 12, 'one chunk per token');
        assert.equal(r.text, kind === 'chat' ? answer.choices[0]!.message.content : completion.choices[0]!.text, 'streamed = not streamed at temperature 0');
      }
      const two = await c.chat.completions.create(chat('n', { max_tokens: 4, n: 2, logprobs: true, top_logprobs: 2, temperature: 1, seed: 7 }));
      assert.equal(two.choices.length, 2);
      assert.equal(two.choices[0]!.logprobs?.content?.length, 4);
      assert.equal(two.choices[0]!.logprobs?.content?.[0]?.top_logprobs.length, 2);
    }
  });

  it('temperature 0: the same request gives the same text whichever peer serves it', async () => {
    const texts = new Map<string, string>();
    for (let i = 0; i < 30 && texts.size < 3; i++) {
      const { agent } = nodes[i % 3]!;
      const { data, response } = await client(agent.apiUrl).chat.completions.create(chat('same', { max_tokens: 40 })).withResponse();
      texts.set(response.headers.get('x-synkti-peer') ?? '?', data.choices[0]!.message.content ?? '');
    }
    // Straight from every engine too: what the agents relayed is what the engines say.
    for (const n of nodes) texts.set(n.engineUrl, ((await engineJson(n.engineUrl, '/v1/chat/completions', chat('same', { max_tokens: 40 }))).json['choices'] as Array<{ message: { content: string } }>)[0]!.message.content);
    assert.ok([...texts.keys()].filter((k) => !k.startsWith('http')).length >= 2, `served by ${[...texts.keys()].join(', ')}`);
    assert.equal(new Set(texts.values()).size, 1, `one text: ${JSON.stringify(Object.fromEntries(texts))}`);
  });

  it('load is gossiped from the real /metrics: slots busy and requests deferred on one engine, seen by another agent', async () => {
    const [observer, busy] = [nodes[0]!, nodes[1]!];
    const controller = new AbortController();
    // Straight to the engine, past its agent: the agent's own in-flight count stays 0, so what is
    // gossiped can only come from llama-server's llamacpp:requests_processing / _deferred.
    const requests = Array.from({ length: SLOTS + 2 }, (_, i) =>
      fetch(`${busy.engineUrl}/v1/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(text(`load ${i}`, { max_tokens: 1_900, stream: true })), signal: controller.signal }).then((r) => r.body?.pipeTo(new WritableStream()).catch(() => undefined), () => undefined),
    );
    try {
      const load = await waitFor('busy load in the observer view', async () => {
        const p = (await observer.agent.fleet()).peers.find((x) => x.peerId === busy.agent.peerId);
        return p !== undefined && p.load.running === SLOTS && p.load.waiting === 2 ? p.load : undefined;
      }, 30_000, 100);
      assert.equal(load.inFlight, 0, 'none of it went through the agent');
      assert.equal(load.kvCacheUsage, null, 'this llama.cpp exposes no KV-cache usage');
    } finally {
      controller.abort();
      await Promise.all(requests);
    }
    await waitFor('the load to fall back to 0', async () => ((await observer.agent.fleet()).peers.find((x) => x.peerId === busy.agent.peerId)?.load.running === 0 ? true : undefined), 30_000, 100);
  });

  it("bad input passes through as the engine's own error in OpenAI's shape", async () => {
    const c = client(nodes[0]!.agent.apiUrl);
    const cases = [
      { path: '/v1/chat/completions', body: chat('bad', { max_tokens: 4, continue_final_message: true, add_generation_prompt: true }), call: (b: never) => c.chat.completions.create(b) },
      { path: '/v1/completions', body: text('bad', { prompt: ' word'.repeat(3_000), max_tokens: 4 }), call: (b: never) => c.completions.create(b) },
    ];
    for (const k of cases) {
      const direct = await engineJson(nodes[2]!.engineUrl, k.path, k.body);
      assert.equal(direct.status, 400);
      const err = await k.call(k.body as never).then(() => null, (e: unknown) => e);
      assert.ok(err instanceof OpenAI.BadRequestError, `the openai client raised a BadRequestError (got ${String(err)})`);
      assert.deepEqual(err.error, direct.json['error'], "the engine's own error object, unchanged");
      assert.ok(typeof (direct.json['error'] as { message?: unknown }).message === 'string');
    }
  });

  it('adoption: the agent is SIGKILLed and restarted; it adopts the running llama-server (same PID) without a cold start', async () => {
    const node = nodes[1]!;
    const pid = await enginePidOf(node.agent);
    node.agent.kill('SIGKILL');
    await node.agent.exited();
    assert.ok(alive(pid), 'llama-server outlives its agent');
    const successor = new AgentProcess({ ...node.agent.options, bootstrap: nodes[0]!.agent.addrs });
    fleet.agents.push(successor);
    await successor.start();
    await waitFor("the successor healthy in the others' view", async () => ((await nodes[0]!.agent.fleet()).peers.find((p) => p.peerId === successor.peerId)?.healthy === true ? true : undefined), 20_000, 50);
    assert.equal(await enginePidOf(successor), pid, 'the same llama-server process');
    assert.ok(successor.logs.some((l) => l['msg'] === 'adopted the engine a previous agent left running'));
    assert.ok(!successor.logs.some((l) => l['msg'] === 'engine process started'), 'no new engine');
    nodes[1] = { ...node, agent: successor };
    const r = await client(successor.apiUrl).chat.completions.create(chat('adopted', { max_tokens: 4 }));
    assert.equal(r.choices[0]!.finish_reason, 'length');
  });

  for (const kind of ['chat', 'text'] as const) {
    it(`${kind}: streams whose serving agent and llama-server are SIGKILLed mid-way continue on another peer; the text equals the uninterrupted text, or leaves it only at a measured near-tie after the loss`, async () => {
      // Room after the victim is chosen (at 50–150 tokens): the client reads behind the engine on a
      // loaded machine, and a stream chosen near its end could be wholly sent before the kill.
      // No more than that: the tiny model's greedy choice is sometimes a near-tie, and a
      // continuation's prefill rounds differently from token-by-token decode, so every token
      // after the migration is a small chance of a flip (once seen at token ~700 of 800); the
      // check allows one only where the reference's logprobs show the tie (see divergence).
      const TOKENS = 500;
      const STREAMS = 6;
      // The client's agent runs no engine (a gateway), so every stream is served by one of the three
      // engine agents — an entry that kept all six on its own engine left no victim to kill.
      gateway ??= await fleet.startAgent('gateway', [...LLAMA_TIMINGS, '--engine-runtime', 'none'], nodes[0]!.agent.addrs);
      const entry = gateway;
      await waitFor('the gateway sees 3 healthy engines', async () => ((await entry.fleet()).peers.filter((p) => p.healthy).length === 3 ? true : undefined), 30_000);
      const params = (i: number) => (kind === 'chat' ? chat(`migrate ${i}`) : text(`migrate ${i}`)) as Record<string, unknown>;
      // Engine PIDs first: the kill must follow the choice of victim at once (a loaded machine
      // finished the chosen stream during a look-up between them).
      const enginePidOfPeer = new Map(await Promise.all(nodes.map(async (n) => [n.agent.peerId, await enginePidOf(n.agent)] as const)));
      const streams = Array.from({ length: STREAMS }, (_, i) => trackedStream(entry.apiUrl, kind, { ...params(i), max_tokens: TOKENS, stream_options: { include_usage: true } }));
      // The victim: the peer serving a stream that is well under way, far from done.
      const victimPeer = await waitFor('a stream under way', () => streams.find((t) => t.peer !== null && t.tokens >= 50 && t.tokens <= 150)?.peer ?? undefined, 30_000, 10).catch((err: Error) => {
        throw new Error(`${err.message}; streams: ${streams.map((t) => `${t.peer?.slice(-6) ?? '-'}:${t.tokens}`).join(' ')}`);
      });
      const victim = nodes.find((n) => n.agent.peerId === victimPeer)!;
      const survivor = nodes.find((n) => n !== victim)!;
      loseNodeNow(victim.agent, enginePidOfPeer.get(victimPeer)!);
      const atLoss = streams.map((t) => t.tokens);
      try {
        const done = await Promise.all(streams.map((t) => t.done));
        const lost = [...done.entries()].filter(([, r]) => r.firstPeer === victim.agent.peerId);
        // Cut after tokens had gone out: continued elsewhere. Cut before (waiting for a slot): retried.
        const migrated = lost.filter(([i]) => atLoss[i]! > 0 && atLoss[i]! < TOKENS);
        assert.ok(migrated.length > 0, `some streams were cut mid-way on the lost node (tokens at the loss: ${atLoss.join(', ')}; first peers: ${done.map((r) => (r.firstPeer === victim.agent.peerId ? 'lost' : (r.firstPeer?.slice(-6) ?? '-'))).join(', ')})`);
        const ties: string[] = [];
        for (const [i, r] of done.entries()) {
          // The uninterrupted answer with each token's runner-up (asking for logprobs leaves greedy choices as they are).
          const logprobs = kind === 'chat' ? { logprobs: true, top_logprobs: 2 } : { logprobs: 2 };
          const reference = await engineJson(survivor.engineUrl, kind === 'chat' ? '/v1/chat/completions' : '/v1/completions', { ...params(i), max_tokens: TOKENS, ...logprobs });
          const choice = (reference.json['choices'] as Array<{ message?: { content: string }; text?: string; logprobs: { content: Parameters<typeof divergence>[1] } }>)[0]!;
          const continued = migrated.some(([m]) => m === i);
          const label = `stream ${i} (first served by ${r.firstPeer === victim.agent.peerId ? `the lost node, ~${atLoss[i]} tokens in` : r.firstPeer})`;
          assert.equal(r.error, null, `${label}: ${r.error?.message}`);
          assert.deepEqual(r.finishReasons, ['length'], label);
          assert.equal(r.usage?.completion_tokens, TOKENS, `${label}: usage counts the whole answer`);
          assert.equal(r.ids.size, 1, `${label}: one id`);
          assert.equal(choice.logprobs.content.map((t) => t.token).join(''), kind === 'chat' ? choice.message!.content : choice.text, 'the reference tokens spell its text');
          // A stream served whole matches token for token; a continued one may leave the reference
          // only at a near-tie after its loss (see divergence), and says where.
          // The real splice: the entry logs the tokens it carried into the first continuation (the client may read behind it).
          const carried = continued ? await waitFor(`${label}: the entry's 'stream migrated' line`, () => entry.logs.find((l) => l['msg'] === 'stream migrated' && l['requestId'] === r.requestId)?.['tokensCarried'] as number | undefined, 5_000, 20) : TOKENS;
          const tie = divergence(r.text, choice.logprobs.content, Math.max(continued ? atLoss[i]! : TOKENS, carried));
          if (tie !== null) ties.push(`stream ${i} at token ${tie.atToken} (${JSON.stringify(tie.chosen)} for ${JSON.stringify(tie.reference)}, ${tie.gap.toExponential(1)} apart)`);
        }
        if (ties.length > 0) console.log(`# ${kind}: continued at a near-tie, as the engine's prefill rounds: ${ties.join('; ')}`);
        const retried = lost.length - migrated.length;
        console.log(`# ${kind}: ${migrated.length} of ${STREAMS} streams continued after their node was lost ${migrated.map(([i]) => atLoss[i]).join(', ')} tokens in${retried > 0 ? ` (${retried} more retried before their first token)` : ''}; ${ties.length === 0 ? 'every text equals the uninterrupted one' : `${STREAMS - ties.length} texts equal the uninterrupted one`}`);
      } finally {
        // Bring the lost node back (a cold start): the next test needs three peers, pass or fail.
        const again = await startLlamaAgent(fleet, `replacement-${kind}`, inst, { bootstrap: entry.addrs });
        nodes[nodes.indexOf(victim)] = again;
        enginePids.add(await enginePidOf(again.agent));
        await waitFor('3 healthy engines again', async () => ((await entry.fleet()).peers.filter((p) => p.healthy).length === 3 ? true : undefined), 60_000);
      }
    });
  }
}
