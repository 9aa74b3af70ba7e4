import { type Clock, type Logger, silentLogger, systemClock, deadlineSignal } from '@synkti/interface';
import { spawnGroup } from './child.js';
import { DOCKER_COMMAND_TIMEOUT_MS, DOCKER_STOP_MARGIN_MS, PULL_TIMEOUT_MS, type PullPolicy } from './constants.js';
import {
  type DockerRunSpec,
  dockerFindArgs,
  dockerImagePresentArgs,
  dockerInspectArgs,
  dockerPullArgs,
  dockerRemoveArgs,
  dockerRunArgs,
  dockerStopArgs,
  dockerWaitArgs,
  specLabelOf,
} from './docker-args.js';
import { readyToAdopt } from './adoption.js';
import { runDocker } from './docker-exec.js';
import type { RuntimeComponents } from './process-runtime.js';
import type { EngineProcess, EngineRuntime } from './runtime.js';

export interface DockerRuntimeInit extends DockerRunSpec {
  /** The docker CLI; `docker` is looked up on PATH. */
  dockerPath: string;
  /** Whether `docker pull` runs before the first launch (the `pulling` phase). */
  pullPolicy: PullPolicy;
  pullTimeoutMs?: number;
  /** Environment of the docker CLI; defaults to this process's (it carries HF_TOKEN). */
  env?: NodeJS.ProcessEnv;
  /** True when the engine on the host port is healthy and serves the model: a running container may be adopted. */
  ready?: (signal: AbortSignal) => Promise<boolean>;
}


/**
 * Runs vLLM's OpenAI image with `docker run` in the foreground, so the container's output and
 * exit reach us through the docker client. Pulls once per runtime; stops with `docker stop -t`.
 * Before a launch it looks at the container of the same name: one a previous agent left running
 * with the same command line (its `synkti.spec` label) and ready is adopted — followed with
 * `docker wait`, no cold start; any other is removed first, so there is never a second engine.
 */
export function dockerRuntime(init: DockerRuntimeInit, components: RuntimeComponents = {}): EngineRuntime {
  const clock: Clock = components.clock ?? systemClock;
  const logger: Logger = (components.logger ?? silentLogger).child({ component: 'engine:docker' });
  const env = init.env ?? process.env;
  let prepared = init.pullPolicy === 'never';

  const docker = (args: string[], signal: AbortSignal, timeoutMs = DOCKER_COMMAND_TIMEOUT_MS) =>
    runDocker(init.dockerPath, args, env, deadlineSignal(timeoutMs, signal));

  const removeStale = async (signal: AbortSignal): Promise<void> => {
    const { stdout } = await docker(dockerFindArgs(init.containerName), signal);
    if (stdout.trim() === '') return;
    logger.warn({ container: init.containerName, ids: stdout.trim().split('\n') }, 'removing stale engine container');
    await docker(dockerRemoveArgs(init.containerName), signal);
  };

  const adoptable = async (signal: AbortSignal): Promise<boolean> => {
    if (init.ready === undefined) return false;
    let out: string;
    try {
      out = (await docker(dockerInspectArgs(init.containerName), signal)).stdout.trim();
    } catch {
      return false; // no such container
    }
    const [running, label] = out.split(' ');
    if (running !== 'true') return false;
    if (label !== specLabelOf(init)) {
      logger.warn({ container: init.containerName }, 'a running engine container was started with other arguments; replacing it');
      return false;
    }
    if (await readyToAdopt(init.ready, clock, signal)) return true;
    logger.warn({ container: init.containerName }, 'a running engine container is not healthy; replacing it');
    return false;
  };

  const imagePresent = async (signal: AbortSignal): Promise<boolean> => {
    try {
      await docker(dockerImagePresentArgs(init.image), signal);
      return true;
    } catch {
      signal.throwIfAborted();
      return false;
    }
  };

  /** Pulls; with `always`, a failed pull of an image already on disk is a warning, not a failed start. */
  const pull = async (signal: AbortSignal): Promise<void> => {
    logger.info({ image: init.image, policy: init.pullPolicy }, 'pulling engine image');
    try {
      await docker(dockerPullArgs(init.image), signal, init.pullTimeoutMs ?? PULL_TIMEOUT_MS);
    } catch (err) {
      signal.throwIfAborted();
      if (init.pullPolicy !== 'always' || !(await imagePresent(signal))) throw err;
      logger.warn({ err, image: init.image }, 'docker pull failed; starting the image already on disk');
    }
  };

  const politeStop = async (graceMs: number): Promise<void> => {
    const args = dockerStopArgs(init.containerName, graceMs);
    await docker(args, new AbortController().signal, graceMs + DOCKER_STOP_MARGIN_MS);
  };

  return {
    kind: 'docker',
    prepare: async (signal: AbortSignal): Promise<void> => {
      if (prepared) return;
      if (init.pullPolicy === 'if-missing' && (await imagePresent(signal))) {
        logger.info({ image: init.image }, 'engine image on disk; not pulling');
      } else {
        await pull(signal);
      }
      prepared = true;
    },
    launch: async (signal: AbortSignal): Promise<EngineProcess> => {
      if (await adoptable(signal)) {
        logger.info({ container: init.containerName }, 'adopted the engine container a previous agent left running');
        return spawnGroup({ argv: [init.dockerPath, ...dockerWaitArgs(init.containerName)], env, clock, logger, politeStop, stopMarginMs: DOCKER_STOP_MARGIN_MS });
      }
      await removeStale(signal);
      signal.throwIfAborted();
      const argv = [init.dockerPath, ...dockerRunArgs(init)];
      logger.info({ argv }, 'starting engine container');
      return spawnGroup({ argv, env, clock, logger, politeStop, stopMarginMs: DOCKER_STOP_MARGIN_MS });
    },
  };
}
