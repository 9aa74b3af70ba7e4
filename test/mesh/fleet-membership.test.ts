import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { FAST_TIMINGS } from '../harness/agent-process.js';
import { TestFleet } from '../harness/fleet.js';
import { waitFor } from '../harness/wait.js';

// Real agent processes on loopback: heartbeat 200 ms, suspect after 700 ms, dead after 2 s.
const HEARTBEAT_MS = 200;
const DEAD_AFTER_MS = 2_000;

describe('a five-agent fleet on loopback', { timeout: 120_000 }, () => {
  let fleet: TestFleet;
  before(async () => {
    fleet = await TestFleet.create();
    await fleet.startAgent('a0', FAST_TIMINGS, []);
    for (let i = 1; i < 5; i++) await fleet.startAgent(`a${i}`, FAST_TIMINGS);
  });
  after(() => fleet.close());

  it('sees all five alive in every view, each agent bootstrapped only from the first', async () => {
    const ids = fleet.agents.map((a) => a.peerId).sort();
    for (const agent of fleet.agents) {
      await waitFor(`${agent.options.stateDir} to see five alive`, async () => {
        const view = await agent.fleet();
        const alive = view.peers.filter((p) => p.status === 'alive').map((p) => p.peerId).sort();
        return JSON.stringify(alive) === JSON.stringify(ids) ? true : undefined;
      });
    }
  });

  it('marks a hard-killed agent suspect, then dead, everywhere within deadAfter + one heartbeat', async () => {
    const victim = fleet.agents[4]!;
    const others = fleet.agents.slice(0, 4);
    victim.kill('SIGKILL');
    const killedAt = Date.now();
    await waitFor('every view to log the killed agent dead', async () => {
      const deadAts = await Promise.all(others.map((o) => o.eventAt(victim.peerId, 'dead')));
      return deadAts.every((t) => t !== undefined) ? true : undefined;
    }, 15_000, 50);
    // Each agent logs when it saw the peer turn suspect and dead (its own clock), so the figures
    // do not depend on how fast this test polls. The bound is checked loosely, with slack for a
    // loaded CI machine; the gossip bench measures it precisely.
    for (const observer of others) {
      const suspectAt = await observer.eventAt(victim.peerId, 'suspect');
      const deadAt = await observer.eventAt(victim.peerId, 'dead');
      assert.ok(suspectAt !== undefined && deadAt !== undefined && suspectAt <= deadAt, 'suspect came before dead');
      assert.ok(deadAt - killedAt <= DEAD_AFTER_MS + HEARTBEAT_MS + 1_500, `dead after ${deadAt - killedAt} ms`);
    }
  });

  it('drops a cleanly stopped agent from every view at once (goodbye)', async () => {
    const leaver = fleet.agents[3]!;
    const others = fleet.agents.slice(0, 3);
    await leaver.stop();
    assert.equal(await leaver.exited(), 0);
    await waitFor('every view to drop the leaver', async () => {
      const statuses = await Promise.all(others.map((o) => o.statusOf(leaver.peerId)));
      return statuses.every((s) => s === 'absent') ? true : undefined;
    }, 1_000, 10);
  });

  it('brings a restarted agent back with the same peer ID, alive in every view', async () => {
    const restarted = fleet.agents[3]!;
    const oldId = restarted.peerId;
    await restarted.start();
    assert.equal(restarted.peerId, oldId);
    const others = fleet.agents.slice(0, 3);
    await waitFor('every view to see the restarted agent alive', async () => {
      const statuses = await Promise.all(others.map((o) => o.statusOf(oldId)));
      return statuses.every((s) => s === 'alive') ? true : undefined;
    });
  });
});
