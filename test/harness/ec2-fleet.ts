import { ec2Provider } from '@synkti/cloud';
import { type FakeEc2, type FakeInstance, startFakeEc2 } from '@synkti/cloud/testing';
import type { CloudProvider } from '@synkti/interface';
import { type AgentProcess, FAST_TIMINGS } from './agent-process.js';
import { TestFleet } from './fleet.js';
import { alive } from './local-up.js';
import { freePort } from './ports.js';

export const TEMPLATE = 'lt-0123456789abcdef0';
const PLACEMENT = 'g5.xlarge@subnet-0a';
const CREDENTIALS = { AWS_ACCESS_KEY_ID: 'test', AWS_SECRET_ACCESS_KEY: 'test', AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' };
/** How often the stand-in hypervisor looks at the fake's instances. */
const POLL_MS = 100;
/** A terminated machine runs this long before it is gone (EC2's shutdown takes seconds): an agent that terminated itself exits on its own first. */
const SHUTDOWN_MS = 2_000;

export interface Ec2Node {
  instanceId: string;
  slot: string;
  agent: AgentProcess;
  imdsPort: number;
}

/**
 * A fleet on the fake EC2 endpoint, with the test as the hypervisor: every pending instance the
 * fleet's tag names gets an agent process (its instance ID and slot from the fake's record),
 * and an instance that is shutting down or terminated loses its agent and engine at once, as
 * EC2 takes a machine. The agents launch, list and terminate through the real EC2 provider.
 */
export class Ec2Fleet {
  readonly nodes = new Map<string, Ec2Node>();
  readonly #starting = new Set<string>();
  readonly #taken = new Set<string>();
  /** Boots run one after another, so each new agent has the live ones as its bootstrap list. */
  #boots: Promise<void> = Promise.resolve();
  readonly #errors: string[] = [];
  #timer: NodeJS.Timeout | undefined;

  private constructor(
    readonly ec2: FakeEc2,
    readonly fleet: TestFleet,
    readonly provider: CloudProvider,
    readonly target: number,
    readonly agentArgs: string[],
  ) {}

  static async start(target: number, agentArgs: string[] = []): Promise<Ec2Fleet> {
    // The agent processes inherit them: the fake accepts any signature.
    Object.assign(process.env, CREDENTIALS);
    const ec2 = await startFakeEc2();
    const provider = ec2Provider({ region: ec2.region, endpoint: ec2.url, launchTemplate: { id: TEMPLATE } }, { credentials: { accessKeyId: 'test', secretAccessKey: 'test' } });
    const fleet = new Ec2Fleet(ec2, await TestFleet.create('synkti-ec2-'), provider, target, agentArgs);
    fleet.#timer = setInterval(() => fleet.#poll(), POLL_MS);
    return fleet;
  }

  /** Launches an instance into `slot` as an operator (or a launcher on the other side) would. */
  launch(slot: string, token: string): Promise<{ instanceId: string }> {
    return this.provider.launch({ fleet: 'default', slot, token, placement: { instanceType: 'g5.xlarge', subnet: 'subnet-0a' }, replaces: null });
  }

  /** Instances EC2 would bill: pending or running. */
  running(): FakeInstance[] {
    return this.ec2.instances().filter((i) => i.state === 'pending' || i.state === 'running');
  }

  /** Agents whose process still runs. */
  liveNodes(): Ec2Node[] {
    return [...this.nodes.values()].filter((n) => n.agent.child?.exitCode === null && n.agent.child.signalCode === null);
  }

  /** Every agent's log lines about launching, terminating, draining and leaving, oldest first: what a failed count is explained by. */
  launchLog(): string[] {
    const lines: { time: number; text: string }[] = [];
    for (const node of this.nodes.values()) {
      for (const l of node.agent.logs) {
        const msg = String(l['msg'] ?? '');
        if (!/launch|terminat|fenc|dead holder|stray|drain|leav|interruption|surplus|on hold/.test(msg)) continue;
        const { time, msg: _m, level: _l, pid: _p, hostname: _h, ...rest } = l;
        lines.push({ time: Number(time ?? 0), text: `${node.instanceId} (slot ${node.slot}): ${msg} ${JSON.stringify(rest).slice(0, 300)}` });
      }
    }
    return lines.sort((a, b) => a.time - b.time).map((l) => l.text);
  }

  errors(): string[] {
    return [...this.#errors];
  }

  async notice(instanceId: string, kind: 'terminate' | 'rebalance', inSeconds = 5): Promise<void> {
    const node = this.nodes.get(instanceId);
    if (node === undefined) throw new Error(`no agent on ${instanceId}`);
    const res = await fetch(`http://127.0.0.1:${node.imdsPort}/_synkti/notice`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ kind, inSeconds }) });
    if (res.status !== 200) throw new Error(`notice refused: ${res.status}`);
  }

  #poll(): void {
    for (const inst of this.ec2.instances()) {
      const node = this.nodes.get(inst.instanceId);
      if (inst.state === 'pending' && node === undefined && !this.#starting.has(inst.instanceId) && inst.tags.get('synkti:fleet') === 'default') {
        this.#starting.add(inst.instanceId);
        this.#boots = this.#boots.then(() =>
          this.#boot(inst)
            .catch((err: unknown) => void this.#errors.push(`boot ${inst.instanceId}: ${(err as Error).message}`))
            .finally(() => this.#starting.delete(inst.instanceId)),
        );
      }
      if ((inst.state === 'shutting-down' || inst.state === 'terminated') && node !== undefined && !this.#taken.has(inst.instanceId)) {
        this.#taken.add(inst.instanceId);
        setTimeout(() => void this.#takeMachine(node), SHUTDOWN_MS);
      }
    }
  }

  async #boot(inst: FakeInstance): Promise<void> {
    const slot = inst.tags.get('synkti:slot');
    if (slot === undefined) throw new Error('no synkti:slot tag');
    const [imdsPort, enginePort] = [await freePort(), await freePort()];
    const bootstrap = this.liveNodes().flatMap((n) => n.agent.addrs);
    const agent = this.fleet.addAgent(
      `node-${inst.instanceId}`,
      [
        ...FAST_TIMINGS,
        '--provider', 'ec2', '--ec2-endpoint', this.ec2.url, '--ec2-region', this.ec2.region, '--ec2-launch-template', TEMPLATE, '--placements', PLACEMENT,
        '--target-size', String(this.target), '--instance-id', inst.instanceId, '--slot', slot, '--lifecycle', 'spot',
        '--emulate-imds-port', String(imdsPort), '--imds-poll-ms', '200', '--drain-margin-ms', '500',
        '--engine-runtime', 'fake', '--engine-port', String(enginePort), '--engine-args=--ttft-ms=2,--tokens-per-s=2000',
        ...this.agentArgs,
      ],
      bootstrap,
    );
    // Known before it is up: a surplus agent may leave (and end its instance) before the harness sees it start.
    this.nodes.set(inst.instanceId, { instanceId: inst.instanceId, slot, agent, imdsPort });
    // The machine is up once its agent runs: EC2 says running about then.
    await agent.start();
    if (inst.state === 'pending') this.ec2.setState(inst.instanceId, 'running');
  }

  /** EC2 took the machine: the agent and its engine go at once, whatever they were doing. */
  async #takeMachine(node: Ec2Node): Promise<void> {
    const pid = node.agent.child?.pid;
    node.agent.kill('SIGKILL');
    if (pid === undefined) return;
    const enginePid = await node.agent.enginePidNow();
    if (enginePid !== null && alive(enginePid)) {
      try {
        process.kill(-enginePid, 'SIGKILL');
      } catch {
        process.kill(enginePid, 'SIGKILL');
      }
    }
  }

  async close(): Promise<void> {
    clearInterval(this.#timer);
    for (const node of this.nodes.values()) await this.#takeMachine(node);
    await this.fleet.close();
    await this.ec2.close();
  }
}
