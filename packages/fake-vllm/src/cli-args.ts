import { parseArgs } from 'node:util';
import { DEFAULT_MODEL } from './constants.js';
import { type FakeVllmOptions, optionsSchema } from './options.js';

/** Flags taking a number, and the option each sets (a dotted path into FakeVllmOptions). */
const NUMERIC_FLAGS = {
  port: 'port',
  'load-ms': 'loadMs',
  'ttft-ms': 'ttftMs',
  'tokens-per-s': 'tokensPerS',
  'max-num-seqs': 'maxNumSeqs',
  'max-tokens-default': 'maxTokensDefault',
  'max-waiting-requests': 'maxWaitingRequests',
  seed: 'seed',
  'error-rate': 'faults.errorRate',
  'crash-after-ms': 'faults.crashAfterMs',
  'hang-after-ms': 'faults.hangAfterMs',
  'stall-after-ms': 'faults.stallAfterMs',
  'health-delay-ms': 'faults.healthDelayMs',
  'health-delay-per-request-ms': 'faults.healthDelayPerRequestMs',
  'drop-stream-after-tokens': 'faults.dropStreamAfterTokens',
  'die-after-ms': 'faults.dieAfterMs',
  'die-after-tokens': 'faults.dieAfterTokens',
  'death-exit-ms': 'faults.deathExitMs',
} as const;

type NumericFlag = keyof typeof NUMERIC_FLAGS;

const FLAG_OF_PATH: Record<string, string> = {
  host: 'host',
  models: 'model',
  loadMode: 'load-mode',
  engineVersion: 'engine-version',
  ...Object.fromEntries(Object.entries(NUMERIC_FLAGS).map(([flag, path]) => [path, flag])),
};

export const USAGE =
  'usage: fake-vllm --port <n> [--host 127.0.0.1] [--model <name>]... [--load-ms <ms>] ' +
  '[--load-mode closed|accept-close|503] [--engine-version <v>] ' +
  '[--ttft-ms <ms>] [--tokens-per-s <n>] [--max-num-seqs <n>] [--max-waiting-requests <n>] [--max-tokens-default <n>] ' +
  '[--error-rate <0..1>] [--crash-after-ms <ms>] [--hang-after-ms <ms>] [--stall-after-ms <ms>] ' +
  '[--health-delay-ms <ms>] [--health-delay-per-request-ms <ms>] [--drop-stream-after-tokens <n>] ' +
  '[--die-after-ms <ms>] [--die-after-tokens <n>] [--death-exit-ms <ms>] [--seed <n>]';

export type CliArgs = { ok: true; help: boolean; options: FakeVllmOptions } | { ok: false; message: string };

/** Reads the CLI flags into validated options, or one readable line saying what is wrong. */
export function parseCliArgs(argv: string[]): CliArgs {
  let values: Record<string, string | string[] | boolean | undefined>;
  try {
    values = parseArgs({
      args: argv,
      strict: true,
      allowPositionals: false,
      options: {
        help: { type: 'boolean', short: 'h' },
        host: { type: 'string' },
        model: { type: 'string', multiple: true },
        'load-mode': { type: 'string' },
        'engine-version': { type: 'string' },
        ...Object.fromEntries(Object.keys(NUMERIC_FLAGS).map((flag) => [flag, { type: 'string' as const }])),
      },
    }).values;
  } catch (err) {
    return { ok: false, message: err instanceof Error ? err.message : String(err) };
  }
  if (values.help === true) return { ok: true, help: true, options: {} };
  if (values.port === undefined) return { ok: false, message: 'missing required flag --port (0 picks a free port)' };

  const input: Record<string, unknown> = { faults: {} };
  for (const flag of Object.keys(NUMERIC_FLAGS) as NumericFlag[]) {
    const raw = values[flag];
    if (typeof raw !== 'string') continue;
    const value = raw.trim() === '' ? Number.NaN : Number(raw);
    if (!Number.isFinite(value)) return { ok: false, message: `--${flag}: expected a number, got '${raw}'` };
    setPath(input, NUMERIC_FLAGS[flag], value);
  }
  if (typeof values.host === 'string') input.host = values.host;
  if (typeof values['load-mode'] === 'string') input.loadMode = values['load-mode'];
  if (typeof values['engine-version'] === 'string') input.engineVersion = values['engine-version'];
  const models = ((values.model as string[] | undefined) ?? [DEFAULT_MODEL]).flatMap((m) => m.split(','));
  input.models = models.map((m) => m.trim()).filter((m) => m !== '');

  const parsed = optionsSchema.safeParse(input);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const path = issue?.path.filter((p) => typeof p === 'string').join('.') ?? '';
    return { ok: false, message: `--${FLAG_OF_PATH[path] ?? path}: ${issue?.message ?? 'invalid value'}` };
  }
  return { ok: true, help: false, options: input as FakeVllmOptions };
}

function setPath(target: Record<string, unknown>, path: string, value: unknown): void {
  const [head, tail] = path.split('.') as [string, string | undefined];
  if (tail === undefined) target[head] = value;
  else (target[head] as Record<string, unknown>)[tail] = value;
}
