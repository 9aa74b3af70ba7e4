import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { DEAD_AFTER_MS, HEARTBEAT_INTERVAL_MS, SUSPECT_AFTER_MS } from '@synkti/fleet';
import { AgentSwarm } from '../harness/agent-swarm.js';

const NODES = 10;
/** Observers are polled this often; a figure is late by at most this much. */
const POLL_MS = 100;
const PAUSE_MS = 8_000;

/**
 * Membership on agents as separate processes, each with its own event loop, at production
 * timings (heartbeat 1 s, suspect 3 s, dead 10 s), with bounded connections (each agent dials
 * MESH_TARGET_CONNECTIONS peers, not all): a new agent reaches every view; a SIGKILLed agent is
 * suspect everywhere before silence alone could say so (a closed connection, gossiped as a
 * suspicion) and dead within deadAfter + one heartbeat; an agent paused 8 s is suspect, never
 * dead, and alive again everywhere once it resumes (its newer state refutes the suspicion).
 */
describe(`membership across ${NODES} agent processes`, { timeout: 300_000 }, () => {
  let swarm: AgentSwarm;

  before(async () => {
    swarm = await AgentSwarm.start(NODES - 1);
    assert.ok(await swarm.waitConverged(90_000), 'every agent sees every agent alive');
  });
  after(() => swarm?.stop());

  it('a joining agent reaches every view', async () => {
    const before = swarm.agents.length;
    const next = await swarm.addAgent();
    assert.equal(swarm.agents.length, before + 1);
    assert.ok(await swarm.waitConverged(60_000), `every view sees the new agent ${next.peerId}`);
  });

  it('a SIGKILLed agent is suspect everywhere at once and dead everywhere within deadAfter + one heartbeat', async () => {
    const victim = swarm.agents[NODES - 1]!;
    const observers = swarm.agents.slice(0, NODES - 1);
    assert.ok(await swarm.allSeeAlive([victim.peerId], observers), 'every view saw the victim alive first');
    victim.kill('SIGKILL');
    const seen = await swarm.watch(victim.peerId, observers, { durationMs: DEAD_AFTER_MS + 10_000, everyMs: POLL_MS, untilDead: true });
    const suspectAll = Math.max(...seen.suspectMs.map((t) => t ?? Number.POSITIVE_INFINITY));
    const deadAll = Math.max(...seen.deadMs.map((t) => t ?? Number.POSITIVE_INFINITY));
    const detail = `suspect at ${seen.suspectMs.map((t) => t?.toFixed(0) ?? 'never').join(', ')} ms; dead at ${seen.deadMs.map((t) => t?.toFixed(0) ?? 'never').join(', ')} ms`;
    assert.ok(suspectAll < SUSPECT_AFTER_MS, `suspect everywhere in ${suspectAll.toFixed(0)} ms, before silence alone (${SUSPECT_AFTER_MS} ms): ${detail}`);
    assert.ok(deadAll <= DEAD_AFTER_MS + HEARTBEAT_INTERVAL_MS + POLL_MS, `dead everywhere in ${deadAll.toFixed(0)} ms: ${detail}`);
  });

  it(`an agent paused ${PAUSE_MS / 1000} s is suspect, never dead, and alive everywhere again once it resumes`, async () => {
    const paused = swarm.agents[NODES - 2]!;
    const observers = swarm.agents.slice(0, NODES - 2);
    assert.ok(await swarm.allSeeAlive([paused.peerId], observers), 'every view saw it alive first');
    paused.kill('SIGSTOP');
    let seen;
    try {
      seen = await swarm.watch(paused.peerId, observers, { durationMs: PAUSE_MS, everyMs: 250, untilDead: false });
    } finally {
      paused.kill('SIGCONT');
    }
    const after = await swarm.watch(paused.peerId, observers, { durationMs: 4_000, everyMs: 250, untilDead: false });
    assert.ok(seen.suspectMs.every((t) => t !== undefined), 'every view suspected the paused agent');
    assert.deepEqual([...seen.everDead, ...after.everDead].filter(Boolean), [], 'no view ever said dead');
    assert.ok(await swarm.waitAlive(paused.peerId, observers, 15_000), 'every view sees it alive again');
  });
});
