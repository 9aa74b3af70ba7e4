import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { describe, it } from 'node:test';
import { localInstanceId } from '@synkti/cloud';
import type { FleetJson } from '@synkti/gateway';
import { alive } from '../harness/local-up.js';
import { waitFor } from '../harness/wait.js';
import { ChaosRun } from './fleet-run.js';
import { createNet, droppedPackets, leftovers, lossMethod, netNames, removeStale, setLoss, startTime, tryAddNamespace } from './netns.js';
import { brief, healthyIds, ledgerRecords, view } from './observe.js';

const NODES = 4;
/** The agent that is paused, made lossy and finally frozen for good; alone in its namespace. */
const TARGET = 3;
/** The agents' default timings (heartbeat 1 s, suspect 3 s, dead 10 s): what a production fleet runs. */
const AGENT_ARGS: string[] = [];
const PAUSE_MS = 8_000;
const LOSS_PERCENT = 30;
const LOSS_MS = 30_000;
const SAMPLE_EVERY_MS = 250;

const run = new ChaosRun('false-fencing');

/**
 * Samples the majority's views and the ledger until stopped: every moment the target was seen
 * dead, and every launch or termination (none may happen while the target is only slow).
 */
function watch(urls: string[], targetPeerId: string, dir: string) {
  const state = { stop: false, dead: [] as string[], ledgerChanges: [] as string[] };
  const loop = (async () => {
    const deadline = Date.now() + 120_000;
    while (!state.stop && Date.now() < deadline) {
      const views = await Promise.all(urls.map((u) => view(u).catch(() => undefined)));
      views.forEach((v: FleetJson | undefined, i) => {
        const status = v?.peers.find((p) => p.peerId === targetPeerId)?.status;
        if (status === 'dead' && state.dead.length < 20) state.dead.push(`${urls[i]} at ${new Date().toISOString()}`);
      });
      const records = await ledgerRecords(dir).catch(() => []);
      for (const r of records) {
        const change = r.terminated ? `${r.instanceId} terminated` : r.replaces !== null ? `${r.instanceId} launched for slot ${r.slot}` : null;
        if (change !== null && !state.ledgerChanges.includes(change)) state.ledgerChanges.push(change);
      }
      await new Promise((r) => setTimeout(r, SAMPLE_EVERY_MS));
    }
  })();
  return { state, done: () => loop };
}

