import type { z } from 'zod';
import { type ConfigKey, configKeys } from './keys.js';
import { envName, flagName } from './load.js';

function defaultOf(key: ConfigKey): string {
  if (key.defaultText !== undefined) return key.defaultText;
  const schema = key.schema as z.ZodType & { def?: { type?: string; defaultValue?: unknown } };
  if (schema.def?.type === 'default') {
    const value = schema.def.defaultValue;
    return Array.isArray(value) ? (value.length === 0 ? '(none)' : value.join(',')) : String(value);
  }
  return '(none)';
}

/** docs/configuration.md, generated from the schema so the two cannot drift (a test compares them). */
export function renderConfigDocs(): string {
  const rows = Object.entries(configKeys).map(([name, key]) => {
    const cells = [`\`${name}\``, `\`--${flagName(name)}\``, `\`${envName(name)}\``, `\`${defaultOf(key as ConfigKey)}\``, (key as ConfigKey).describe.replaceAll('|', '\\|')];
    return `| ${cells.join(' | ')} |`;
  });
  return [
    '# Configuration',
    '',
    'Every setting of `synkti agent` is one key of a single zod schema (`agent/src/config/keys.ts`).',
    'It can be given three ways; later ones win: a JSON file (`--config FILE` or `SYNKTI_CONFIG`, keys as in the first column),',
    'then environment variables, then command-line flags. Lists take comma-separated values in flags and environment,',
    'and JSON arrays in the file. A bad value stops the agent with one line naming the key, its flag and its variable.',
    '',
    'This file is generated: `node agent/dist/cli.js config-docs > docs/configuration.md` (a test fails when it is stale).',
    '',
    '| key | flag | environment | default | meaning |',
    '|---|---|---|---|---|',
    ...rows,
    '',
  ].join('\n');
}
