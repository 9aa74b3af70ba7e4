import type { EngineSupervisor } from '@synkti/engine';
import { SynktiError } from '@synkti/interface';
import { FORWARDED_RESPONSE_HEADERS, type ForwardResponse, type RequestHead } from '@synkti/protocol';

/** The local engine could not take a request; `retryable` tells the gateway to try a peer. */
export class LocalEngineError extends SynktiError {
  readonly retryable: boolean;

  constructor(code: string, message: string, retryable: boolean, options?: { cause?: unknown }) {
    super(code, message, options);
    this.retryable = retryable;
  }
}

/**
 * Sends one request to this node's engine over loopback HTTP. The engine counts it in flight
 * (drain waits for it) until the body ends or the caller aborts.
 */
export async function serveOnLocalEngine(engine: EngineSupervisor | undefined, head: RequestHead, body: Uint8Array, signal: AbortSignal, accepting = true): Promise<ForwardResponse> {
  if (engine === undefined) throw new LocalEngineError('NO_ENGINE', 'this agent runs no engine', true);
  if (!accepting) throw new LocalEngineError('NODE_DRAINING', 'this node is draining (spot interruption or surplus)', true);
  let release: () => void;
  try {
    release = engine.beginRequest();
  } catch (err) {
    throw new LocalEngineError('ENGINE_NOT_READY', `engine is ${engine.state()}`, true, { cause: err });
  }
  let response: Response;
  try {
    response = await fetch(`${engine.baseUrl}${head.path}`, {
      method: head.method,
      headers: head.headers,
      ...(body.byteLength > 0 ? { body } : {}),
      signal,
    });
  } catch (err) {
    release();
    throw new LocalEngineError('ENGINE_UNREACHABLE', `engine request failed: ${(err as Error).message}`, !signal.aborted, { cause: err });
  }
  const headers: Record<string, string> = {};
  for (const name of FORWARDED_RESPONSE_HEADERS) {
    const value = response.headers.get(name);
    if (value !== null) headers[name] = value;
  }
  return { status: response.status, headers, body: bodyOf(response, release) };
}

async function* bodyOf(response: Response, release: () => void): AsyncGenerator<Uint8Array> {
  try {
    if (response.body === null) return;
    for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) yield chunk;
  } finally {
    release();
    // Ends the engine request if the consumer stopped early (the client went away).
    await response.body?.cancel().catch(() => undefined);
  }
}
