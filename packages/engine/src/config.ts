import { homedir } from 'node:os';
import { isAbsolute, join } from 'node:path';
import { z } from 'zod';
import {
  CONTAINER_NAME_PREFIX,
  CRASH_LOOP_FAILURES,
  CRASH_LOOP_WINDOW_MS,
  DEFAULT_CAPACITY,
  DEFAULT_PULL_POLICY,
  DEFAULT_DOCKER_IMAGE,
  DEFAULT_LLAMA_SERVER,
  DEFAULT_VLLM_COMMAND,
  DEFAULT_PASS_ENV,
  DRAIN_TIMEOUT_MS,
  HEALTH_INTERVAL_MS,
  LLAMA_CONTEXT_PER_SLOT_TOKENS,
  LLAMA_DEFAULT_CAPACITY,
  PROBE_TIMEOUT_MS,
  PULL_POLICIES,
  PULL_TIMEOUT_MS,
  READINESS_INTERVAL_MS,
  RESTART_BACKOFF_INITIAL_MS,
  RESTART_BACKOFF_MAX_MS,
  RESTART_JITTER_RATIO,
  STABLE_AFTER_MS,
  STALL_TIMEOUT_MS,
  STARTUP_BUDGET_MS,
  STOP_GRACE_MS,
  UNHEALTHY_THRESHOLD,
  WARMUP_TIMEOUT_MS,
} from './constants.js';
import type { PullPolicy } from './constants.js';
import { ENGINE_KINDS, llamaServerArgv } from './engine-kind.js';
import { EngineConfigError } from './errors.js';
import { intFlag, isVllmCommandLine, stopGraceFor, vllmServeArgv, withMaxNumSeqs } from './vllm-args.js';

const ms = z.number().int().min(0);
const positiveMs = z.number().int().min(1);
const arg = z.string().max(4_096);

export const restartConfigSchema = z.object({
  initialBackoffMs: positiveMs.default(RESTART_BACKOFF_INITIAL_MS),
  maxBackoffMs: positiveMs.default(RESTART_BACKOFF_MAX_MS),
  jitterRatio: z.number().min(0).max(1).default(RESTART_JITTER_RATIO),
  crashLoopFailures: z.number().int().min(1).max(32).default(CRASH_LOOP_FAILURES),
  crashLoopWindowMs: positiveMs.default(CRASH_LOOP_WINDOW_MS),
  stableAfterMs: ms.default(STABLE_AFTER_MS),
});

export const dockerRuntimeConfigSchema = z.object({
  kind: z.literal('docker'),
  /** Defaults to the pinned vLLM image; a llama.cpp engine must name its (pinned) server image. */
  image: z.string().min(1).optional(),
  dockerPath: z.string().min(1).default('docker'),
  /** Defaults to `synkti-engine-<port>`: stable across agent restarts on one host. */
  containerName: z
    .string()
    .regex(/^[a-zA-Z0-9][a-zA-Z0-9_.-]{0,127}$/)
    .optional(),
  /** Host directory mounted as the Hugging Face cache; defaults to ~/.cache/huggingface. */
  hfCacheDir: z.string().min(1).optional(),
  passEnv: z.array(z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/)).max(64).default([...DEFAULT_PASS_ENV]),
  gpus: z.string().min(1).nullable().default('all'),
  rm: z.boolean().default(true),
  /** When to `docker pull` (see PULL_POLICIES); defaults to if-missing. */
  pullPolicy: z.enum(PULL_POLICIES).optional(),
  /** Older spelling: true is `always`, false is `never`. */
  pull: z.boolean().optional(),
  pullTimeoutMs: positiveMs.default(PULL_TIMEOUT_MS),
  dockerArgs: z.array(arg).max(256).default([]),
});

export const processRuntimeConfigSchema = z.object({
  kind: z.literal('process'),
  /**
   * The full command line of an OpenAI-compatible server listening on `port`, run as given
   * (a vLLM command line gets `--max-num-seqs` = capacity when it does not set it). Without it
   * the command line is built from the config: `command` + model, port, capacity…
   */
  argv: z.array(arg).min(1).max(1_024).optional(),
  /**
   * Without `argv`: the program the built command line starts with (and any prefix); defaults
   * to `vllm serve` for vLLM and `llama-server` for llama.cpp, found on PATH.
   */
  command: z.array(arg).min(1).max(64).optional(),
  env: z.record(z.string(), z.string()).optional(),
  cwd: z.string().optional(),
  /** The agent's state directory: the engine's record and log live there, so a restarted agent adopts it. */
  stateDir: z.string().min(1).optional(),
});

