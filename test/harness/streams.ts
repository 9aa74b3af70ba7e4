import { createFakeVllm, type FakeVllm } from '@synkti/fake-vllm';
import OpenAI from 'openai';
import { type AgentProcess, signalGroup } from './agent-process.js';

export const MODEL = 'synkti/fake-model';

/** What a client saw of one streamed completion, read with the official openai client. */
export interface StreamResult {
  text: string;
  /** Chunks that carried content: one token each from the engine. */
  contentChunks: number;
  finishReasons: string[];
  roles: number;
  ids: Set<string>;
  usage: { prompt_tokens: number; completion_tokens: number } | null;
  error: Error | null;
  /** The peer that answered the first attempt (x-synkti-peer). */
  firstPeer: string | null;
  /** The request id the entry agent logged it under (x-request-id). */
  requestId: string | null;
  /** The raw body ended with `data: [DONE]` (the openai client ends quietly without it, so it is read off the wire). */
  sawDone: boolean;
  /** The raw body carried an SSE error event (`data: {"error": …}`). */
  sawErrorEvent: boolean;
}

/** How much of a body's end is kept to look for `[DONE]`. */
const TAIL_BYTES = 64;

/**
 * A fetch for the openai client that also reads the raw SSE bytes to their end: whether an
 * error event came and whether the body ended with `[DONE]`. The SDK stops reading (and aborts
 * its request) at an error event, so the watcher reads its own copy of the body, on a
 * connection the SDK's abort does not cut (bounded by `timeoutMs` instead): a server that sent
 * `[DONE]` after an error event is seen doing so.
 */
function watchingFetch(result: StreamResult, timeoutMs: number, watching: Promise<void>[]): typeof fetch {
  return async (input, init) => {
    const response = await fetch(input, { ...init, signal: AbortSignal.timeout(timeoutMs) });
    if (response.body === null) return response;
    const [forClient, forWatcher] = response.body.tee();
    watching.push(watchBody(forWatcher, result));
    return new Response(forClient, { status: response.status, statusText: response.statusText, headers: response.headers });
  };
}

async function watchBody(body: ReadableStream<Uint8Array>, result: StreamResult): Promise<void> {
  const decoder = new TextDecoder();
  let tail = '';
  try {
    for await (const chunk of body as unknown as AsyncIterable<Uint8Array>) {
      const text = tail + decoder.decode(chunk, { stream: true });
      if (/(^|\n)data:\s*\{\s*"error"\s*:/.test(text)) result.sawErrorEvent = true;
      tail = text.slice(-TAIL_BYTES);
    }
  } catch {
    // An aborted connection: what arrived before it is what the client got.
  }
  result.sawDone = /data: \[DONE\]\s*$/.test(tail);
}

export type StreamKind = 'chat' | 'text';

export interface StreamOptions {
  /** The client's own timeout for the whole request (default 120 s). */
  timeoutMs?: number;
  /** Called with the serving peer (x-synkti-peer) once the head arrived. */
  onHead?: (peer: string | null) => void;
}

/** Streams one completion through `baseUrl`; never throws: a raised error is in `error`. */
export async function streamCompletion(baseUrl: string, kind: StreamKind, params: Record<string, unknown>, onChunk?: (contentChunks: number) => void, options: StreamOptions = {}): Promise<StreamResult> {
  const result: StreamResult = { text: '', contentChunks: 0, finishReasons: [], roles: 0, ids: new Set(), usage: null, error: null, firstPeer: null, requestId: null, sawDone: false, sawErrorEvent: false };
  const timeoutMs = options.timeoutMs ?? 120_000;
  const watching: Promise<void>[] = [];
  const client = new OpenAI({ baseURL: `${baseUrl}/v1`, apiKey: 'unused', maxRetries: 0, timeout: timeoutMs, fetch: watchingFetch(result, timeoutMs, watching) });
  try {
    const body = { ...params, stream: true } as never;
    const request = kind === 'chat' ? client.chat.completions.create(body) : client.completions.create(body);
    const { data: stream, response } = await (request as unknown as { withResponse(): Promise<{ data: AsyncIterable<Record<string, unknown>>; response: Response }> }).withResponse();
    result.firstPeer = response.headers.get('x-synkti-peer');
    result.requestId = response.headers.get('x-request-id');
    options.onHead?.(result.firstPeer);
    for await (const chunk of stream) {
      result.ids.add(chunk['id'] as string);
      if (chunk['usage'] !== undefined && chunk['usage'] !== null) result.usage = chunk['usage'] as StreamResult['usage'];
      for (const choice of (chunk['choices'] ?? []) as Record<string, unknown>[]) {
        const delta = choice['delta'] as Record<string, unknown> | undefined;
        if (delta?.['role'] !== undefined) result.roles++;
        const text = kind === 'chat' ? delta?.['content'] : choice['text'];
        if (typeof text === 'string' && text !== '') {
          result.text += text;
          result.contentChunks++;
        }
        if (typeof choice['finish_reason'] === 'string') result.finishReasons.push(choice['finish_reason']);
      }
      onChunk?.(result.contentChunks);
    }
  } catch (err) {
    result.error = err as Error;
  }
  await Promise.all(watching);
  return result;
}

/**
 * The agent's engine process id, from the runtime file it keeps in its state directory (written
 * as the engine changes state, so it may lag a start by a moment: polled, up to 10 s).
 */
export async function enginePidOf(agent: AgentProcess): Promise<number> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const pid = await agent.enginePidNow();
    if (pid !== null) return pid;
    if (Date.now() > deadline) throw new Error(`${agent.options.stateDir} runs no engine`);
    await new Promise((r) => setTimeout(r, 50));
  }
}


/** A reclaimed node: its agent and its engine die at once, with no goodbye. */
export async function loseNode(agent: AgentProcess): Promise<void> {
  loseNodeNow(agent, await enginePidOf(agent));
}

/** The same, with the engine's PID looked up beforehand: no await between choosing the victim and the kill. */
export function loseNodeNow(agent: AgentProcess, enginePid: number): void {
  agent.kill('SIGKILL');
  signalGroup(enginePid, 'SIGKILL');
}

/** Waits until `check` holds, polling; fails after `timeoutMs`. */
export async function until(what: string, check: () => boolean, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/**
 * An emulated engine outside the fleet, instant and with the fleet's default seed: what it
 * answers is what an uninterrupted run of the same request gives.
 */
export async function startReferenceEngine(): Promise<FakeVllm> {
  const engine = createFakeVllm({ port: 0, loadMs: 0, ttftMs: 0, tokensPerS: 0 });
  await engine.start();
  return engine;
}

/** The whole text of choice 0 of `params`, asked of the reference engine without streaming. */
export async function referenceText(engine: FakeVllm, kind: StreamKind, params: Record<string, unknown>): Promise<string> {
  const path = kind === 'chat' ? '/v1/chat/completions' : '/v1/completions';
  const res = await fetch(`${engine.address!.url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ ...params, stream: false, stream_options: undefined }) });
  if (!res.ok) throw new Error(`the reference engine answered ${res.status}: ${await res.text()}`);
  const body = (await res.json()) as { choices: { message?: { content: string }; text?: string }[] };
  const choice = body.choices[0]!;
  return kind === 'chat' ? choice.message!.content : choice.text!;
}
