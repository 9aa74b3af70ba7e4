import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { startEngineAgent, waitHealthy } from '../harness/engine-fleet.js';
import { TestFleet } from '../harness/fleet.js';
import { freePort } from '../harness/ports.js';
import { MODEL } from '../harness/streams.js';
import { waitFor } from '../harness/wait.js';

describe('a rebalance recommendation', { timeout: 60_000 }, () => {
  it('keeps the at-risk node serving (it counts as lost for replacement, not for routing)', async () => {
    const fleet = await TestFleet.create();
    try {
      const imds = await freePort();
      const entry = (await startEngineAgent(fleet, 'entry', [], ['--engine-runtime', 'none'])).agent;
      const atRisk = (await startEngineAgent(fleet, 'at-risk', [], ['--emulate-imds-port', String(imds), '--imds-poll-ms', '200'])).agent;
      await startEngineAgent(fleet, 'other');
      await waitHealthy(entry, 2);
      const res = await fetch(`http://127.0.0.1:${imds}/_synkti/notice`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ kind: 'rebalance' }) });
      assert.equal(res.status, 200);
      await waitFor('the recommendation in the entry view', async () => ((await entry.fleet()).peers.find((p) => p.peerId === atRisk.peerId)?.interruption?.kind === 'rebalance' ? true : undefined), 10_000);
      const served = new Map<string, number>();
      for (let i = 0; i < 40; i++) {
        const r = await fetch(`${entry.apiUrl}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ model: MODEL, messages: [{ role: 'user', content: `r${i}` }], max_tokens: 4 }) });
        assert.equal(r.status, 200);
        await r.arrayBuffer();
        const peer = r.headers.get('x-synkti-peer')!;
        served.set(peer, (served.get(peer) ?? 0) + 1);
      }
      assert.ok((served.get(atRisk.peerId) ?? 0) > 0, `the at-risk node still serves: ${JSON.stringify([...served])}`);
      const view = (await entry.fleet()).peers.find((p) => p.peerId === atRisk.peerId);
      assert.equal(view?.healthy, true);
    } finally {
      await fleet.close();
    }
  });
});