export const engineConfigSchema = z.object({
  /** The engine: vLLM (default) or llama.cpp's llama-server; decides its command line and metric names. */
  kind: z.enum(ENGINE_KINDS).default('vllm'),
  /** The model to load, e.g. `Qwen/Qwen3-0.6B`; for llama.cpp the path of a GGUF file. */
  model: z.string().min(1).max(256),
  /** The name clients ask for and /v1/models must list; defaults to `model`. */
  servedModelName: z.string().min(1).max(256).optional(),
  /** Host port of the engine on 127.0.0.1. */
  port: z.number().int().min(1).max(65_535),
  /**
   * Concurrent sequences the engine runs (vLLM's max-num-seqs, llama.cpp's `--parallel` slots),
   * gossiped as capacity. Defaults to 256 (vLLM's default) or 4 (llama.cpp's automatic slots).
   */
  capacity: z.number().int().min(1).max(1_000_000).optional(),
  /** llama.cpp: context tokens per slot; the server gets `--ctx-size` = capacity × this. */
  contextPerSlot: z.number().int().min(64).max(1_048_576).default(LLAMA_CONTEXT_PER_SLOT_TOKENS),
  /** Extra engine arguments appended after the model (docker runtime; llama.cpp's built command line). */
  engineArgs: z.array(arg).max(256).default([]),
  startupBudgetMs: positiveMs.default(STARTUP_BUDGET_MS),
  readinessIntervalMs: positiveMs.default(READINESS_INTERVAL_MS),
  healthIntervalMs: positiveMs.default(HEALTH_INTERVAL_MS),
  probeTimeoutMs: positiveMs.default(PROBE_TIMEOUT_MS),
  unhealthyThreshold: z.number().int().min(1).max(100).default(UNHEALTHY_THRESHOLD),
  /** No progress for this long while requests run or wait means hung (0: never judged). */
  stallTimeoutMs: ms.default(STALL_TIMEOUT_MS),
  /** Send one tiny completion before declaring warm (compiles kernels, fills caches). */
  warmup: z.boolean().default(false),
  warmupTimeoutMs: positiveMs.default(WARMUP_TIMEOUT_MS),
  stopGraceMs: ms.default(STOP_GRACE_MS),
  drainTimeoutMs: ms.default(DRAIN_TIMEOUT_MS),
  restart: restartConfigSchema.prefault({}),
  runtime: z.discriminatedUnion('kind', [dockerRuntimeConfigSchema, processRuntimeConfigSchema]),
});

export type EngineConfigInput = z.input<typeof engineConfigSchema>;
type Parsed = z.output<typeof engineConfigSchema>;
type DockerParsed = z.output<typeof dockerRuntimeConfigSchema>;
type ProcessParsed = z.output<typeof processRuntimeConfigSchema>;

/** The validated config with every derived default filled in. */
export type EngineConfig = Omit<Parsed, 'servedModelName' | 'capacity' | 'runtime'> & {
  servedModelName: string;
  capacity: number;
  runtime: (Omit<DockerParsed, 'pull' | 'pullPolicy' | 'image'> & { image: string; containerName: string; hfCacheDir: string; pullPolicy: PullPolicy }) | (ProcessParsed & { argv: string[] });
};

