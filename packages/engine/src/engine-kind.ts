import { ENGINE_HOST } from './constants.js';

/**
 * Which engine the supervisor runs. The kind decides what the runtime cannot know on its own:
 * the command line (for a process runtime without an explicit argv) and the names of the load
 * metrics. Readiness is the same for both: `/health` 200 and `/v1/models` listing the served name.
 * While loading, llama-server answers 503; vLLM refuses connections until it listens (behind
 * docker's port proxy, the connection is accepted and closed unanswered): all mean "loading".
 */
export const ENGINE_KINDS = ['vllm', 'llama.cpp'] as const;
export type EngineKind = (typeof ENGINE_KINDS)[number];

/** Metric names the load is read from; null where the engine has no such metric. */
export interface LoadMetricNames {
  running: string;
  waiting: string;
  /** Fractions of KV-cache in use, tried in order (a newer name first). */
  kvCacheUsage: readonly string[];
}

/** Counters read beside the load; each is the sum of the named series present (null if none). */
export interface CounterMetricNames {
  /** Moves while the engine computes: a flat value while requests run means it is stuck. */
  progress: readonly string[];
  preemptions: readonly string[];
  /** Prompt tokens looked up in the prefix cache, and those found there. */
  prefixCacheQueries: readonly string[];
  prefixCacheHits: readonly string[];
}

/**
 * vLLM counts prompt and generated tokens per engine step (V1's iteration stats), so their sum
 * moves within a step of any work, prefill included.
 */
export const VLLM_COUNTER_METRICS: CounterMetricNames = {
  progress: ['vllm:generation_tokens_total', 'vllm:prompt_tokens_total'],
  preemptions: ['vllm:num_preemptions_total'],
  prefixCacheQueries: ['vllm:prefix_cache_queries_total'],
  prefixCacheHits: ['vllm:prefix_cache_hits_total'],
};

/**
 * llama-server adds to its token counters only when a request ends; `n_decode_total` counts
 * every decode call, so it is the one that moves while a long request runs. Its prompt tokens
 * are split into computed and reused-from-cache; their sum is what was looked up.
 */
export const LLAMA_CPP_COUNTER_METRICS: CounterMetricNames = {
  progress: ['llamacpp:n_decode_total'],
  preemptions: [],
  prefixCacheQueries: ['llamacpp:prompt_tokens_total', 'llamacpp:prompt_tokens_cached_total'],
  prefixCacheHits: ['llamacpp:prompt_tokens_cached_total'],
};

export const VLLM_LOAD_METRICS: LoadMetricNames = {
  running: 'vllm:num_requests_running',
  waiting: 'vllm:num_requests_waiting',
  // vLLM ≥ 0.10 (V1 engine), then the older name deprecated in 0.10.
  kvCacheUsage: ['vllm:kv_cache_usage_perc', 'vllm:gpu_cache_usage_perc'],
};

/**
 * llama-server with `--metrics`: busy slots are the running requests, tasks waiting for a free
 * slot the waiting ones. KV-cache usage was `llamacpp:kv_cache_usage_ratio` in older builds;
 * current ones (node-llama-cpp 3.22's) do not expose it, so it stays unknown there.
 */
export const LLAMA_CPP_LOAD_METRICS: LoadMetricNames = {
  running: 'llamacpp:requests_processing',
  waiting: 'llamacpp:requests_deferred',
  kvCacheUsage: ['llamacpp:kv_cache_usage_ratio'],
};

export const loadMetricsOf = (kind: EngineKind): LoadMetricNames => (kind === 'llama.cpp' ? LLAMA_CPP_LOAD_METRICS : VLLM_LOAD_METRICS);
export const counterMetricsOf = (kind: EngineKind): CounterMetricNames => (kind === 'llama.cpp' ? LLAMA_CPP_COUNTER_METRICS : VLLM_COUNTER_METRICS);

export interface LlamaServerSpec {
  /** The program (and any prefix such as `taskset -c 0`), e.g. ['/opt/llama/bin/llama-server']. */
  command: readonly string[];
  /** Path of the GGUF file. */
  model: string;
  /** The id clients ask for and /v1/models lists (`--alias`). */
  servedModelName: string;
  port: number;
  /** Listening address: loopback for a process, all interfaces inside a container. */
  host?: string;
  /** Slots (`--parallel`): requests decoded at once; more wait (`requests_deferred`). */
  capacity: number;
  /** Context per slot; the server gets `--ctx-size` = capacity × this and splits it evenly. */
  contextPerSlot: number;
  /** Extra llama-server flags, last so they can override ours (e.g. ['--threads', '2']). */
  engineArgs: readonly string[];
}

/**
 * The llama-server command line. `--metrics` turns on the Prometheus endpoint the load is read
 * from; the host is loopback only, as for every engine: the gateway is the front door.
 */
export function llamaServerArgv(spec: LlamaServerSpec): string[] {
  return [
    ...spec.command,
    '--model', spec.model,
    '--alias', spec.servedModelName,
    '--host', spec.host ?? ENGINE_HOST,
    '--port', String(spec.port),
    '--parallel', String(spec.capacity),
    '--ctx-size', String(spec.capacity * spec.contextPerSlot),
    '--metrics',
    ...spec.engineArgs,
  ];
}
