import { SynktiError } from '@synkti/interface';
import type { Context } from 'hono';
import type { ContentfulStatusCode } from 'hono/utils/http-status';

export type OpenAiErrorType = 'invalid_request_error' | 'authentication_error' | 'not_found_error' | 'rate_limit_error' | 'server_error' | 'service_unavailable';

/** A gateway error: its code, HTTP status and OpenAI error type travel together. */
export class GatewayError extends SynktiError {
  readonly status: ContentfulStatusCode;
  readonly type: OpenAiErrorType;
  readonly param: string | null;
  readonly retryAfterS: number | undefined;

  constructor(code: string, status: ContentfulStatusCode, type: OpenAiErrorType, message: string, options: { param?: string; retryAfterS?: number; cause?: unknown } = {}) {
    super(code, message, { cause: options.cause });
    this.status = status;
    this.type = type;
    this.param = options.param ?? null;
    this.retryAfterS = options.retryAfterS;
  }
}

/** This agent is shutting down with the request not yet answered: the client may send it to another agent. */
export const agentLeaving = (why: string, retryAfterS?: number) =>
  new GatewayError('AGENT_LEAVING', 503, 'service_unavailable', `This agent is shutting down (${why}); send the request to another agent.`, retryAfterS !== undefined ? { retryAfterS } : {});

export const badRequest = (code: string, message: string, param?: string) => new GatewayError(code, 400, 'invalid_request_error', message, param !== undefined ? { param } : {});

/** OpenAI's error body: `{ error: { message, type, param, code } }`. */
export function errorResponse(c: Context, err: GatewayError): Response {
  if (err.retryAfterS !== undefined) c.header('Retry-After', String(err.retryAfterS));
  return c.json({ error: { message: err.message, type: err.type, param: err.param, code: err.code.toLowerCase() } }, err.status);
}
