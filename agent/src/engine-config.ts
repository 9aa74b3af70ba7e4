import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type EngineConfigInput, engineDefaults, flagValue } from '@synkti/engine';
import { ConfigError } from './config/index.js';
import type { AgentConfig } from './config/index.js';

export const FAKE_MODEL = 'synkti/fake-model';

/** The fake engine's CLI, found through the package so it works from a repo or an installed tarball. */
export function fakeVllmCliPath(): string {
  return join(dirname(fileURLToPath(import.meta.resolve('@synkti/fake-vllm'))), 'cli.js');
}

/** Turns the agent's flat engine keys into the supervisor's config, or says what is missing. */
export function engineConfigFrom(config: AgentConfig): EngineConfigInput | undefined {
  if (config.engineKind === 'llama.cpp' && config.engineRuntime === 'fake') {
    throw new ConfigError('invalid config: engineKind llama.cpp (--engine-kind, SYNKTI_ENGINE_KIND) runs under engineRuntime process or docker, not fake (the emulated engine is vLLM-like)');
  }
  if (config.engineKind === 'llama.cpp' && config.engineRuntime === 'docker' && config.engineImage === undefined) {
    throw new ConfigError('invalid config: engineImage (--engine-image, SYNKTI_ENGINE_IMAGE) is required when engineKind is llama.cpp under docker: a pinned llama.cpp server image, e.g. ghcr.io/ggml-org/llama.cpp:server-cuda-b<build>');
  }
  const capacity = config.engineCapacity ?? (config.engineKind === 'llama.cpp' ? engineDefaults.LLAMA_DEFAULT_CAPACITY : engineDefaults.DEFAULT_CAPACITY);
  // Capacity only when configured: otherwise the engine takes it from a --max-num-seqs in its
  // arguments, or its own default, and refuses the two when they disagree.
  const common = {
    kind: config.engineKind,
    port: config.enginePort,
    ...(config.engineCapacity !== undefined ? { capacity: config.engineCapacity } : {}),
    startupBudgetMs: config.engineStartupBudgetMs,
    stallTimeoutMs: config.engineStallTimeoutMs,
    ...(config.engineServedModelName !== undefined ? { servedModelName: config.engineServedModelName } : {}),
  };
  switch (config.engineRuntime) {
    case 'none':
      return undefined;
    case 'fake': {
      const model = config.engineModel ?? FAKE_MODEL;
      // The fake engine runs as many sequences as the agent gossips, unless its own arguments say.
      const seqs = flagValue(config.engineArgs, '--max-num-seqs') === undefined ? ['--max-num-seqs', String(capacity)] : [];
      const argv = [process.execPath, fakeVllmCliPath(), '--host', '127.0.0.1', '--port', String(config.enginePort), '--model', config.engineServedModelName ?? model, ...seqs, ...config.engineArgs];
      return { ...common, model, runtime: { kind: 'process', argv, stateDir: config.stateDir } };
    }
    case 'process': {
      const command = config.engineCommand?.split(/\s+/).filter((s) => s !== '');
      if (config.engineKind === 'llama.cpp') {
        // The agent builds llama-server's command line: engineCommand names only the program.
        if (config.engineModel === undefined) throw new ConfigError('invalid config: engineModel (--engine-model, SYNKTI_ENGINE_MODEL) is required when engineKind is llama.cpp: the path of a GGUF file');
        const runtime = { kind: 'process' as const, stateDir: config.stateDir, ...(command !== undefined && command.length > 0 ? { command } : {}) };
        return { ...common, model: config.engineModel, contextPerSlot: config.engineContextPerSlot, engineArgs: config.engineArgs, runtime };
      }
      const model = config.engineModel ?? config.engineServedModelName;
      if (model === undefined) throw new ConfigError('invalid config: engineModel (--engine-model, SYNKTI_ENGINE_MODEL) is required when engineRuntime is process');
      // No command: the agent builds `vllm serve MODEL …` (vllm on PATH) with engineArgs.
      if (command === undefined || command.length === 0) return { ...common, model, engineArgs: config.engineArgs, runtime: { kind: 'process', stateDir: config.stateDir } };
      return { ...common, model, runtime: { kind: 'process', argv: command, stateDir: config.stateDir } };
    }
    case 'docker': {
      if (config.engineModel === undefined) throw new ConfigError('invalid config: engineModel (--engine-model, SYNKTI_ENGINE_MODEL) is required when engineRuntime is docker');
      return {
        ...common,
        model: config.engineModel,
        engineArgs: config.engineArgs,
        contextPerSlot: config.engineContextPerSlot,
        runtime: { kind: 'docker', gpus: config.engineGpus === 'none' ? null : config.engineGpus, ...(config.engineImage !== undefined ? { image: config.engineImage } : {}), pullPolicy: config.enginePullPolicy, ...(config.engineHfCacheDir !== undefined ? { hfCacheDir: config.engineHfCacheDir } : {}) },
      };
    }
  }
}
