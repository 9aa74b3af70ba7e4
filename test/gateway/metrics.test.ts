import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { parsePrometheusText } from '@synkti/engine';
import { type FakeEngineAgent, startEngineAgent, waitHealthy } from '../harness/engine-fleet.js';
import { TestFleet } from '../harness/fleet.js';

async function scrape(url: string): Promise<Map<string, number>> {
  const res = await fetch(`${url}/metrics`);
  assert.equal(res.status, 200);
  assert.match(res.headers.get('content-type') ?? '', /text\/plain/);
  const samples = parsePrometheusText(await res.text());
  const byKey = new Map<string, number>();
  for (const s of samples) {
    const labels = Object.entries(s.labels).filter(([k]) => k !== 'peer_id').sort().map(([k, v]) => `${k}=${v}`).join(',');
    byKey.set(`${s.name}{${labels}}`, (byKey.get(`${s.name}{${labels}}`) ?? 0) + s.value);
  }
  return byKey;
}

const sum = (m: Map<string, number>, prefix: string) => [...m].filter(([k]) => k.startsWith(prefix)).reduce((a, [, v]) => a + v, 0);

describe('agent /metrics', { timeout: 90_000 }, () => {
  let fleet: TestFleet;
  let node: FakeEngineAgent;
  before(async () => {
    fleet = await TestFleet.create();
    node = await startEngineAgent(fleet, 'm0');
    await waitHealthy(node.agent, 1);
  });
  after(() => fleet.close());

  it('parses as Prometheus text and its counters move with traffic', async () => {
    const before = await scrape(node.agent.apiUrl);
    for (let i = 0; i < 5; i++) {
      const res = await fetch(`${node.agent.apiUrl}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ model: 'synkti/fake-model', messages: [{ role: 'user', content: 'hi' }] }) });
      await res.arrayBuffer();
    }
    await (await fetch(`${node.agent.apiUrl}/v1/chat/completions`, { method: 'POST', body: '{bad' })).arrayBuffer();
    const after = await scrape(node.agent.apiUrl);
    const ok = `synkti_requests_total{peer=${node.agent.peerId},route=/v1/chat/completions,status=200}`;
    assert.equal((after.get(ok) ?? 0) - (before.get(ok) ?? 0), 5);
    assert.equal(after.get('synkti_requests_total{peer=none,route=/v1/chat/completions,status=400}'), 1);
    assert.equal(sum(after, 'synkti_forward_seconds_count') - sum(before, 'synkti_forward_seconds_count'), 5);
    assert.equal(sum(after, 'synkti_time_to_first_byte_seconds_count') - sum(before, 'synkti_time_to_first_byte_seconds_count'), 5);
    assert.ok((after.get('synkti_gossip_messages_total{direction=out}') ?? 0) > 0);
    assert.equal(after.get('synkti_engine_state{state=warm}'), 1);
    assert.equal(after.get('synkti_peers{status=alive}'), 1);
  });

  it("re-exports the engine's preemption and prefix-cache counters (as its supervisor last scraped them)", async () => {
    // The five identical prompts above share a prefix: the engine found them in its cache.
    const deadline = Date.now() + 15_000;
    let m = await scrape(node.agent.apiUrl);
    while (!((m.get('synkti_engine_prefix_cache_hits_tokens{engine=local}') ?? 0) > 0) && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 200));
      m = await scrape(node.agent.apiUrl);
    }
    assert.ok((m.get('synkti_engine_prefix_cache_hits_tokens{engine=local}') ?? 0) > 0, 'prefix-cache hits reached the agent');
    assert.ok((m.get('synkti_engine_prefix_cache_queries_tokens{engine=local}') ?? 0) >= (m.get('synkti_engine_prefix_cache_hits_tokens{engine=local}') ?? 0));
    assert.equal(m.get('synkti_engine_preemptions{engine=local}'), 0);
  });

  it("gossips the engine's own version (its /version) in the node state, shown on /fleet", async () => {
    const fleet = (await (await fetch(`${node.agent.apiUrl}/fleet`)).json()) as { peers: Array<{ peerId: string; engine: { version?: string } }> };
    const self = fleet.peers.find((p) => p.peerId === node.agent.peerId);
    assert.equal(self?.engine.version, '0.0.0+synkti.fake', "the fake engine's /version");
  });
});
