import { ENGINE_HOST, SHUTDOWN_GRACE_MARGIN_MS } from './constants.js';

/**
 * What the agent reads from, and adds to, a vLLM command line. vLLM accepts both `--flag value`
 * and `--flag=value`; the last occurrence wins, as with argparse.
 */

/**
 * The value of `--name` in `args` (`--name value` or `--name=value`; vLLM's parser also takes
 * underscores for dashes, `--max_num_seqs`), or undefined.
 */
export function flagValue(args: readonly string[], name: string): string | undefined {
  let value: string | undefined;
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    const eq = a.indexOf('=');
    const flag = (eq === -1 ? a : a.slice(0, eq)).replace(/_/g, '-');
    if (flag !== name) continue;
    if (eq !== -1) value = a.slice(eq + 1);
    else if (i + 1 < args.length) value = args[i + 1];
  }
  return value;
}

/** A whole, positive number from `--name`, or undefined when absent; a bad value is the caller's error. */
export function intFlag(args: readonly string[], name: string): number | undefined | 'invalid' {
  const raw = flagValue(args, name);
  if (raw === undefined) return undefined;
  const n = Number(raw);
  return Number.isInteger(n) && n > 0 ? n : 'invalid';
}

/**
 * The engine arguments with `--max-num-seqs` = capacity: the engine then runs exactly as many
 * sequences as the agent gossips (vLLM's own default is 1024 on GPUs with ≥ 70 GiB, 256 below,
 * which the agent cannot know). Arguments that already set it are left as they are.
 */
export function withMaxNumSeqs(args: readonly string[], capacity: number): string[] {
  // A `--config` YAML may set it too, and a flag would silently override the file: leave it be.
  if (flagValue(args, '--max-num-seqs') !== undefined || flagValue(args, '--config') !== undefined) return [...args];
  return [...args, '--max-num-seqs', String(capacity)];
}

/**
 * The stop grace for a vLLM given `args`: at least its own `--shutdown-timeout` (seconds; vLLM
 * 0.18+ lets in-flight requests finish that long on SIGTERM) plus a margin to free the GPU, so
 * `docker stop -t` never cuts a drain the user asked for.
 */
export function stopGraceFor(args: readonly string[], configuredMs: number): number {
  const raw = flagValue(args, '--shutdown-timeout');
  const seconds = raw === undefined ? Number.NaN : Number(raw);
  if (!Number.isFinite(seconds) || seconds <= 0) return configuredMs;
  return Math.max(configuredMs, Math.ceil(seconds * 1000) + SHUTDOWN_GRACE_MARGIN_MS);
}

/**
 * Whether `argv` starts vLLM's OpenAI server (`vllm serve …`, `python -m vllm.entrypoints.cli.main
 * serve …`, or the older `python -m vllm.entrypoints.openai.api_server …`): only then does the agent add vLLM flags to a
 * command line it was given. Any other OpenAI-compatible program runs exactly as given.
 */
export function isVllmCommandLine(argv: readonly string[]): boolean {
  // `vllm serve` anywhere, so wrappers count too: `conda run -n vllm vllm serve …`, `uv run vllm serve …`.
  if (argv.some((a, i) => (a === 'vllm' || a.endsWith('/vllm')) && argv[i + 1] === 'serve')) return true;
  return argv.some((a) => VLLM_SERVER_MODULES.has(a));
}

/** `python -m <module>` forms of vLLM's OpenAI server. */
const VLLM_SERVER_MODULES = new Set(['vllm.entrypoints.openai.api_server', 'vllm.entrypoints.cli.main']);

export interface VllmServeSpec {
  /** The program and its subcommand, e.g. ['vllm', 'serve'] or ['/opt/venv/bin/vllm', 'serve']. */
  command: readonly string[];
  model: string;
  servedModelName: string;
  port: number;
  /** `--max-num-seqs`: the sequences the engine runs at once, gossiped as capacity. */
  capacity: number;
  /** Extra vLLM flags, last so they can override ours. */
  engineArgs: readonly string[];
}

/**
 * The `vllm serve MODEL` command line the agent builds when it is given no command: the model
 * as the positional argument (vLLM deprecates `--model` for `serve`), loopback only (the gateway
 * is the front door), and `--max-num-seqs` = capacity unless the engine arguments set it.
 */
export function vllmServeArgv(spec: VllmServeSpec): string[] {
  const base = [...spec.command, spec.model, '--served-model-name', spec.servedModelName, '--host', ENGINE_HOST, '--port', String(spec.port)];
  return withMaxNumSeqs([...base, ...spec.engineArgs], spec.capacity);
}
