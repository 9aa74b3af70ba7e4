import { closeSync, mkdirSync, openSync } from 'node:fs';
import { join } from 'node:path';
import { type Clock, type Logger, silentLogger, systemClock } from '@synkti/interface';
import { adoptedProcess, readyToAdopt, ENGINE_LOG_FILE, type EngineRecord, processStartTicks, readEngineRecord, recordAlive, removeEngineRecord, writeEngineRecord } from './adoption.js';
import { spawnGroup } from './child.js';
import type { EngineProcess, EngineRuntime } from './runtime.js';

export interface ProcessRuntimeInit {
  /** The engine's command line, e.g. ['vllm', 'serve', 'Qwen/Qwen3-0.6B', '--port', '8001']. */
  argv: readonly string[];
  /** Extra environment on top of this process's own. */
  env?: Record<string, string>;
  cwd?: string;
  /**
   * Where the engine's record (PID, start time, argv) and output log live. With it, an engine
   * whose agent died (SIGKILL, OOM, crash) keeps running, and the next agent adopts it.
   */
  stateDir?: string;
  /** True when the engine on the configured port is healthy and serves the configured model. */
  ready?: (signal: AbortSignal) => Promise<boolean>;
  /** Grace for a predecessor's engine that cannot be adopted, before SIGKILL. */
  stopGraceMs?: number;
}

export interface RuntimeComponents {
  clock?: Clock;
  logger?: Logger;
}

const DEFAULT_STOP_GRACE_MS = 10_000;

/**
 * Runs any OpenAI-compatible server as a child process group: `vllm serve …`, the fake engine, …
 * With a state directory it first looks for the engine its predecessor left: alive (same PID and
 * start time), started with the same command line and ready → adopted, no cold start; otherwise
 * stopped before a new one starts, so there are never two engines on one port or GPU.
 */
export function processRuntime(init: ProcessRuntimeInit, components: RuntimeComponents = {}): EngineRuntime {
  const clock = components.clock ?? systemClock;
  const logger = (components.logger ?? silentLogger).child({ component: 'engine:process' });
  return {
    kind: 'process',
    prepare: async () => {},
    launch: async (signal: AbortSignal): Promise<EngineProcess> => {
      signal.throwIfAborted();
      const stateDir = init.stateDir;
      if (stateDir === undefined) return spawn(init, clock, logger, undefined);
      const predecessor = await readEngineRecord(stateDir);
      if (predecessor !== null && recordAlive(predecessor)) {
        if (await adoptable(init, predecessor, clock, signal)) {
          logger.info({ pid: predecessor.pid, startedAt: predecessor.startedAt }, 'adopted the engine a previous agent left running');
          return adoptedProcess(predecessor, clock);
        }
        logger.warn({ pid: predecessor.pid, argv: predecessor.argv }, 'stopping an engine a previous agent left (other arguments, or not healthy) before starting a new one');
        await adoptedProcess(predecessor, clock).stop(init.stopGraceMs ?? DEFAULT_STOP_GRACE_MS);
      }
      await removeEngineRecord(stateDir);
      return spawn(init, clock, logger, stateDir);
    },
  };
}

async function adoptable(init: ProcessRuntimeInit, record: EngineRecord, clock: Clock, signal: AbortSignal): Promise<boolean> {
  if (JSON.stringify(record.argv) !== JSON.stringify(init.argv) || record.cwd !== (init.cwd ?? null) || init.ready === undefined) return false;
  return readyToAdopt(init.ready, clock, signal);
}

async function spawn(init: ProcessRuntimeInit, clock: Clock, logger: Logger, stateDir: string | undefined): Promise<EngineProcess> {
  let outputFd: number | undefined;
  if (stateDir !== undefined) {
    mkdirSync(stateDir, { recursive: true });
    outputFd = openSync(join(stateDir, ENGINE_LOG_FILE), 'a', 0o600);
  }
  let proc: EngineProcess;
  try {
    proc = await spawnGroup({ argv: init.argv, env: { ...process.env, ...init.env }, cwd: init.cwd, clock, logger, ...(outputFd !== undefined ? { outputFd } : {}) });
  } finally {
    // The child holds its own copy of the descriptor.
    if (outputFd !== undefined) closeSync(outputFd);
  }
  logger.info({ pid: proc.pid, argv: init.argv, ...(stateDir !== undefined ? { output: join(stateDir, ENGINE_LOG_FILE) } : {}) }, 'engine process started');
  if (stateDir !== undefined && proc.pid !== undefined) {
    const startTicks = processStartTicks(proc.pid);
    if (startTicks !== null) await writeEngineRecord(stateDir, { pid: proc.pid, startTicks, argv: [...init.argv], cwd: init.cwd ?? null, startedAt: new Date().toISOString() });
    void proc.exited.then(() => removeEngineRecord(stateDir).catch(() => undefined));
  }
  return proc;
}
