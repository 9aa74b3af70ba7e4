import type { Logger } from '@synkti/interface';
import type { EngineConfig } from './config.js';
import { counterMetricsOf, loadMetricsOf } from './engine-kind.js';
import type { EngineMetrics } from './load.js';
import { engineVersion, type FetchFn, listModels, type ProbeResult, probeHealth, scrapeMetrics, warmupCompletion } from './probe.js';

export interface Probes {
  /** True once /health is 200, /v1/models lists the model and the optional warm-up answered. */
  ready(signal: AbortSignal): Promise<boolean>;
  health(signal: AbortSignal): Promise<ProbeResult>;
  /** Load and counters from /metrics; unknowns when it cannot be read. */
  metrics(signal: AbortSignal): Promise<EngineMetrics>;
  /** The engine's version from /version; null where it has none (llama.cpp, older servers). */
  version(signal: AbortSignal): Promise<string | null>;
}

/**
 * The engine's probes bound to its base URL and config. Connection refused and 503 while
 * loading are "not ready yet", never an error: the start-up budget decides when to give up.
 */
export function engineProbes(config: EngineConfig, baseUrl: string, fetchFn: FetchFn, logger: Logger): Probes {
  const timeout = config.probeTimeoutMs;
  const metricNames = { load: loadMetricsOf(config.kind), counters: counterMetricsOf(config.kind) };
  return {
    async ready(signal) {
      const health = await probeHealth(fetchFn, baseUrl, timeout, signal);
      if (!health.ok) return false;
      const models = await listModels(fetchFn, baseUrl, timeout, signal);
      if (models === null || !models.includes(config.servedModelName)) {
        logger.debug({ models, want: config.servedModelName }, 'model not listed yet');
        return false;
      }
      if (!config.warmup) return true;
      const ok = await warmupCompletion(fetchFn, baseUrl, config.servedModelName, config.warmupTimeoutMs, signal);
      if (!ok) logger.warn({}, 'warm-up completion failed; still loading');
      return ok;
    },
    health: (signal) => probeHealth(fetchFn, baseUrl, timeout, signal),
    metrics: (signal) => scrapeMetrics(fetchFn, baseUrl, timeout, signal, metricNames),
    version: (signal) => engineVersion(fetchFn, baseUrl, timeout, signal),
  };
}
