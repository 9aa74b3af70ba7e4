import { type Clock, type Logger, silentLogger, systemClock } from '@synkti/interface';
import { spawnGroup } from './child.js';
import type { EngineProcess, EngineRuntime } from './runtime.js';

export interface ProcessRuntimeInit {
  /** The engine's command line, e.g. ['vllm', 'serve', 'Qwen/Qwen3-0.6B', '--port', '8001']. */
  argv: readonly string[];
  /** Extra environment on top of this process's own. */
  env?: Record<string, string>;
  cwd?: string;
}

export interface RuntimeComponents {
  clock?: Clock;
  logger?: Logger;
}

/** Runs any OpenAI-compatible server as a child process group: `vllm serve …`, the fake engine, … */
export function processRuntime(init: ProcessRuntimeInit, components: RuntimeComponents = {}): EngineRuntime {
  const clock = components.clock ?? systemClock;
  const logger = (components.logger ?? silentLogger).child({ component: 'engine:process' });
  return {
    kind: 'process',
    prepare: async () => {},
    launch: async (signal: AbortSignal): Promise<EngineProcess> => {
      signal.throwIfAborted();
      const proc = await spawnGroup({ argv: init.argv, env: { ...process.env, ...init.env }, cwd: init.cwd, clock, logger });
      logger.info({ pid: proc.pid, argv: init.argv }, 'engine process started');
      return proc;
    },
  };
}
