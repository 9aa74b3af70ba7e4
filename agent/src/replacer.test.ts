import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { LAUNCH_TIMEOUT_MS, MembershipView } from '@synkti/fleet';
import { type CloudProvider, type FleetInstance, type InstanceQuery, type LaunchRequest, ManualClock, silentLogger } from '@synkti/interface';
import { type InterruptionKind, type NodeState, sampleNodeState } from '@synkti/protocol';
import { Replacer } from './replacer.js';

const FLEET = 'f';
const HEARTBEAT_MS = 1_000;
const START = 1_000_000;

/** The provider's ledger in memory: one instance per token, like EC2's ClientToken. */
class MemoryCloud implements CloudProvider {
  readonly kind = 'memory';
  readonly instances = new Map<string, FleetInstance & { terminated: boolean }>();
  readonly launches: LaunchRequest[] = [];
  readonly terminations: { instanceId: string; by: string }[] = [];
  /** Fleet listings asked, per agent. */
  readonly listings = new Map<string, number>();
  /** EC2's eventual consistency: a new instance shows in the fleet listing only this long after launch. */
  listingLagMs = 0;
  /** A slow placement walk (throttling, attempt timeouts): RunInstances answers this long after the call. */
  launchDelayMs = 0;
  /** An impaired Availability Zone: EC2 fails every DescribeInstances that names no instance IDs. */
  listingFails = false;
  readonly #slowLaunches: { dueAt: number; finish: () => void }[] = [];
  #next = 0;
  readonly clock: ManualClock;
  constructor(clock: ManualClock) {
    this.clock = clock;
  }

  add(instanceId: string, slot: string): void {
    // Launched long before the test: visible in every listing, past any launch timeout.
    this.instances.set(instanceId, { instanceId, slot, state: 'running', lifecycle: 'spot', token: `boot-${slot}`, launchedAt: this.clock.now() - 3_600_000, terminated: false });
  }

  /** The provider as one agent sees it: terminations are recorded with who asked. */
  as(caller: string): CloudProvider {
    return {
      kind: this.kind,
      launch: (request) => this.launch(request),
      listInstances: () => {
        this.listings.set(caller, (this.listings.get(caller) ?? 0) + 1);
        return this.listInstances();
      },
      findInstances: (query) => this.findInstances(query),
      terminate: async (instanceId) => {
        this.terminations.push({ instanceId, by: caller });
        return this.terminate(instanceId);
      },
    };
  }

  /** Answers the slow RunInstances calls that are due. */
  answerDue(): void {
    for (const pending of this.#slowLaunches.filter((p) => p.dueAt <= this.clock.now())) {
      this.#slowLaunches.splice(this.#slowLaunches.indexOf(pending), 1);
      pending.finish();
    }
  }

