import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { type Ec2Fleet as Fleet, Ec2Fleet } from '../harness/ec2-fleet.js';
import { waitFor } from '../harness/wait.js';

const TARGET = 3;

/** Live (pending or running) instances per slot, as EC2 bills them. */
function liveBySlot(f: Fleet): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const i of f.running()) {
    const slot = i.tags.get('synkti:slot') ?? '?';
    out.set(slot, [...(out.get(slot) ?? []), i.instanceId]);
  }
  return out;
}

describe('duelling launchers on (fake) EC2 with visibility lag and throttling on', { timeout: 240_000 }, () => {
  let f: Fleet;
  before(async () => {
    // Every agent acts as the launcher and ignores the others' launches, as two sides of a
    // partition would: only the tokens keep them from launching twice.
    // Detection with room for a loaded 2-core machine (these agents and engines share it): the duel
    // is the subject here, not how fast a silent peer is taken for dead.
    f = await Ec2Fleet.start(TARGET, ['--test-assume-launcher', 'true', '--suspect-after-ms', '1500', '--dead-after-ms', '5000']);
    for (let i = 0; i < TARGET; i++) await f.launch(String(i), `synkti-test-duel-${i}`);
    // The duel is about launchers acting on the same facts: every agent must have seen every other
    // (on a loaded machine an agent can still be joining when the victim is taken; it then never
    // knew the slot's holder, names none in its token, and the surplus rule removes its extra launch).
    await waitFor(
      'three live agents, each seeing three healthy peers',
      async () => {
        const live = f.liveNodes();
        if (live.length !== TARGET) return undefined;
        const views = await Promise.all(live.map((n) => n.agent.fleet().catch(() => undefined)));
        return views.every((v) => v?.peers.filter((p) => p.healthy).length === TARGET) ? true : undefined;
      },
      60_000,
      200,
    );
  });
  after(() => f?.close());

  it('a reclaimed node is replaced by every launcher at once, and EC2 holds exactly one instance per slot', async () => {
    f.ec2.configure({ visibilityLagMs: 5_000, throttling: true });
    const victim = f.liveNodes().find((n) => n.slot === '2')!;
    // A spot reclaim: EC2 takes the machine without notice.
    f.ec2.setState(victim.instanceId, 'shutting-down');
    await waitFor(
      'a replacement agent in slot 2 and three live agents',
      () => (f.liveNodes().length === TARGET && f.liveNodes().some((n) => n.slot === '2' && n.instanceId !== victim.instanceId) ? true : undefined),
      90_000,
      200,
    );
    // Let every launcher's walk and retries finish before counting.
    await new Promise((r) => setTimeout(r, 8_000));
    const slots = liveBySlot(f);
    assert.deepEqual([...slots.entries()].filter(([, ids]) => ids.length !== 1), [], `one live instance per slot: ${JSON.stringify([...slots])}; launches and terminations:\n${f.launchLog().join('\n')}`);
    const inSlot2 = f.ec2.instances().filter((i) => i.tags.get('synkti:slot') === '2');
    assert.equal(inSlot2.length, 2, `slot 2: the reclaimed instance and one replacement, not ${inSlot2.map((i) => `${i.instanceId} ${i.state} ${i.tags.get('synkti:token') ?? ''}`).join(', ')}; launches and terminations:\n${f.launchLog().join('\n')}`);
    const asks = f.ec2.callsOf('RunInstances').filter((c) => String(c.params['ClientToken'] ?? '').includes(`:2:${victim.instanceId}:`));
    assert.ok(asks.length >= 2, `both launchers asked for it (the duel happened): ${asks.length} RunInstances`);
  });

  it('a new replacement frozen for a moment before EC2 lists it keeps its slot: nobody replaces the replacement', async () => {
    // EC2 lists a new instance seconds after launch; a node loading its model can miss heartbeats
    // then. CI once saw both launchers take such a suspect for lost and bill a second instance.
    f.ec2.configure({ visibilityLagMs: 60_000, throttling: false });
    const victim = f.liveNodes().find((n) => n.slot === '1')!;
    f.ec2.setState(victim.instanceId, 'shutting-down');
    const fresh = await waitFor(
      'a replacement in slot 1 seen alive by both other agents',
      async () => {
        const node = f.liveNodes().find((n) => n.slot === '1' && n.instanceId !== victim.instanceId);
        if (node === undefined || node.agent.peerId === '') return undefined;
        const others = f.liveNodes().filter((n) => n !== node);
        const statuses = await Promise.all(others.map((n) => n.agent.statusOf(node.agent.peerId).catch(() => 'absent')));
        return others.length === TARGET - 1 && statuses.every((s) => s === 'alive') ? node : undefined;
      },
      90_000,
      200,
    );
    // Frozen past suspectAfter (1.5 s), well short of deadAfter (5 s); EC2 still hides it.
    const pid = fresh.agent.child!.pid!;
    process.kill(pid, 'SIGSTOP');
    try {
      await waitFor('the frozen replacement suspect to another agent', async () => {
        const other = f.liveNodes().find((n) => n !== fresh)!;
        return (await other.agent.statusOf(fresh.agent.peerId).catch(() => 'absent')) === 'suspect' ? true : undefined;
      }, 10_000, 100);
      await new Promise((r) => setTimeout(r, 1_000));
    } finally {
      process.kill(pid, 'SIGCONT');
    }
    // Room for a launcher's walk to land if one had decided on it.
    await new Promise((r) => setTimeout(r, 6_000));
    const replacingFresh = f.ec2.callsOf('RunInstances').filter((c) => String(c.params['ClientToken'] ?? '').includes(`:1:${fresh.instanceId}:`));
    assert.equal(replacingFresh.length, 0, `nobody launches to replace the suspect replacement; launches and terminations:\n${f.launchLog().join('\n')}`);
    const slots = liveBySlot(f);
    assert.deepEqual([...slots.entries()].filter(([, ids]) => ids.length !== 1), [], `one live instance per slot: ${JSON.stringify([...slots])}`);
  });
});
