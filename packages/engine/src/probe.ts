import { MAX_METRICS_BYTES } from './constants.js';
import type { LoadMetricNames } from './engine-kind.js';
import { type EngineLoad, loadFromMetricsText, UNKNOWN_LOAD } from './load.js';

/** The slice of `fetch` the probes use, injectable for tests. */
export type FetchFn = (input: string, init?: RequestInit) => Promise<Response>;

export type ProbeResult = { ok: true } | { ok: false; timedOut: boolean; reason: string };

const isTimeout = (err: unknown): boolean => err instanceof Error && err.name === 'TimeoutError';

function describe(err: unknown): string {
  const cause = err instanceof Error ? (err.cause as { code?: string } | undefined) : undefined;
  if (cause?.code !== undefined) return cause.code; // ECONNREFUSED while vLLM loads
  return err instanceof Error ? err.message : String(err);
}

function signalFor(timeoutMs: number, parent?: AbortSignal): AbortSignal {
  const timeout = AbortSignal.timeout(timeoutMs);
  return parent === undefined ? timeout : AbortSignal.any([parent, timeout]);
}

/** GET /health: ok on 200; refused, non-200 and timeouts are reported, never thrown. */
export async function probeHealth(fetchFn: FetchFn, baseUrl: string, timeoutMs: number, parent?: AbortSignal): Promise<ProbeResult> {
  try {
    const res = await fetchFn(`${baseUrl}/health`, { signal: signalFor(timeoutMs, parent) });
    await res.arrayBuffer();
    return res.status === 200 ? { ok: true } : { ok: false, timedOut: false, reason: `health status ${res.status}` };
  } catch (err) {
    return { ok: false, timedOut: isTimeout(err), reason: isTimeout(err) ? 'health probe timed out' : describe(err) };
  }
}

/** GET /v1/models: the listed model ids, or null when the answer is missing or malformed. */
export async function listModels(fetchFn: FetchFn, baseUrl: string, timeoutMs: number, parent?: AbortSignal): Promise<string[] | null> {
  try {
    const res = await fetchFn(`${baseUrl}/v1/models`, { signal: signalFor(timeoutMs, parent) });
    const body = (await res.json()) as { data?: Array<{ id?: unknown }> };
    if (res.status !== 200 || !Array.isArray(body.data)) return null;
    return body.data.map((m) => m.id).filter((id): id is string => typeof id === 'string');
  } catch {
    return null;
  }
}

/** GET /metrics into load; anything wrong (status, size, syntax, timeout) gives unknown load. */
export async function scrapeLoad(fetchFn: FetchFn, baseUrl: string, timeoutMs: number, parent?: AbortSignal, names?: LoadMetricNames): Promise<EngineLoad> {
  try {
    const res = await fetchFn(`${baseUrl}/metrics`, { signal: signalFor(timeoutMs, parent) });
    const text = await res.text();
    if (res.status !== 200 || text.length > MAX_METRICS_BYTES) return UNKNOWN_LOAD;
    return loadFromMetricsText(text, names);
  } catch {
    return UNKNOWN_LOAD;
  }
}

/** One tiny chat completion; true when the engine answered 200. */
export async function warmupCompletion(
  fetchFn: FetchFn,
  baseUrl: string,
  model: string,
  timeoutMs: number,
  parent?: AbortSignal,
): Promise<boolean> {
  try {
    const res = await fetchFn(`${baseUrl}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model, messages: [{ role: 'user', content: 'hi' }], max_tokens: 1 }),
      signal: signalFor(timeoutMs, parent),
    });
    await res.arrayBuffer();
    return res.status === 200;
  } catch {
    return false;
  }
}
