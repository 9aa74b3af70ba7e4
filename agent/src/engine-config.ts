import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { EngineConfigInput } from '@synkti/engine';
import { ConfigError } from './config/index.js';
import type { AgentConfig } from './config/index.js';

export const FAKE_MODEL = 'synkti/fake-model';

/** The fake engine's CLI, found through the package so it works from a repo or an installed tarball. */
export function fakeVllmCliPath(): string {
  return join(dirname(fileURLToPath(import.meta.resolve('@synkti/fake-vllm'))), 'cli.js');
}

/** Turns the agent's flat engine keys into the supervisor's config, or says what is missing. */
export function engineConfigFrom(config: AgentConfig): EngineConfigInput | undefined {
  const common = {
    port: config.enginePort,
    capacity: config.engineCapacity,
    startupBudgetMs: config.engineStartupBudgetMs,
    ...(config.engineServedModelName !== undefined ? { servedModelName: config.engineServedModelName } : {}),
  };
  switch (config.engineRuntime) {
    case 'none':
      return undefined;
    case 'fake': {
      const model = config.engineModel ?? FAKE_MODEL;
      const argv = [process.execPath, fakeVllmCliPath(), '--host', '127.0.0.1', '--port', String(config.enginePort), '--model', config.engineServedModelName ?? model, '--max-num-seqs', String(config.engineCapacity), ...config.engineArgs];
      return { ...common, model, runtime: { kind: 'process', argv, stateDir: config.stateDir } };
    }
    case 'process': {
      if (config.engineCommand === undefined) throw new ConfigError('invalid config: engineCommand (--engine-command, SYNKTI_ENGINE_COMMAND) is required when engineRuntime is process');
      const model = config.engineModel ?? config.engineServedModelName;
      if (model === undefined) throw new ConfigError('invalid config: engineModel (--engine-model, SYNKTI_ENGINE_MODEL) is required when engineRuntime is process');
      return { ...common, model, runtime: { kind: 'process', argv: config.engineCommand.split(/\s+/).filter((s) => s !== ''), stateDir: config.stateDir } };
    }
    case 'docker': {
      if (config.engineModel === undefined) throw new ConfigError('invalid config: engineModel (--engine-model, SYNKTI_ENGINE_MODEL) is required when engineRuntime is docker');
      return {
        ...common,
        model: config.engineModel,
        engineArgs: config.engineArgs,
        runtime: { kind: 'docker', image: config.engineImage, ...(config.engineHfCacheDir !== undefined ? { hfCacheDir: config.engineHfCacheDir } : {}) },
      };
    }
  }
}
