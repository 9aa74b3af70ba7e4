import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { type CloudProvider, type FleetInstance, type LaunchRequest, ManualClock, silentLogger } from '@synkti/interface';
import { generateSwarmKey } from '@synkti/mesh';
import { type NodeState, sampleNodeState } from '@synkti/protocol';
import { Agent } from './agent.js';
import type { CloudWiring } from './cloud-wiring.js';
import { loadConfig } from './config/index.js';

const FLEET = 'tick';
const START = 1_700_000_000_000;

/** The provider's ledger in memory: one instance per token, terminations recorded. */
class Ledger implements CloudProvider {
  readonly kind = 'memory';
  readonly instances = new Map<string, FleetInstance>();
  readonly launches: LaunchRequest[] = [];
  readonly terminated: string[] = [];
  constructor(readonly clock: ManualClock) {}
  add(instanceId: string, slot: string): void {
    this.instances.set(instanceId, { instanceId, slot, state: 'running', lifecycle: 'spot', token: `boot-${slot}`, launchedAt: this.clock.now() - 3_600_000 });
  }
  async launch(request: LaunchRequest) {
    const existing = [...this.instances.values()].find((i) => i.token === request.token);
    if (existing !== undefined) return { instanceId: existing.instanceId, lifecycle: 'spot' as const, existing: true };
    this.launches.push(request);
    const instanceId = `i-new-${this.launches.length}`;
    this.instances.set(instanceId, { instanceId, slot: request.slot, state: 'pending', lifecycle: 'spot', token: request.token, launchedAt: this.clock.now() });
    return { instanceId, lifecycle: 'spot' as const, existing: false };
  }
  async listInstances(): Promise<FleetInstance[]> {
    return [...this.instances.values()];
  }
  async terminate(instanceId: string): Promise<void> {
    this.terminated.push(instanceId);
    this.instances.delete(instanceId);
  }
}

/** Lets promises the last timers started settle (the provider answers at once): no wall-clock wait. */
async function flush(): Promise<void> {
  for (let i = 0; i < 20; i++) await new Promise((resolve) => setImmediate(resolve));
}

describe('Agent: the fleet tick on a manual clock (real mesh on loopback, the provider in memory)', () => {
  const clock = new ManualClock(START);
  const ledger = new Ledger(clock);
  let dir: string;
  let agent: Agent;
  const seq = new Map<string, number>();
  /** A peer the test speaks for: its state goes straight into the agent's view, as gossip would put it. */
  const beat = (peerId: string, instanceId: string, slot: string): void => {
    const n = (seq.get(peerId) ?? 0) + 1;
    seq.set(peerId, n);
    const state: NodeState = sampleNodeState({ fleet: FLEET, peerId, seq: n, incarnation: START, sentAt: clock.now(), provider: { kind: 'local', instanceId, instanceType: null, zone: null, lifecycle: 'spot', slot } });
    agent.view.observe(state, clock.now());
  };
  /** One heartbeat: the peers the test speaks for beat, the clock moves, the agent's timers fire. */
  const second = async (alive: [string, string, string][]): Promise<void> => {
    for (const [peerId, instanceId, slot] of alive) beat(peerId, instanceId, slot);
    clock.advance(1_000);
    await flush();
  };

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'synkti-agent-tick-'));
    await writeFile(join(dir, 'swarm.key'), generateSwarmKey());
    const config = await loadConfig({
      env: {},
      flags: { fleet: FLEET, targetSize: '3', provider: 'none', engineRuntime: 'none', listen: '/ip4/127.0.0.1/tcp/0', apiHost: '127.0.0.1', apiPort: '0', stateDir: dir, swarmKeyFile: join(dir, 'swarm.key') },
    });
    ledger.add('i-self', '0');
    ledger.add('i-a', '1');
    const wiring: CloudWiring = {
      provider: ledger,
      watcher: undefined,
      emulatedImds: undefined,
      providerInfo: { kind: 'local', instanceId: 'i-self', instanceType: null, zone: null, lifecycle: 'spot', slot: '0' },
      placements: [{ instanceType: 'g5.xlarge', subnet: 'subnet-a' }],
      launchedByFleet: null,
    };
    agent = new Agent(config, silentLogger, clock, () => 0.5, async () => wiring);
    await agent.start();
  });

  after(async () => {
    await agent.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it('listens through the start-up grace, then launches the free slot once and gossips the launch', async () => {
    const peerA: [string, string, string] = ['zz-peer-a', 'i-a', '1'];
    for (let s = 0; s < 2; s++) await second([peerA]);
    assert.equal(ledger.launches.length, 0, 'within suspect-after of its start it only listens');
    for (let s = 0; s < 5; s++) await second([peerA]);
    assert.deepEqual(ledger.launches.map((l) => [l.slot, l.replaces]), [['2', null]], 'slot 2 was never held: one launch, replacing nothing');
    assert.deepEqual(agent.replacer?.launchesInFlight().map((l) => l.slot), ['2']);
    assert.equal(agent.replacer?.lastPlan?.launcher, agent.peerId, 'the lowest ID (the real peer ID sorts before the test\'s) launches');
  });

  it('a peer silent past deadAfter is dead in the agent\'s events; its instance is fenced only once a quorum holds its slots, then replaced', async () => {
    const joined: [string, string, string] = ['zz-peer-c', 'i-new-1', '2'];
    // Peer A goes silent; the launched instance's agent is still booting.
    for (let s = 0; s < 12; s++) await second([]);
    assert.ok(agent.recentEvents().some((e) => e.kind === 'dead' && e.peerId === 'zz-peer-a'), 'dead after deadAfter');
    assert.deepEqual(ledger.terminated, [], 'one of three slots held: no quorum to fence');
    // The replacement joins: two of three slots held, a quorum.
    for (let s = 0; s < 4; s++) await second([joined]);
    for (let s = 0; s < 10 && ledger.terminated.length === 0; s++) await second([joined]);
    assert.deepEqual(ledger.terminated, ['i-a'], 'the dead holder is fenced before its slot is filled');
    for (let s = 0; s < 3 && ledger.launches.length < 2; s++) await second([joined]);
    assert.deepEqual(ledger.launches.map((l) => [l.slot, l.replaces]), [['2', null], ['1', 'i-a']]);
  });
});
