import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateSwarmKey } from '@synkti/mesh';
import { AgentProcess } from './agent-process.js';

/** A temp directory with a swarm key, and every agent started in it; `close()` stops them all. */
export class TestFleet {
  readonly agents: AgentProcess[] = [];
  dir = '';
  swarmKeyFile = '';

  static async create(prefix = 'synkti-fleet-'): Promise<TestFleet> {
    const fleet = new TestFleet();
    fleet.dir = await mkdtemp(join(tmpdir(), prefix));
    fleet.swarmKeyFile = join(fleet.dir, 'swarm.key');
    await writeFile(fleet.swarmKeyFile, generateSwarmKey(), { mode: 0o600 });
    return fleet;
  }

  async startAgent(name: string, args: string[] = [], bootstrap?: string[]): Promise<AgentProcess> {
    return this.addAgent(name, args, bootstrap).start();
  }

  /** An agent owned by the fleet (so `close()` stops it) but not yet started: callers that must know it before it is up. */
  addAgent(name: string, args: string[] = [], bootstrap?: string[]): AgentProcess {
    const agent = new AgentProcess({
      stateDir: join(this.dir, name),
      swarmKeyFile: this.swarmKeyFile,
      bootstrap: bootstrap ?? this.agents[0]?.addrs ?? [],
      args,
    });
    this.agents.push(agent);
    return agent;
  }

  async close(): Promise<void> {
    await Promise.all(this.agents.map((a) => a.stop()));
    await rm(this.dir, { recursive: true, force: true });
  }
}
