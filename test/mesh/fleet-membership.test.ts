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
    const suspectSeen = others.map(() => false);
    const deadAt: (number | undefined)[] = others.map(() => undefined);
    await waitFor('every view to mark the killed agent dead', async () => {
      const statuses = await Promise.all(others.map((o) => o.statusOf(victim.peerId)));
      statuses.forEach((s, i) => {
        if (s === 'suspect') suspectSeen[i] = true;
        if (s === 'dead' && deadAt[i] === undefined) deadAt[i] = Date.now();
      });
      return deadAt.every((t) => t !== undefined) ? true : undefined;
    }, 10_000, 20);
    // Passing through suspect is the behaviour under test; the bound is checked loosely, with
    // slack for the polling and a loaded CI machine (the bench measures it precisely).
    assert.ok(suspectSeen.every(Boolean), `every view passed through suspect: ${suspectSeen}`);
    const slowest = Math.max(...deadAt.map((t) => (t ?? 0) - killedAt));
    assert.ok(slowest <= DEAD_AFTER_MS + HEARTBEAT_MS + 1_500, `dead everywhere after ${slowest} ms`);
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