  async launch(request: LaunchRequest) {
    if (this.launchDelayMs > 0) await new Promise<void>((finish) => this.#slowLaunches.push({ dueAt: this.clock.now() + this.launchDelayMs, finish }));
    const existing = [...this.instances.values()].find((i) => i.token === request.token);
    if (existing !== undefined) return { instanceId: existing.instanceId, lifecycle: 'spot' as const, existing: true };
    this.launches.push(request);
    const instanceId = `i-new${this.#next++}`;
    this.instances.set(instanceId, { instanceId, slot: request.slot, state: 'pending', lifecycle: 'spot', token: request.token, launchedAt: this.clock.now(), terminated: false });
    return { instanceId, lifecycle: 'spot' as const, existing: false };
  }

  async listInstances(): Promise<FleetInstance[]> {
    if (this.listingFails) throw new Error('Unavailable: an Availability Zone is impaired');
    const now = this.clock.now();
    return [...this.instances.values()].filter((i) => !i.terminated && (i.launchedAt ?? 0) + this.listingLagMs <= now).map(({ terminated: _, ...i }) => i);
  }

  /** Asked by token, EC2 answers from the launch itself (no listing lag). */
  async findInstances(query: InstanceQuery): Promise<FleetInstance[]> {
    if (this.listingFails && 'tokens' in query) throw new Error('Unavailable: an Availability Zone is impaired');
    const match = (i: FleetInstance) => ('tokens' in query ? i.token !== null && query.tokens.includes(i.token) : query.instanceIds.includes(i.instanceId));
    return [...this.instances.values()].filter((i) => !i.terminated && match(i)).map(({ terminated: _, ...i }) => i);
  }

  async terminate(instanceId: string): Promise<void> {
    const inst = this.instances.get(instanceId);
    if (inst !== undefined) inst.terminated = true;
  }
}

interface Node {
  peerId: string;
  instanceId: string;
  slot: string;
  view: MembershipView;
  replacer: Replacer;
  seq: number;
  interruption: InterruptionKind | null;
  gone: boolean;
}

/**
 * Agents reduced to what the replacement shell sees: a membership view each, gossip as every
 * node's state observed by every other once a heartbeat, the provider's ledger in memory and one
 * manual clock. The real Replacer runs on top; nothing sleeps.
 */
class ShellFleet {
  readonly clock = new ManualClock(START);
  readonly cloud = new MemoryCloud(this.clock);
  readonly nodes: Node[] = [];

  constructor(readonly target: number) {}

  /** Whether a fenced peer's agent answers a direct probe (the agent's confirmGone, inverted). */
  readonly answering = new Set<string>();

  join(peerId: string, instanceId: string, slot: string): Node {
    if (!this.cloud.instances.has(instanceId)) this.cloud.add(instanceId, slot);
    const view = new MembershipView(FLEET);
    const replacer = new Replacer({
      fleet: FLEET,
      self: () => peerId,
      target: () => this.target,
      provider: this.cloud.as(peerId),
      placements: [{ instanceType: 'g5.xlarge', subnet: 'subnet-a' }],
      launchTimeoutMs: LAUNCH_TIMEOUT_MS,
      view,
      clock: this.clock,
      logger: silentLogger,
      publishNow: () => undefined,
      startupGraceMs: 3 * HEARTBEAT_MS,
      confirmGone: async (id) => !this.answering.has(id),
    });
    const node: Node = { peerId, instanceId, slot, view, replacer, seq: 0, interruption: null, gone: false };
    this.nodes.push(node);
    return node;
  }

  state(node: Node, leaving = false): NodeState {
    const interruption = node.interruption === null ? null : { kind: node.interruption, deadline: null, noticedAt: this.clock.now() };
    return sampleNodeState({
      fleet: FLEET,
      peerId: node.peerId,
      seq: ++node.seq,
      sentAt: this.clock.now(),
      leaving,
      draining: node.interruption !== null && node.interruption !== 'rebalance',
      interruption,
      provider: { kind: 'local', instanceId: node.instanceId, instanceType: null, zone: null, lifecycle: 'spot', slot: node.slot },
      launches: node.replacer.launchesInFlight(),
      fenced: node.replacer.fencedInstances(),
    });
  }

  broadcast(state: NodeState): void {
    for (const n of this.nodes) if (!n.gone) n.view.observe(state, this.clock.now());
  }

  /** A clean departure: goodbye, then the agent terminates its own instance. */
  async leave(node: Node): Promise<void> {
    this.broadcast(this.state(node, true));
    node.gone = true;
    await settle();
    await this.cloud.as(node.peerId).terminate(node.instanceId);
  }

  /** One heartbeat: everyone gossips, then every replacer ticks; launches and listings settle. */
  async heartbeat(): Promise<void> {
    for (const n of this.nodes) if (!n.gone) this.broadcast(this.state(n));
    for (const n of this.nodes) {
      if (n.gone) continue;
      n.view.prune(this.clock.now());
      n.replacer.tick();
    }
    this.cloud.answerDue();
    await settle();
    this.clock.advance(HEARTBEAT_MS);
  }

