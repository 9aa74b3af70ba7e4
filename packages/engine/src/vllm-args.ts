import { SHUTDOWN_GRACE_MARGIN_MS } from './constants.js';

/**
 * What the agent reads from, and adds to, a vLLM command line. vLLM accepts both `--flag value`
 * and `--flag=value`; the last occurrence wins, as with argparse.
 */

/** The value of `--name` in `args` (either spelling), or undefined. */
export function flagValue(args: readonly string[], name: string): string | undefined {
  let value: string | undefined;
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (a === name && i + 1 < args.length) value = args[i + 1];
    else if (a.startsWith(`${name}=`)) value = a.slice(name.length + 1);
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
  return flagValue(args, '--max-num-seqs') === undefined ? [...args, '--max-num-seqs', String(capacity)] : [...args];
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
