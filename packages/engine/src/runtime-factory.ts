import type { EngineConfig } from './config.js';
import { dockerRuntime } from './docker-runtime.js';
import { processRuntime, type RuntimeComponents } from './process-runtime.js';
import type { EngineRuntime } from './runtime.js';

/** The runtime the config asks for. */
export function createRuntime(config: EngineConfig, components: RuntimeComponents = {}, ready?: (signal: AbortSignal) => Promise<boolean>): EngineRuntime {
  const r = config.runtime;
  if (r.kind === 'process') {
    const init: Parameters<typeof processRuntime>[0] = { argv: r.argv, stopGraceMs: config.stopGraceMs };
    if (r.env !== undefined) init.env = r.env;
    if (r.cwd !== undefined) init.cwd = r.cwd;
    if (r.stateDir !== undefined) init.stateDir = r.stateDir;
    if (ready !== undefined) init.ready = ready;
    return processRuntime(init, components);
  }
  return dockerRuntime(
    {
      image: r.image,
      dockerPath: r.dockerPath,
      containerName: r.containerName,
      hostPort: config.port,
      hfCacheDir: r.hfCacheDir,
      model: config.model,
      servedModelName: config.servedModelName,
      passEnv: r.passEnv,
      gpus: r.gpus,
      rm: r.rm,
      pullPolicy: r.pullPolicy,
      pullTimeoutMs: r.pullTimeoutMs,
      dockerArgs: r.dockerArgs,
      engineArgs: config.engineArgs,
      llamaCpp: config.kind === 'llama.cpp' ? { capacity: config.capacity, contextPerSlot: config.contextPerSlot } : undefined,
      ...(ready !== undefined ? { ready } : {}),
    },
    components,
  );
}
