import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FleetJson } from '@synkti/gateway';
import { generateSwarmKey } from '@synkti/mesh';
import { AgentProcess } from './agent-process.js';

/** Agents started at once while a swarm forms: bounded, so start-up JIT does not starve the running ones. */
const START_BATCH = 5;

/** What every observer said of one peer over time: ms from the start of the watch to each first sighting. */
export interface StatusWatch {
  /** Per observer: first time it said suspect or dead (undefined: never). */
  suspectMs: (number | undefined)[];
  deadMs: (number | undefined)[];
  /** Per observer: it ever said dead (for a peer that must never be). */
  everDead: boolean[];
}

/**
 * N `synkti agent` processes (mesh only, `--engine-runtime none`) in one swarm on loopback, each
 * with its own event loop: what a fleet's control plane is, without GPUs. Agent 0 is the first
 * bootstrap; the others join through agents 0 and 1.
 */
export class AgentSwarm {
  readonly agents: AgentProcess[] = [];
  readonly #dir: string;
  readonly keyFile: string;
  readonly #args: string[];

  private constructor(dir: string, keyFile: string, args: string[]) {
    this.#dir = dir;
    this.keyFile = keyFile;
    this.#args = args;
  }

  static async start(nodes: number, args: string[] = []): Promise<AgentSwarm> {
    const dir = await mkdtemp(join(tmpdir(), 'synkti-swarm-'));
    const keyFile = join(dir, 'swarm.key');
    await writeFile(keyFile, generateSwarmKey());
    if (!Number.isInteger(nodes) || nodes < 1) throw new RangeError(`a swarm needs at least one agent, not ${nodes}`);
    const swarm = new AgentSwarm(dir, keyFile, args);
    try {
      const first = await swarm.#add(0, []);
      if (nodes > 1) await swarm.#add(1, first.addrs);
      for (let i = 2; i < nodes; i += START_BATCH) {
        const batch: Promise<AgentProcess>[] = [];
        for (let j = i; j < Math.min(nodes, i + START_BATCH); j++) batch.push(swarm.#add(j, swarm.#bootstrap()));
        await Promise.all(batch);
      }
    } catch (err) {
      await swarm.stop();
      throw err;
    }
    return swarm;
  }

  /** One more agent, joining through agents 0 and 1. */
  addAgent(): Promise<AgentProcess> {
    return this.#add(this.agents.length, this.#bootstrap());
  }

  #bootstrap(): string[] {
    return this.agents.slice(0, 2).flatMap((a) => a.addrs);
  }

  async #add(index: number, bootstrap: string[]): Promise<AgentProcess> {
    const agent = new AgentProcess({ stateDir: join(this.#dir, `a${index}`), swarmKeyFile: this.keyFile, bootstrap, args: ['--fleet', 'swarm', ...this.#args] });
    this.agents[index] = agent;
    return agent.start(60_000);
  }

  /** Every listed agent's /fleet at once; undefined where it did not answer. */
  views(agents: readonly AgentProcess[] = this.agents): Promise<(FleetJson | undefined)[]> {
    return Promise.all(agents.map((a) => a.fleet().catch(() => undefined)));
  }

  /** Whether every listed agent sees every one of `peerIds` alive. */
  async allSeeAlive(peerIds: readonly string[], agents: readonly AgentProcess[] = this.agents): Promise<boolean> {
    const views = await this.views(agents);
    return views.every((v) => v !== undefined && peerIds.every((id) => v.peers.some((p) => p.peerId === id && p.status === 'alive')));
  }

  /** Waits until every agent sees every agent alive; false when `timeoutMs` passes first. */
  waitConverged(timeoutMs: number): Promise<boolean> {
    return this.waitAlive(this.agents.map((a) => a.peerId), this.agents, timeoutMs);
  }

  /** Waits until every observer sees `peerIds` alive; false when `timeoutMs` passes first. */
  async waitAlive(peerIds: string | readonly string[], observers: readonly AgentProcess[], timeoutMs: number): Promise<boolean> {
    const ids = typeof peerIds === 'string' ? [peerIds] : peerIds;
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      if (await this.allSeeAlive(ids, observers)) return true;
      await new Promise((r) => setTimeout(r, 250));
    }
    return false;
  }

  /**
   * Polls `observers` every `everyMs` for `durationMs` (or until all said dead, with `untilDead`),
   * recording when each first said suspect/dead of `peerId`.
   */
  async watch(peerId: string, observers: readonly AgentProcess[], opts: { durationMs: number; everyMs: number; untilDead: boolean }): Promise<StatusWatch> {
    const t0 = performance.now();
    const out: StatusWatch = { suspectMs: observers.map(() => undefined), deadMs: observers.map(() => undefined), everDead: observers.map(() => false) };
    while (performance.now() - t0 < opts.durationMs) {
      const views = await this.views(observers);
      const at = performance.now() - t0;
      views.forEach((v, i) => {
        const status = v?.peers.find((p) => p.peerId === peerId)?.status;
        if ((status === 'suspect' || status === 'dead') && out.suspectMs[i] === undefined) out.suspectMs[i] = at;
        if (status === 'dead') {
          out.everDead[i] = true;
          out.deadMs[i] ??= at;
        }
      });
      if (opts.untilDead && out.deadMs.every((d) => d !== undefined)) break;
      await new Promise((r) => setTimeout(r, opts.everyMs));
    }
    return out;
  }

  async stop(): Promise<void> {
    await Promise.all(this.agents.map((a) => a?.stop().catch(() => undefined)));
    await rm(this.#dir, { recursive: true, force: true });
  }
}