/** Validates engine options and fills defaults; throws EngineConfigError listing the problems. */
export function parseEngineConfig(input: unknown): EngineConfig {
  const result = engineConfigSchema.safeParse(input);
  if (!result.success) {
    const detail = result.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ');
    throw new EngineConfigError(`invalid engine config: ${detail}`, { cause: result.error });
  }
  const c = result.data;
  const servedModelName = c.servedModelName ?? c.model;
  const capacity = capacityOf(c);
  if (c.runtime.kind === 'docker') return withDockerRuntime(c, c.runtime, servedModelName, capacity);
  const argv = c.runtime.argv === undefined ? builtArgv(c, c.runtime.command, servedModelName, capacity) : c.kind === 'vllm' && isVllmCommandLine(c.runtime.argv) ? withMaxNumSeqs(c.runtime.argv, capacity) : c.runtime.argv;
  const stopGraceMs = c.kind === 'vllm' ? stopGraceFor(argv, c.stopGraceMs) : c.stopGraceMs;
  return { ...c, servedModelName, capacity, stopGraceMs, runtime: { ...c.runtime, argv } };
}

/** The process runtime's command line when none is given: `vllm serve MODEL …` or `llama-server …`. */
function builtArgv(c: Parsed, command: readonly string[] | undefined, servedModelName: string, capacity: number): string[] {
  if (c.kind === 'llama.cpp') return llamaServerArgv({ command: command ?? [DEFAULT_LLAMA_SERVER], model: c.model, servedModelName, port: c.port, capacity, contextPerSlot: c.contextPerSlot, engineArgs: c.engineArgs });
  return vllmServeArgv({ command: command ?? DEFAULT_VLLM_COMMAND, model: c.model, servedModelName, port: c.port, capacity, engineArgs: c.engineArgs });
}

/**
 * The docker runtime: vLLM's image (`--model`, `--served-model-name`, `--max-num-seqs`) or a
 * llama.cpp server image (the agent's llama-server flags, the GGUF's directory mounted).
 */
function withDockerRuntime(c: Parsed, r: DockerParsed, servedModelName: string, capacity: number): EngineConfig {
  if (c.kind === 'llama.cpp' && r.image === undefined) {
    throw new EngineConfigError('invalid engine config: runtime.image: required for a llama.cpp engine under docker: a pinned llama.cpp server image, e.g. ghcr.io/ggml-org/llama.cpp:server-cuda-b<build>');
  }
  // Its directory is mounted into the container: a relative path would name a docker volume.
  if (c.kind === 'llama.cpp' && !isAbsolute(c.model)) {
    throw new EngineConfigError(`invalid engine config: model: a llama.cpp engine under docker needs the GGUF file's absolute path on the host, not ${c.model}`);
  }
  const { pull, pullPolicy, ...rest } = r;
  const runtime = {
    ...rest,
    image: r.image ?? DEFAULT_DOCKER_IMAGE,
    pullPolicy: pullPolicy ?? (pull === undefined ? DEFAULT_PULL_POLICY : pull ? 'always' : 'never'),
    containerName: r.containerName ?? `${CONTAINER_NAME_PREFIX}${c.port}`,
    hfCacheDir: r.hfCacheDir ?? join(homedir(), '.cache', 'huggingface'),
  } as const;
  if (c.kind === 'llama.cpp') return { ...c, servedModelName, capacity, runtime };
  const engineArgs = withMaxNumSeqs(c.engineArgs, capacity);
  return { ...c, servedModelName, capacity, engineArgs, stopGraceMs: stopGraceFor(engineArgs, c.stopGraceMs), runtime };
}

/**
 * The capacity the agent gossips. For vLLM a `--max-num-seqs` in the engine arguments (or the
 * process command line) is the truth; a configured capacity that disagrees is refused, since
 * the fleet would route for one figure while the engine runs another.
 */
function capacityOf(c: Parsed): number {
  if (c.kind === 'llama.cpp') return c.capacity ?? LLAMA_DEFAULT_CAPACITY;
  const args = c.runtime.kind === 'process' && c.runtime.argv !== undefined ? c.runtime.argv : c.engineArgs;
  const fromArgs = intFlag(args, '--max-num-seqs');
  if (fromArgs === 'invalid') throw new EngineConfigError('invalid engine config: --max-num-seqs in the engine arguments must be a positive whole number');
  if (fromArgs !== undefined && c.capacity !== undefined && fromArgs !== c.capacity) {
    throw new EngineConfigError(`invalid engine config: capacity ${c.capacity} disagrees with --max-num-seqs ${fromArgs} in the engine arguments (set one of them)`);
  }
  return fromArgs ?? c.capacity ?? DEFAULT_CAPACITY;
}
