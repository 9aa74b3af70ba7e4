import { SynktiError } from '@synkti/interface';

/** Codes of errors the fake engine throws to its library user. */
export type FakeVllmErrorCode = 'INVALID_OPTIONS' | 'INVALID_FAULTS' | 'LISTEN_FAILED' | 'CRASHED';

/** An error of the fake engine itself (bad options, a port in use, an injected crash). */
export class FakeVllmError extends SynktiError {
  declare readonly code: FakeVllmErrorCode;

  constructor(code: FakeVllmErrorCode, message: string, options?: { cause?: unknown }) {
    super(code, message, options);
  }
}

/** vLLM's error types, by the HTTP status they go with. */
export type OpenAiErrorType =
  | 'BadRequestError'
  | 'NotFoundError'
  | 'InternalServerError'
  | 'ServiceUnavailableError'
  | 'RequestEntityTooLargeError';

/**
 * An error answered to an HTTP client in vLLM's shape. Thrown by handlers and turned into a
 * response by the app's error handler, so handlers read straight through.
 */
export class HttpError extends SynktiError {
  readonly status: 400 | 404 | 413 | 500 | 503;
  readonly type: OpenAiErrorType;

  constructor(status: HttpError['status'], type: OpenAiErrorType, message: string, options?: { cause?: unknown }) {
    super(`HTTP_${status}`, message, options);
    this.status = status;
    this.type = type;
  }
}

export const badRequest = (message: string): HttpError => new HttpError(400, 'BadRequestError', message);

/**
 * vLLM's current error body: `{ error: { message, type, param, code } }`. The official
 * `openai` client reads `body.error` to fill `.message`, `.type` and `.code` (older vLLM put
 * the fields at the top level with `object: "error"`, which the client only stringifies).
 */
export function errorBody(err: HttpError): { error: { message: string; type: string; param: null; code: number } } {
  return { error: { message: err.message, type: err.type, param: null, code: err.status } };
}

/** vLLM's words when its EngineCore process has died (EngineDeadError), verbatim. */
export const ENGINE_DEAD_MESSAGE = 'EngineCore encountered an issue. See stack trace (above) for the root cause.';

export const engineDeadError = (): HttpError => new HttpError(500, 'InternalServerError', ENGINE_DEAD_MESSAGE);

/**
 * The SSE error event vLLM writes into a stream before `[DONE]`. vLLM builds it with Python's
 * json.dumps, so the separators are `, ` and `: ` — byte-compatible with what a client sees.
 */
export function streamErrorEvent(err: HttpError): string {
  return `data: ${pythonJson(errorBody(err))}\n\n`;
}

function pythonJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(pythonJson).join(', ')}]`;
  if (value !== null && typeof value === 'object') {
    const fields = Object.entries(value).map(([k, v]) => `${JSON.stringify(k)}: ${pythonJson(v)}`);
    return `{${fields.join(', ')}}`;
  }
  return JSON.stringify(value);
}
