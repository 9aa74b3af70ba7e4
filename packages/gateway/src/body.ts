import { Readable } from 'node:stream';
import type { Context } from 'hono';
import { badRequest, GatewayError } from './errors.js';

/**
 * Reads the request body up to `limit` bytes; over it is a 413 before the rest is read. Served by
 * node-server, the bytes come straight off Node's IncomingMessage: asking Hono's request for its
 * body stream builds a whole web Request (undici headers, a web stream, an abort signal) per
 * request, a tenth of the agent's CPU at load. Anywhere else (`app.request()`) the web body is read.
 */
export async function readBody(c: Context, limit: number): Promise<Uint8Array> {
  const declared = Number(c.req.header('content-length') ?? Number.NaN);
  if (Number.isFinite(declared) && declared > limit) throw tooLarge(limit);
  const incoming = (c.env as { incoming?: unknown } | undefined)?.incoming;
  if (incoming instanceof Readable) return readNodeBody(incoming, limit);
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

function readNodeBody(incoming: Readable, limit: number): Promise<Uint8Array> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const done = (err?: Error) => {
      incoming.off('data', onData).off('end', onEnd).off('error', done).off('close', onClose);
      if (err === undefined) resolve(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, size));
      else reject(err);
    };
    const onData = (chunk: Buffer) => {
      size += chunk.byteLength;
      if (size > limit) {
        // Stop reading; the 413 goes out and the connection closes with the rest unread.
        incoming.pause();
        done(tooLarge(limit));
      } else chunks.push(chunk);
    };
    const onEnd = () => done();
    const onClose = () => done(new Error('client closed the connection before its body ended'));
    incoming.on('data', onData).on('end', onEnd).on('error', done).on('close', onClose);
    if (incoming.readableEnded) done();
  });
}

function tooLarge(limit: number): GatewayError {
  return new GatewayError('BODY_TOO_LARGE', 413, 'invalid_request_error', `Request body exceeds the ${limit}-byte limit.`);
}

export interface ParsedCompletion {
  model: string;
  stream: boolean;
  user: string | undefined;
  json: Record<string, unknown>;
  /** Sequences the request makes the engine run: `n` × the prompts of a batched completion. */
  sequences: number;
}

/** The most sequences one request is counted as: bounds what a hostile `n` does to routing. */
export const MAX_SEQUENCES_PER_REQUEST = 1_024;

/**
 * How many sequences a request occupies in the engine: each of `n` choices of each prompt is one
 * (a batched `/v1/completions` prompt is a list of strings or of token lists). Anything the
 * engine will reject counts as 1; it does not run.
 */
export function sequencesOf(body: Record<string, unknown>): number {
  const n = Number.isInteger(body['n']) && (body['n'] as number) > 0 ? (body['n'] as number) : 1;
  const prompt = body['prompt'];
  const prompts = Array.isArray(prompt) && prompt.length > 0 && prompt.every((p) => typeof p === 'string' || Array.isArray(p)) ? prompt.length : 1;
  return Math.min(MAX_SEQUENCES_PER_REQUEST, n * prompts);
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
  return { model: body['model'], stream: body['stream'] === true, user: typeof body['user'] === 'string' ? body['user'] : undefined, json: body, sequences: sequencesOf(body) };
}
