import { withDeadline } from '@synkti/interface';
import { MAX_METRICS_BYTES, MAX_VERSION_CHARS } from './constants.js';
import type { CounterMetricNames, LoadMetricNames } from './engine-kind.js';
import { type EngineLoad, type EngineMetrics, metricsFromText, UNKNOWN_METRICS } from './load.js';

/** The slice of `fetch` the probes use, injectable for tests. */
export type FetchFn = (input: string, init?: RequestInit) => Promise<Response>;

export type ProbeResult = { ok: true } | { ok: false; timedOut: boolean; reason: string };

const isTimeout = (err: unknown): boolean => err instanceof Error && err.name === 'TimeoutError';

function describe(err: unknown): string {
  const cause = err instanceof Error ? (err.cause as { code?: string } | undefined) : undefined;
  if (cause?.code !== undefined) return cause.code; // ECONNREFUSED while vLLM loads
  return err instanceof Error ? err.message : String(err);
}

/** GET /health: ok on 200; refused, non-200 and timeouts are reported, never thrown. */
export async function probeHealth(fetchFn: FetchFn, baseUrl: string, timeoutMs: number, parent?: AbortSignal): Promise<ProbeResult> {
  try {
    return await withDeadline(timeoutMs, parent, async (signal) => {
      const res = await fetchFn(`${baseUrl}/health`, { signal });
      await res.arrayBuffer();
      return res.status === 200 ? { ok: true } : { ok: false, timedOut: false, reason: `health status ${res.status}` };
    });
  } catch (err) {
    return { ok: false, timedOut: isTimeout(err), reason: isTimeout(err) ? 'health probe timed out' : describe(err) };
  }
}

/** GET /v1/models: the listed model ids, or null when the answer is missing or malformed. */
export async function listModels(fetchFn: FetchFn, baseUrl: string, timeoutMs: number, parent?: AbortSignal): Promise<string[] | null> {
  try {
    return await withDeadline(timeoutMs, parent, async (signal) => {
      const res = await fetchFn(`${baseUrl}/v1/models`, { signal });
      const body = (await res.json()) as { data?: Array<{ id?: unknown }> };
      if (res.status !== 200 || !Array.isArray(body.data)) return null;
      return body.data.map((m) => m.id).filter((id): id is string => typeof id === 'string');
    });
  } catch {
    return null;
  }
}

/** GET /metrics into load and counters; anything wrong (status, size, syntax, timeout) gives unknowns. */
export async function scrapeMetrics(
  fetchFn: FetchFn,
  baseUrl: string,
  timeoutMs: number,
  parent?: AbortSignal,
  names: { load?: LoadMetricNames; counters?: CounterMetricNames } = {},
): Promise<EngineMetrics> {
  try {
    return await withDeadline(timeoutMs, parent, async (signal) => {
      const res = await fetchFn(`${baseUrl}/metrics`, { signal });
      const text = await res.text();
      if (res.status !== 200 || text.length > MAX_METRICS_BYTES) return UNKNOWN_METRICS;
      return metricsFromText(text, names);
    });
  } catch {
    return UNKNOWN_METRICS;
  }
}

/** GET /metrics into load only. */
export async function scrapeLoad(fetchFn: FetchFn, baseUrl: string, timeoutMs: number, parent?: AbortSignal, names?: LoadMetricNames): Promise<EngineLoad> {
  return (await scrapeMetrics(fetchFn, baseUrl, timeoutMs, parent, { load: names })).load;
}

/** GET /version (vLLM: `{"version": "0.11.0"}`): the engine's version, or null where it has none. */
export async function engineVersion(fetchFn: FetchFn, baseUrl: string, timeoutMs: number, parent?: AbortSignal): Promise<string | null> {
  try {
    return await withDeadline(timeoutMs, parent, async (signal) => {
      const res = await fetchFn(`${baseUrl}/version`, { signal });
      if (res.status !== 200) {
        await res.arrayBuffer();
        return null;
      }
      const body = (await res.json()) as { version?: unknown };
      return typeof body.version === 'string' && body.version.length > 0 ? body.version.slice(0, MAX_VERSION_CHARS) : null;
    });
  } catch {
    return null;
  }
}

/**
 * One tiny completion on /v1/completions; true when the engine answered 200. Not a chat
 * request: a base model without a chat template answers chat with 400 and would never be warm.
 */
export async function warmupCompletion(
  fetchFn: FetchFn,
  baseUrl: string,
  model: string,
  timeoutMs: number,
  parent?: AbortSignal,
): Promise<boolean> {
  try {
    return await withDeadline(timeoutMs, parent, async (signal) => {
      const res = await fetchFn(`${baseUrl}/v1/completions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ model, prompt: 'hi', max_tokens: 1 }),
        signal,
      });
      await res.arrayBuffer();
      return res.status === 200;
    });
  } catch {
    return false;
  }
}
