import { TTFT_BUCKETS_S } from './constants.js';

/** The instantaneous load the exposition reports next to the counters. */
export interface Gauges {
  running: number;
  waiting: number;
  /** 0..1 */
  kvCacheUsage: number;
}

/**
 * The counters and the time-to-first-token histogram, rendered in the Prometheus text format
 * with vLLM's metric names and labels (`engine`, `model_name`), so a scraper written against
 * real vLLM reads the fake unchanged.
 */
export class Metrics {
  promptTokens = 0;
  generationTokens = 0;
  /** Prompt tokens looked up in the prefix cache, and those found there (see PrefixCache). */
  prefixCacheQueries = 0;
  prefixCacheHits = 0;
  /** Stays 0: the scheduler never preempts (see Scheduler). Exposed because scrapers read it. */
  readonly preemptions = 0;
  readonly #ttftBuckets: number[] = TTFT_BUCKETS_S.map(() => 0);
  #ttftSumS = 0;
  #ttftCount = 0;

  observeTtft(seconds: number): void {
    this.#ttftSumS += seconds;
    this.#ttftCount++;
    TTFT_BUCKETS_S.forEach((le, i) => {
      if (seconds <= le) this.#ttftBuckets[i] = (this.#ttftBuckets[i] ?? 0) + 1;
    });
  }

  render(modelName: string, gauges: Gauges): string {
    const labels = `engine="0",model_name="${escapeLabel(modelName)}"`;
    const out: string[] = [];
    const metric = (name: string, type: string, help: string, value: number): void => {
      out.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`, `${name}{${labels}} ${formatValue(value)}`);
    };
    metric('vllm:num_requests_running', 'gauge', 'Number of requests in model execution batches.', gauges.running);
    metric('vllm:num_requests_waiting', 'gauge', 'Number of requests waiting to be processed.', gauges.waiting);
    metric('vllm:kv_cache_usage_perc', 'gauge', 'KV-cache usage. 1 means 100 percent usage.', gauges.kvCacheUsage);
    metric('vllm:prompt_tokens_total', 'counter', 'Number of prefill tokens processed.', this.promptTokens);
    metric('vllm:generation_tokens_total', 'counter', 'Number of generation tokens processed.', this.generationTokens);
    metric('vllm:num_preemptions_total', 'counter', 'Cumulative number of preemption from the engine.', this.preemptions);
    metric(
      'vllm:prefix_cache_queries_total',
      'counter',
      'Prefix cache queries, in terms of number of queried tokens.',
      this.prefixCacheQueries,
    );
    metric('vllm:prefix_cache_hits_total', 'counter', 'Prefix cache hits, in terms of number of cached tokens.', this.prefixCacheHits);
    const ttft = 'vllm:time_to_first_token_seconds';
    out.push(`# HELP ${ttft} Histogram of time to first token in seconds.`, `# TYPE ${ttft} histogram`);
    TTFT_BUCKETS_S.forEach((le, i) => {
      out.push(`${ttft}_bucket{${labels},le="${formatValue(le)}"} ${formatValue(this.#ttftBuckets[i] ?? 0)}`);
    });
    out.push(`${ttft}_bucket{${labels},le="+Inf"} ${formatValue(this.#ttftCount)}`);
    out.push(`${ttft}_count{${labels}} ${formatValue(this.#ttftCount)}`);
    out.push(`${ttft}_sum{${labels}} ${formatValue(this.#ttftSumS)}`);
    return `${out.join('\n')}\n`;
  }
}

/** Python's float repr, as prometheus_client prints it: integers keep a `.0`. */
function formatValue(value: number): string {
  return Number.isInteger(value) ? value.toFixed(1) : String(value);
}

function escapeLabel(value: string): string {
  return value.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
}