  async run(ms: number, each?: () => Promise<void> | void): Promise<void> {
    for (let t = 0; t < ms; t += HEARTBEAT_MS) {
      await this.heartbeat();
      await each?.();
    }
  }

  /** Joins the agent of every launched instance not yet in the fleet, under the given peer IDs. */
  joinLaunched(peerIds: string[]): void {
    for (const inst of this.cloud.instances.values()) {
      if (inst.terminated || this.nodes.some((n) => n.instanceId === inst.instanceId)) continue;
      const peerId = peerIds.shift();
      if (peerId === undefined) return;
      inst.state = 'running';
      this.join(peerId, inst.instanceId, inst.slot!);
    }
  }

  running(): string[] {
    return [...this.cloud.instances.values()].filter((i) => !i.terminated).map((i) => `${i.slot}:${i.instanceId}`).sort();
  }
}

/** Lets the replacer's provider calls (in-memory promises) run to completion. */
async function settle(): Promise<void> {
  for (let i = 0; i < 20; i++) await new Promise<void>((resolve) => setImmediate(resolve));
}

function fiveNodes(): ShellFleet {
  const fleet = new ShellFleet(5);
  for (const [i, id] of ['a', 'b', 'c', 'd', 'e'].entries()) fleet.join(id, `i-${id}`, String(i));
  return fleet;
}

describe('Replacer (the shell) on a manual clock: the launcher itself interrupted', () => {
  it('the next lowest launches the slot once while the launcher drains; the fleet is back to five with nothing fenced', async () => {
    const fleet = fiveNodes();
    await fleet.run(5_000);
    assert.equal(fleet.cloud.launches.length, 0, 'nothing to do at target');
    const a = fleet.nodes[0]!;
    a.interruption = 'terminate';
    await fleet.run(3_000);
    assert.deepEqual(fleet.cloud.launches.map((l) => [l.slot, l.replaces]), [['0', 'i-a']], 'one launch, by the next lowest, within a few heartbeats of the notice');
    await fleet.leave(a);
    fleet.joinLaunched(['f']);
    await fleet.run(120_000);
    assert.equal(fleet.cloud.launches.length, 1, 'launched once');
    assert.deepEqual(fleet.cloud.terminations, [{ instanceId: 'i-a', by: 'a' }], 'only the departed node terminated itself');
    assert.deepEqual(fleet.running(), ['0:i-new0', '1:i-b', '2:i-c', '3:i-d', '4:i-e']);
  });

  it('the launcher drains and says goodbye before any peer acted on its notice: replaced once, and not fenced while it terminates itself', async () => {
    const fleet = fiveNodes();
    await fleet.run(5_000);
    const a = fleet.nodes[0]!;
    a.interruption = 'terminate';
    fleet.broadcast(fleet.state(a));
    // Goodbye at once, before the next tick of any replacer; its own termination lags.
    fleet.broadcast(fleet.state(a, true));
    a.gone = true;
    await fleet.run(2_000);
    assert.deepEqual(fleet.cloud.launches.map((l) => [l.slot, l.replaces]), [['0', 'i-a']]);
    assert.deepEqual(fleet.cloud.terminations, [], 'nobody fenced the node that is terminating itself');
    await fleet.cloud.as('a').terminate('i-a');
    fleet.joinLaunched(['f']);
    await fleet.run(120_000);
    assert.equal(fleet.cloud.launches.length, 1);
    assert.deepEqual(fleet.running(), ['0:i-new0', '1:i-b', '2:i-c', '3:i-d', '4:i-e']);
  });

  it('a departed node that never terminates itself is fenced once its grace has passed, and its slot still holds one instance', async () => {
    const fleet = fiveNodes();
    await fleet.run(5_000);
    const a = fleet.nodes[0]!;
    fleet.broadcast(fleet.state(a, true));
    a.gone = true;
    await fleet.run(5_000);
    fleet.joinLaunched(['f']);
    await fleet.run(150_000);
    assert.equal(fleet.cloud.launches.length, 1, 'its slot was replaced once');
    assert.deepEqual(fleet.cloud.terminations.map((t) => t.instanceId), ['i-a'], 'the stuck instance was terminated by a peer');
    assert.deepEqual(fleet.running(), ['0:i-new0', '1:i-b', '2:i-c', '3:i-d', '4:i-e']);
  });

  it('a fenced node\'s late messages (held in a cut-off network, delivered after the heal) never bring it back into any view', async () => {
    const fleet = fiveNodes();
    await fleet.run(5_000);
    const e = fleet.nodes.find((n) => n.peerId === 'e')!;
    e.gone = true;
    await fleet.run(20_000);
    assert.deepEqual(fleet.cloud.terminations.map((t) => t.instanceId), ['i-e'], 'dead: fenced');
    assert.ok(fleet.nodes[0]!.replacer.fencedInstances().includes('i-e'), 'the launcher gossips what it fenced');
    // The heal: e's unsent states arrive, newer in sequence than any the fleet saw.
    const late = fleet.state(e);
    for (const n of fleet.nodes) if (!n.gone) assert.equal(n.view.observe(late, fleet.clock.now()), 'fenced', `${n.peerId} refuses it`);
    await fleet.run(5_000);
    for (const n of fleet.nodes) if (!n.gone) assert.equal(n.view.status('e', fleet.clock.now()), undefined);
  });

  it('the replacement joins with the lowest peer ID and becomes the launcher: it launches nothing more', async () => {
    const fleet = fiveNodes();
    await fleet.run(5_000);
    const a = fleet.nodes[0]!;
    a.interruption = 'terminate';
    await fleet.run(3_000);
    await fleet.leave(a);
    fleet.joinLaunched(['0-new']);
    await fleet.run(120_000);
    assert.equal(fleet.cloud.launches.length, 1);
    assert.equal(fleet.nodes.at(-1)!.replacer.lastPlan?.launcher, '0-new');
    assert.deepEqual(fleet.running(), ['0:i-new0', '1:i-b', '2:i-c', '3:i-d', '4:i-e']);
  });
});

describe('Replacer (the shell) on a manual clock: a launch that is slow or not yet listed is never launched twice', () => {
  /** Node e dies (silent, its instance still listed): the launcher fences it and launches slot 4. */
  async function loseE(fleet: ShellFleet): Promise<void> {
    await fleet.run(5_000);
    fleet.nodes.find((n) => n.peerId === 'e')!.gone = true;
  }

  it('a walk slowed past the listing lag (throttling, attempt timeouts) is not superseded while it runs', async () => {
    const fleet = fiveNodes();
    fleet.cloud.launchDelayMs = 150_000;
    await loseE(fleet);
    await fleet.run(200_000);
    assert.deepEqual(fleet.cloud.launches.map((l) => [l.slot, l.replaces]), [['4', 'i-e']], 'one launch: the slow one');
    fleet.joinLaunched(['f']);
    await fleet.run(30_000);
    assert.equal(fleet.cloud.launches.length, 1);
    assert.deepEqual(fleet.running(), ['0:i-a', '1:i-b', '2:i-c', '3:i-d', '4:i-new0']);
  });

  it('a launch the fleet listing lags behind is found by its token before a new generation would replace it', async () => {
    const fleet = fiveNodes();
    fleet.cloud.listingLagMs = 150_000;
    await loseE(fleet);
    await fleet.run(140_000);
    assert.equal(fleet.cloud.launches.length, 1, 'the listing lacked the launch for 60 s after it returned, and longer');
    assert.ok(fleet.nodes[0]!.replacer.lastPlan !== undefined);
    fleet.joinLaunched(['f']);
    await fleet.run(30_000);
    assert.equal(fleet.cloud.launches.length, 1);
    assert.deepEqual(fleet.running(), ['0:i-a', '1:i-b', '2:i-c', '3:i-d', '4:i-new0']);
  });

  it('a launch that is really gone (terminated before it joined) is replaced once its absence is confirmed', async () => {
    const fleet = fiveNodes();
    await loseE(fleet);
    await fleet.run(20_000);
    assert.equal(fleet.cloud.launches.length, 1);
    const first = [...fleet.cloud.instances.values()].find((i) => i.instanceId === 'i-new0')!;
    first.terminated = true;
    await fleet.run(80_000);
    // The vanished instance was listed once, so it is the slot's last holder: the next launch replaces it.
    assert.deepEqual(fleet.cloud.launches.map((l) => [l.slot, l.replaces]), [['4', 'i-e'], ['4', 'i-new0']]);
    fleet.joinLaunched(['f']);
    await fleet.run(30_000);
    assert.equal(fleet.cloud.launches.length, 2);
    assert.deepEqual(fleet.running(), ['0:i-a', '1:i-b', '2:i-c', '3:i-d', '4:i-new1']);
  });
});

describe('Replacer (the shell) on a manual clock: an AZ incident fails the listing', () => {
  it('keeps the last good listing as the gate: a slot the other side of a partition just launched into is not launched into again', async () => {
    const fleet = fiveNodes();
    await fleet.run(5_000);
    // This side loses e; the other side of a partition has just launched into e's slot.
    fleet.nodes.find((n) => n.peerId === 'e')!.gone = true;
    fleet.cloud.instances.set('i-other', { instanceId: 'i-other', slot: '4', state: 'pending', lifecycle: 'spot', token: 'other-side', launchedAt: fleet.clock.now(), terminated: false });
    await fleet.run(15_000);
    assert.equal(fleet.cloud.launches.length, 0, 'listed and young: the slot is held');
    fleet.cloud.listingFails = true;
    await fleet.run(90_000);
    assert.equal(fleet.cloud.launches.length, 0, 'the listing fails, the gate stays: no second instance in slot 4');
    assert.equal(fleet.nodes[0]!.replacer.lastPlan?.hold, 'provider-occupied');
  });
});

describe('Replacer (the shell) on a manual clock: the listing budget', () => {
  it('only the launcher and its backup list the fleet every 10 s; the others about once a minute', async () => {
    const fleet = fiveNodes();
    await fleet.run(10_000);
    fleet.cloud.listings.clear();
    await fleet.run(120_000);
    const count = (id: string) => fleet.cloud.listings.get(id) ?? 0;
    assert.ok(count('a') >= 11 && count('b') >= 11, `launcher ${count('a')}, backup ${count('b')}`);
    for (const id of ['c', 'd', 'e']) assert.ok(count(id) <= 4, `${id} listed ${count(id)} times in 120 s`);
  });
});

describe('Replacer (the shell) on a manual clock: fencing only what is really gone', () => {
  it('a silent holder whose agent still answers a direct probe is not fenced; once it stops answering it is', async () => {
    const fleet = fiveNodes();
    await fleet.run(5_000);
    fleet.nodes.find((n) => n.peerId === 'e')!.gone = true; // gossip from e stops reaching anyone
    fleet.answering.add('i-e'); // …but e itself is up: a congested link, not a dead node
    await fleet.run(60_000);
    assert.equal(fleet.cloud.terminations.length, 0, 'not fenced while it answers');
    assert.equal(fleet.cloud.launches.length, 0, 'and its slot not filled twice');
    fleet.answering.delete('i-e');
    // Forgotten by membership by now, it is unknown again: fenced once unknown for deadAfter.
    await fleet.run(30_000);
    assert.deepEqual(fleet.cloud.terminations.map((t) => t.instanceId), ['i-e']);
    assert.equal(fleet.cloud.launches.length, 1);
  });
});

