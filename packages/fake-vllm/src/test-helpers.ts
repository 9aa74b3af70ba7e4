/** Shared by this package's tests: start-and-always-stop, bounded polling, small clients. */
import OpenAI from 'openai';
import { createFakeVllm, type FakeVllm } from './fake-vllm.js';
import type { FakeVllmOptions } from './options.js';

/** Fast engine settings so a suite runs in seconds. */
export const FAST: FakeVllmOptions = { ttftMs: 2, tokensPerS: 2_000 };

export const MODEL = 'synkti/fake-model';

/** Starts a fake engine and registers its stop with the caller's `after` hook. */
export async function startFake(
  after: (fn: () => Promise<void>) => void,
  options: FakeVllmOptions = {},
): Promise<{ fake: FakeVllm; url: string; port: number }> {
  const fake = createFakeVllm({ ...FAST, ...options });
  after(() => fake.stop());
  const { url, port } = await fake.start();
  return { fake, url, port };
}

export function client(url: string): OpenAI {
  // No retries: a test must see the engine's own answer, not the client's second try.
  return new OpenAI({ baseURL: `${url}/v1`, apiKey: 'x', maxRetries: 0 });
}

/** Polls `probe` until it returns a value other than undefined; fails after `timeoutMs`. */
export async function waitFor<T>(
  probe: () => T | undefined | Promise<T | undefined>,
  what: string,
  timeoutMs = 5_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/** One sample value from a Prometheus text exposition, by metric name (first match). */
export function metricValue(text: string, name: string): number | undefined {
  for (const line of text.split('\n')) {
    if (line.startsWith(`${name}{`) || line.startsWith(`${name} `)) return Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return undefined;
}

export async function scrape(url: string): Promise<string> {
  const res = await fetch(`${url}/metrics`);
  return res.text();
}

export async function postJson(url: string, path: string, body: unknown): Promise<Response> {
  return fetch(`${url}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
}

/** A response body as loosely typed JSON: the assertions that follow are the type check. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- test bodies are checked field by field by assertions
export async function json(res: Response | Promise<Response>): Promise<any> {
  return (await res).json();
}

/** The status of a response whose body is read and dropped (so the connection is reusable). */
export async function statusOf(res: Response | Promise<Response>): Promise<number> {
  const r = await res;
  await r.arrayBuffer();
  return r.status;
}
