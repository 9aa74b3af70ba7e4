import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { SynktiError } from '@synkti/interface';
import { z } from 'zod';
import { type ConfigKeyName, configKeys } from './keys.js';

type Shape = { [K in ConfigKeyName]: (typeof configKeys)[K]['schema'] };
export const configSchema = z.strictObject(
  Object.fromEntries(Object.entries(configKeys).map(([name, k]) => [name, k.schema])) as Shape,
);
export type AgentConfig = z.infer<typeof configSchema> & { swarmKeyFile: string };

export class ConfigError extends SynktiError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('CONFIG_INVALID', message, options);
  }
}

export const envName = (key: string): string => `SYNKTI_${key.replace(/[A-Z]/g, (c) => `_${c}`).toUpperCase()}`;
export const flagName = (key: string): string => key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);

export interface ConfigSources {
  /** Values from command-line flags, by config key (strings as typed). */
  flags?: Record<string, unknown>;
  env?: NodeJS.ProcessEnv;
  /** Path of a JSON config file; `SYNKTI_CONFIG` names one too. */
  file?: string;
}

/** Reads file, then environment, then flags (each overriding the one before) and validates once. */
export async function loadConfig(sources: ConfigSources = {}): Promise<AgentConfig> {
  const env = sources.env ?? process.env;
  const filePath = sources.file ?? env['SYNKTI_CONFIG'];
  const merged: Record<string, unknown> = filePath === undefined ? {} : await readConfigFile(filePath);
  for (const [name, k] of Object.entries(configKeys)) {
    const fromEnv = env[envName(name)];
    if (fromEnv !== undefined && fromEnv !== '') merged[name] = 'list' in k && k.list ? splitList(fromEnv) : fromEnv;
    const fromFlag = sources.flags?.[name];
    if (fromFlag !== undefined) merged[name] = 'list' in k && k.list && typeof fromFlag === 'string' ? splitList(fromFlag) : fromFlag;
  }
  const result = configSchema.safeParse(merged);
  if (!result.success) {
    const issue = result.error.issues[0];
    const name = String(issue?.path[0] ?? '');
    const where = name === '' ? 'config' : `${name} (--${flagName(name)}, ${envName(name)})`;
    const detail = issue?.code === 'unrecognized_keys' ? `unknown key(s) ${issue.keys.join(', ')}` : issue?.message;
    throw new ConfigError(`invalid config: ${where}: ${detail ?? 'invalid'}`);
  }
  const config = result.data;
  if (config.minNodes > config.maxNodes) throw new ConfigError(`invalid config: minNodes (--min-nodes, SYNKTI_MIN_NODES) ${config.minNodes} is above maxNodes (--max-nodes, SYNKTI_MAX_NODES) ${config.maxNodes}`);
  if (config.autoscale && config.targetSize === 0) throw new ConfigError('invalid config: autoscale (--autoscale, SYNKTI_AUTOSCALE) needs targetSize (--target-size, SYNKTI_TARGET_SIZE) > 0: the size the fleet starts from');
  return { ...config, swarmKeyFile: config.swarmKeyFile ?? join(config.stateDir, 'swarm.key') };
}

async function readConfigFile(path: string): Promise<Record<string, unknown>> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    throw new ConfigError(`cannot read config file ${path}: ${(err as Error).message}`, { cause: err });
  }
  try {
    const value: unknown = JSON.parse(text);
    if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new Error('not a JSON object');
    return value as Record<string, unknown>;
  } catch (err) {
    throw new ConfigError(`config file ${path} is not a JSON object: ${(err as Error).message}`, { cause: err });
  }
}

function splitList(text: string): string[] {
  return text
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
}
