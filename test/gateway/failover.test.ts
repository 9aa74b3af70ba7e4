import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { type FakeEngineAgent, startEngineAgent, waitHealthy } from '../harness/engine-fleet.js';
import { TestFleet } from '../harness/fleet.js';
import { waitFor } from '../harness/wait.js';

const MODEL = 'synkti/fake-model';
const body = JSON.stringify({ model: MODEL, messages: [{ role: 'user', content: 'hi' }], max_tokens: 4 });
const post = (url: string) => fetch(`${url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body, signal: AbortSignal.timeout(15_000) });

describe('routing around engines that cannot serve', { timeout: 180_000 }, () => {
  let fleet: TestFleet;
  let warm: FakeEngineAgent[];
  let cold: FakeEngineAgent;

  before(async () => {
    fleet = await TestFleet.create();
    warm = [await startEngineAgent(fleet, 'w0'), await startEngineAgent(fleet, 'w1'), await startEngineAgent(fleet, 'w2')];
    // An engine that stays loading for the whole test.
    cold = await startEngineAgent(fleet, 'cold', ['--load-ms=600000']);
    await waitHealthy(cold.agent, 3);
  });
  after(() => fleet.close());

  it('serves a request sent to an agent whose own engine is not warm on a peer, and names it', async () => {
    const view = await cold.agent.fleet();
    assert.equal(view.peers.find((p) => p.self)?.engine.state, 'loading');
    for (let i = 0; i < 5; i++) {
      const res = await post(cold.agent.apiUrl);
      assert.equal(res.status, 200);
      await res.arrayBuffer();
      const peer = res.headers.get('x-synkti-peer');
      assert.ok(peer !== null && peer !== cold.agent.peerId && warm.some((w) => w.agent.peerId === peer));
    }
  });

  it('retries requests that reach a peer whose engine was just killed; none fail', async () => {
    const victim = warm[2]!;
    // Kill the engine behind the victim's back: the fleet still believes it warm for a moment.
    await fetch(`${victim.engineUrl}/_fake/faults`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ crash: true }) }).catch(() => undefined);
    const results = await Promise.all(Array.from({ length: 40 }, () => post(warm[0]!.agent.apiUrl).then(async (r) => ({ status: r.status, peer: r.headers.get('x-synkti-peer'), text: await r.text() }))));
    const failed = results.filter((r) => r.status !== 200);
    assert.deepEqual(failed, [], 'every request succeeded');
    // Requests may land on the victim again once its supervisor has restarted the engine (1 s
    // backoff): those are served by the new engine, which is fine. What must not happen is a failure.
    // The supervisor restarts the engine; the victim comes back to serve.
    await waitFor('the killed engine to be warm again', async () => ((await victim.agent.fleet()).peers.find((p) => p.self)?.engine.state === 'warm' ? true : undefined), 30_000);
  });
});
