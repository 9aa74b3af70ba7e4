import { type ChildProcess, spawn } from 'node:child_process';
import type { Clock, Logger } from '@synkti/interface';
import { EngineSpawnError } from './errors.js';
import { pipeLinesToLogger } from './output-lines.js';
import type { EngineExit, EngineProcess } from './runtime.js';

export interface SpawnGroupOptions {
  argv: readonly string[];
  env: NodeJS.ProcessEnv;
  cwd?: string | undefined;
  clock: Clock;
  logger: Logger;
  /** Called on stop instead of signalling the group first (docker asks the daemon to stop). */
  politeStop?: (graceMs: number) => Promise<void>;
  /** Extra wait after the grace before SIGKILL, for a polite stop that has its own grace. */
  stopMarginMs?: number;
  /**
   * A file descriptor for the engine's stdout and stderr instead of pipes to the logger: an
   * engine that must outlive a crashed agent cannot write into a pipe that dies with it.
   */
  outputFd?: number;
}

/** Signals a whole process group; a group that is gone already is not an error. */
export function killGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ESRCH') throw err;
  }
}

/**
 * Spawns `argv` as the leader of its own process group, pipes its output to the logger and
 * resolves once it runs. Stopping sends SIGTERM to the whole group and SIGKILL after the grace.
 * When the leader exits, leftovers of the group are killed, so no worker outlives its engine.
 */
export function spawnGroup(options: SpawnGroupOptions): Promise<EngineProcess> {
  const [command, ...args] = options.argv;
  if (command === undefined) return Promise.reject(new EngineSpawnError('(empty argv)'));
  const child: ChildProcess = spawn(command, args, {
    detached: true,
    env: options.env,
    cwd: options.cwd,
    stdio: options.outputFd === undefined ? ['ignore', 'pipe', 'pipe'] : ['ignore', options.outputFd, options.outputFd],
  });
  pipeLinesToLogger(child.stdout, options.logger, 'stdout');
  pipeLinesToLogger(child.stderr, options.logger, 'stderr');

  const exited = new Promise<EngineExit>((resolve) => {
    child.once('exit', (code, signal) => {
      if (child.pid !== undefined) killGroup(child.pid, 'SIGKILL');
      resolve({ code, signal });
    });
  });

  return new Promise<EngineProcess>((resolve, reject) => {
    child.once('error', (err) => reject(new EngineSpawnError(command, { cause: err })));
    child.once('spawn', () => {
      const pid = child.pid as number;
      let stopping: Promise<EngineExit> | null = null;
      const stop = (graceMs: number): Promise<EngineExit> => {
        if (child.exitCode !== null || child.signalCode !== null) return exited;
        stopping ??= (async () => {
          const timer = options.clock.setTimeout(() => killGroup(pid, 'SIGKILL'), graceMs + (options.stopMarginMs ?? 0));
          try {
            if (options.politeStop) await options.politeStop(graceMs).catch(() => killGroup(pid, 'SIGTERM'));
            else killGroup(pid, 'SIGTERM');
            return await exited;
          } finally {
            options.clock.clearTimeout(timer);
          }
        })();
        return stopping;
      };
      resolve({ pid, exited, stop });
    });
  });
}
