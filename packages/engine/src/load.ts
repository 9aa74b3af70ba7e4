import { type CounterMetricNames, type LoadMetricNames, VLLM_COUNTER_METRICS, VLLM_LOAD_METRICS } from './engine-kind.js';
import { parsePrometheusText, type Sample } from './prometheus.js';

/** The engine's own view of its load, as read from its /metrics; null where unknown. */
export interface EngineLoad {
  running: number | null;
  waiting: number | null;
  /** Fraction 0..1 of KV-cache blocks in use. */
  kvCacheUsage: number | null;
}

export const UNKNOWN_LOAD: EngineLoad = Object.freeze({ running: null, waiting: null, kvCacheUsage: null });

export const VLLM_METRICS = {
  running: 'vllm:num_requests_running',
  waiting: 'vllm:num_requests_waiting',
  /** vLLM ≥ 0.10 (V1 engine). */
  kvCacheUsage: 'vllm:kv_cache_usage_perc',
  /** Older vLLM; deprecated in 0.10. */
  gpuCacheUsage: 'vllm:gpu_cache_usage_perc',
} as const;

/** Sum of the finite samples named `name` (across model_name / engine labels); null if none. */
function sum(samples: readonly Sample[], name: string): number | null {
  let total: number | null = null;
  for (const s of samples) if (s.name === name && Number.isFinite(s.value)) total = (total ?? 0) + s.value;
  return total;
}

/** Largest finite sample named `name`: a usage fraction does not add up across engines. */
function max(samples: readonly Sample[], name: string): number | null {
  let best: number | null = null;
  for (const s of samples) if (s.name === name && Number.isFinite(s.value)) best = Math.max(best ?? 0, s.value);
  return best;
}

const count = (n: number | null): number | null => (n === null ? null : Math.max(0, Math.round(n)));
const fraction = (n: number | null): number | null => (n === null ? null : Math.min(1, Math.max(0, n)));

/**
 * Load from parsed samples under the engine's metric names (vLLM's by default): counts summed
 * across labels, KV usage from the first name present.
 */
export function loadFromSamples(samples: readonly Sample[], names: LoadMetricNames = VLLM_LOAD_METRICS): EngineLoad {
  let kv: number | null = null;
  for (const name of names.kvCacheUsage) kv ??= max(samples, name);
  return {
    running: count(sum(samples, names.running)),
    waiting: count(sum(samples, names.waiting)),
    kvCacheUsage: fraction(kv),
  };
}

/** Load from a /metrics body; a body that does not parse gives unknown load, never a throw. */
export function loadFromMetricsText(text: string, names?: LoadMetricNames): EngineLoad {
  try {
    return loadFromSamples(parsePrometheusText(text), names);
  } catch {
    return UNKNOWN_LOAD;
  }
}

/** The engine's counters (monotonic, since it started); null where it has no such metric. */
export interface EngineCounters {
  /** Work done, in the engine's own unit (tokens for vLLM, decode calls for llama.cpp). */
  progress: number | null;
  preemptions: number | null;
  prefixCacheQueries: number | null;
  prefixCacheHits: number | null;
}

export const UNKNOWN_COUNTERS: EngineCounters = Object.freeze({ progress: null, preemptions: null, prefixCacheQueries: null, prefixCacheHits: null });

/** One /metrics scrape: the load that routing reads and the counters that liveness and metrics read. */
export interface EngineMetrics {
  load: EngineLoad;
  counters: EngineCounters;
}

export const UNKNOWN_METRICS: EngineMetrics = Object.freeze({ load: UNKNOWN_LOAD, counters: UNKNOWN_COUNTERS });

/** The sum over every named series present; null when none is. */
function sumOf(samples: readonly Sample[], names: readonly string[]): number | null {
  let total: number | null = null;
  for (const name of names) {
    const v = sum(samples, name);
    if (v !== null) total = (total ?? 0) + v;
  }
  return total === null ? null : Math.max(0, total);
}

export function countersFromSamples(samples: readonly Sample[], names: CounterMetricNames = VLLM_COUNTER_METRICS): EngineCounters {
  return {
    progress: sumOf(samples, names.progress),
    preemptions: sumOf(samples, names.preemptions),
    prefixCacheQueries: sumOf(samples, names.prefixCacheQueries),
    prefixCacheHits: sumOf(samples, names.prefixCacheHits),
  };
}

/** Load and counters from one /metrics body; a body that does not parse gives unknowns, never a throw. */
export function metricsFromText(text: string, names: { load?: LoadMetricNames; counters?: CounterMetricNames } = {}): EngineMetrics {
  try {
    const samples = parsePrometheusText(text);
    return { load: loadFromSamples(samples, names.load), counters: countersFromSamples(samples, names.counters) };
  } catch {
    return UNKNOWN_METRICS;
  }
}
