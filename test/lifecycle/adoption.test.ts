import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isProcessAlive as alive } from '@synkti/cloud';
import { AgentProcess, signalGroup } from '../harness/agent-process.js';
import { startEngineAgent, waitHealthy } from '../harness/engine-fleet.js';
import { TestFleet } from '../harness/fleet.js';
import { enginePidOf, MODEL } from '../harness/streams.js';
import { waitFor } from '../harness/wait.js';

const HEARTBEAT_MS = 1_000;
const TIMINGS = ['--heartbeat-ms', String(HEARTBEAT_MS), '--suspect-after-ms', '3000', '--dead-after-ms', '10000'];


describe('engine adoption: an agent that dies leaves its engine to its successor', { timeout: 120_000 }, () => {
  it('SIGKILL the agent, start it again on the same state directory: it adopts the engine (same PID), is warm within 2 heartbeats of joining, and no request fails', async () => {
    const fleet = await TestFleet.create();
    let enginePid = 0;
    try {
      const entry = (await startEngineAgent(fleet, 'entry', [], ['--engine-runtime', 'none', ...TIMINGS])).agent;
      const node = await startEngineAgent(fleet, 'node', [], TIMINGS);
      await startEngineAgent(fleet, 'other', [], TIMINGS);
      await waitHealthy(entry, 2);
      enginePid = await enginePidOf(node.agent);
      let stop = false;
      let ok = 0;
      const failed: string[] = [];
      const traffic = (async () => {
        for (let i = 0; !stop && i < 10_000; i++) {
          const res = await fetch(`${entry.apiUrl}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ model: MODEL, messages: [{ role: 'user', content: `a${i}` }], max_tokens: 4 }) });
          if (res.status === 200) ok++;
          else failed.push(`${res.status} ${await res.text()}`);
          await res.arrayBuffer().catch(() => undefined);
        }
      })();
      node.agent.kill('SIGKILL');
      await node.agent.exited();
      assert.ok(alive(enginePid), 'the engine outlives its agent');
      const successor = new AgentProcess({ ...node.agent.options, bootstrap: entry.addrs });
      fleet.agents.push(successor);
      await successor.start();
      const joinedAt = Date.now();
      await waitFor('the successor warm in the entry view', async () => ((await entry.fleet()).peers.find((p) => p.peerId === successor.peerId)?.healthy === true ? true : undefined), 10_000, 50);
      const warmAfterMs = Date.now() - joinedAt;
      assert.ok(warmAfterMs <= 2 * HEARTBEAT_MS + 500, `warm ${warmAfterMs} ms after joining`);
      assert.equal(successor.peerId, node.agent.peerId, 'the same peer ID');
      assert.equal(await enginePidOf(successor), enginePid, 'the same engine process');
      assert.ok(successor.logs.some((l) => l['msg'] === 'adopted the engine a previous agent left running'));
      await new Promise((r) => setTimeout(r, 1_000));
      stop = true;
      await traffic;
      assert.deepEqual(failed, [], `no request failed (${ok} served)`);
      // A clean stop (SIGTERM) stops the adopted engine with the agent.
      await successor.stop();
      await waitFor('the adopted engine to stop with its agent', () => (!alive(enginePid) ? true : undefined), 15_000);
    } finally {
      await fleet.close();
      if (enginePid > 0) signalGroup(enginePid, 'SIGKILL');
    }
  });

  it('stops a predecessor engine started with other arguments before starting its own: never two engines on one port', async () => {
    const fleet = await TestFleet.create();
    let first = 0;
    try {
      const node = await startEngineAgent(fleet, 'node', ['--seed=1'], TIMINGS);
      first = await enginePidOf(node.agent);
      node.agent.kill('SIGKILL');
      await node.agent.exited();
      const args = node.agent.options.args!.map((a) => (a.startsWith('--engine-args=') ? `${a},--seed=2` : a));
      const successor = new AgentProcess({ ...node.agent.options, args });
      fleet.agents.push(successor);
      await successor.start();
      await waitFor('the new engine warm', async () => ((await successor.fleet()).peers.find((p) => p.self)?.engine.state === 'warm' ? true : undefined), 20_000);
      assert.ok(!alive(first), 'the predecessor engine was stopped');
      assert.notEqual(await enginePidOf(successor), first);
      assert.ok(successor.logs.some((l) => String(l['msg']).startsWith('stopping an engine a previous agent left')));
    } finally {
      await fleet.close();
      if (first > 0) signalGroup(first, 'SIGKILL');
    }
  });
});
