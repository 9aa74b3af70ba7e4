import type { Context } from 'hono';
import { badRequest, GatewayError } from './errors.js';

/** Reads the request body up to `limit` bytes; over it is a 413 before the rest is read. */
export async function readBody(c: Context, limit: number): Promise<Uint8Array> {
  const declared = Number(c.req.header('content-length') ?? Number.NaN);
  if (Number.isFinite(declared) && declared > limit) throw tooLarge(limit);
  const stream = c.req.raw.body;
  if (stream === null) return new Uint8Array();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for await (const chunk of stream as unknown as AsyncIterable<Uint8Array>) {
    size += chunk.byteLength;
    if (size > limit) throw tooLarge(limit);
    chunks.push(chunk);
  }
  return Buffer.concat(chunks, size);
}

function tooLarge(limit: number): GatewayError {
  return new GatewayError('BODY_TOO_LARGE', 413, 'invalid_request_error', `Request body exceeds the ${limit}-byte limit.`);
}

export interface ParsedCompletion {
  model: string;
  stream: boolean;
  user: string | undefined;
  json: Record<string, unknown>;
}

/** The fields the gateway routes on; the engine validates the rest, as vLLM would. */
export function parseCompletionBody(bytes: Uint8Array): ParsedCompletion {
  let value: unknown;
  try {
    value = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes));
  } catch {
    throw badRequest('INVALID_JSON', 'We could not parse the JSON body of your request. The body must be a JSON object.');
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw badRequest('INVALID_JSON', 'The request body must be a JSON object.');
  const body = value as Record<string, unknown>;
  if (body['model'] === undefined) throw badRequest('MISSING_MODEL', "you must provide a model parameter", 'model');
  if (typeof body['model'] !== 'string' || body['model'] === '') throw badRequest('INVALID_MODEL', 'model must be a non-empty string', 'model');
  return { model: body['model'], stream: body['stream'] === true, user: typeof body['user'] === 'string' ? body['user'] : undefined, json: body };
}