describe('fencing only what is really gone, on real processes and a real lossy link', { timeout: 240_000 }, () => {
  it(`a peer paused ${PAUSE_MS / 1000} s is never dead nor fenced, one behind ${LOSS_PERCENT} % packet loss for ${LOSS_MS / 1000} s is never fenced, one frozen for good is fenced and replaced once`, async (t) => {
    if (process.getuid?.() !== 0) return t.skip('needs root to create network namespaces (ip netns)');
    t.after(run.teardown);
    const cannot = tryAddNamespace(netNames(run.owner).majority.ns);
    if (cannot !== null) return t.skip(`cannot create a network namespace here: ${cannot.split('\n')[0]}`);
    const stale = removeStale();
    if (stale.length > 0) t.diagnostic(`removed leftovers of aborted runs ${stale.join(', ')}`);
    const net = createNet(run.owner);
    const fleet = await run.startFleet(net, { nodes: NODES, minority: [TARGET], agentArgs: AGENT_ARGS });
    const majority = fleet.urls([0, 1, 2]);
    const all = fleet.urls([0, 1, 2, 3]);
    const allSee = (urls: string[], n: number) => async () => {
      const views = await Promise.all(urls.map((u) => view(u).catch(() => undefined)));
      return views.every((v) => v !== undefined && healthyIds(v).length === n) ? true : undefined;
    };
    await waitFor(`all ${NODES} agents to see ${NODES} healthy peers`, allSee(all, NODES), 90_000, 250);
    const target = fleet.file.nodes.find((n) => n.index === TARGET)!;
    const targetPid = target.pid!;
    const problems: string[] = [];

    // 1. A pause shorter than deadAfter (a long GC, a stalled VM): suspect at most, never dead.
    const paused = watch(majority, target.peerId, fleet.dir);
    process.kill(targetPid, 'SIGSTOP');
    await new Promise((r) => setTimeout(r, PAUSE_MS));
    process.kill(targetPid, 'SIGCONT');
    await waitFor('every view healthy again after the pause', allSee(all, NODES), 30_000, 250).catch((err) => problems.push(`pause: ${(err as Error).message}`));
    paused.state.stop = true;
    await paused.done();
    if (paused.state.dead.length > 0) problems.push(`pause: the target was seen dead: ${paused.state.dead.join(', ')}`);
    if (paused.state.ledgerChanges.length > 0) problems.push(`pause: the ledger changed: ${paused.state.ledgerChanges.join(', ')}`);

    // 2. A lossy link: gossip and probes get through late or on a retry; nothing is fenced.
    const how = lossMethod(net.minority);
    if (typeof how === 'object') t.diagnostic(`packet-loss phase skipped: no way to drop packets here (${how.cannot})`);
    else {
      t.diagnostic(`packet loss made with ${how}`);
      const lossy = watch(majority, target.peerId, fleet.dir);
      setLoss(net.minority, LOSS_PERCENT, how);
      await new Promise((r) => setTimeout(r, LOSS_MS));
      const dropped = droppedPackets(net.minority, how);
      setLoss(net.minority, null, how);
      t.diagnostic(`${dropped} packets dropped during the loss`);
      if (dropped === 0) problems.push('loss: no packet was dropped, so the phase proved nothing');
      await waitFor('every view healthy again after the loss', allSee(all, NODES), 30_000, 250).catch((err) => problems.push(`loss: ${(err as Error).message}`));
      lossy.state.stop = true;
      await lossy.done();
      if (lossy.state.dead.length > 0) t.diagnostic(`loss: the target was seen dead at times: ${lossy.state.dead.join(', ')}`);
      if (lossy.state.ledgerChanges.length > 0) problems.push(`loss: the ledger changed (a false fencing): ${lossy.state.ledgerChanges.join(', ')}`);
    }

    // 3. The check is not toothless: frozen for good, the same peer is fenced and replaced once.
    const frozenAt = Date.now();
    process.kill(targetPid, 'SIGSTOP');
    const targetId = localInstanceId(TARGET);
    await waitFor('the frozen peer fenced and its slot refilled', async () => {
      const records = await ledgerRecords(fleet.dir);
      const fenced = records.find((r) => r.instanceId === targetId)?.terminated === true;
      const launched = records.filter((r) => r.replaces !== null && r.slot === String(TARGET) && alive(r.pid));
      return fenced && launched.length >= 1 ? records : undefined;
    }, 90_000, 250).then(
      (records) => {
        t.diagnostic(`frozen peer fenced and replaced ${Date.now() - frozenAt} ms after it froze`);
        const launches = records.filter((r) => r.replaces !== null);
        if (launches.length !== 1) problems.push(`frozen: ${launches.length} launches, not 1: ${brief(records)}`);
      },
      async (err) => problems.push(`frozen: ${(err as Error).message}; ledger ${brief(await ledgerRecords(fleet.dir))}`),
    );

    const made = (await run.knownPids(fleet.dir)).map((pid) => ({ pid, since: startTime(pid) })).filter((p) => p.since !== undefined);
    await run.teardown();
    const left = leftovers(run.owner);
    if (left.length > 0) problems.push(`left behind: ${left.join(', ')}`);
    const running = made.filter((p) => alive(p.pid) && startTime(p.pid) === p.since).map((p) => p.pid);
    if (running.length > 0) problems.push(`processes left running: ${running.join(', ')}`);
    if (existsSync(fleet.dir)) problems.push(`${fleet.dir} is still there`);
    assert.deepEqual(problems, []);
  });
});
