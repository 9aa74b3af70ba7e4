import { z } from 'zod';

/**
 * Frames of the forward protocol (`/synkti/forward/1.0.0`). Each length-prefixed frame starts
 * with one type byte. The requester sends REQUEST_HEAD, then DATA frames with the body, then
 * closes its writable end. The server answers RESPONSE_HEAD, then DATA frames as the engine
 * produces them, then closes; or ERROR before any head when it cannot serve. A serving node that
 * must abandon a running response (its drain deadline) ends it with HANDOVER instead of closing,
 * so the requester continues it on another peer rather than taking the end for a finished
 * answer. Cancelling is aborting the stream, from either end.
 */
export const FrameType = {
  REQUEST_HEAD: 1,
  RESPONSE_HEAD: 2,
  DATA: 3,
  ERROR: 4,
  /** After a response head: the server gives the stream back; its payload is a ForwardErrorBody. */
  HANDOVER: 5,
} as const;
export type FrameTypeCode = (typeof FrameType)[keyof typeof FrameType];

/** Largest DATA frame a sender emits; bigger bodies are split. Small frames keep streams fair on one connection. */
export const MAX_DATA_FRAME_BYTES = 64 * 1024;
/** Largest frame a receiver accepts (heads are JSON, far smaller). */
export const MAX_FRAME_BYTES = 1024 * 1024;
/**
 * Largest request body a serving node takes from an entry agent; the gateway's `maxBodyBytes` is
 * validated at start to stay below it (MAX_REQUEST_BODY_BYTES), so a body the entry accepted is
 * never refused by the peer it is sent to.
 */
export const MAX_FORWARD_REQUEST_BYTES = 128 * 1024 * 1024;
/**
 * The most a client's request body may be (the ceiling of the gateway's `maxBodyBytes`): the
 * serving side's limit less room for what the entry adds — `stream_options`, and a
 * continuation's text so far when a stream is migrated.
 */
export const MAX_REQUEST_BODY_BYTES = MAX_FORWARD_REQUEST_BYTES - 8 * 1024 * 1024;

const headers = z.record(z.string().max(256), z.string().max(8 * 1024));

export const requestHeadSchema = z.object({
  requestId: z.string().min(1).max(128),
  method: z.enum(['GET', 'POST', 'PUT', 'DELETE', 'PATCH']),
  /** Path and query, e.g. /v1/chat/completions */
  path: z.string().startsWith('/').max(4096),
  headers,
});
export type RequestHead = z.infer<typeof requestHeadSchema>;

export const responseHeadSchema = z.object({
  status: z.number().int().min(100).max(599),
  headers,
});
export type ResponseHead = z.infer<typeof responseHeadSchema>;

export const forwardErrorSchema = z.object({
  code: z.string().max(64),
  message: z.string().max(4096),
  /** True when another peer may well succeed (draining, engine not warm, overloaded). */
  retryable: z.boolean(),
});
export type ForwardErrorBody = z.infer<typeof forwardErrorSchema>;

/** What a request turns into, wherever it was served: a head and a body that streams. */
export interface ForwardResponse {
  status: number;
  headers: Record<string, string>;
  body: AsyncIterable<Uint8Array>;
}

/** Request headers worth carrying to the engine; hop-by-hop and auth headers stay behind. */
export const FORWARDED_REQUEST_HEADERS = ['content-type', 'accept', 'x-request-id', 'x-session-id', 'openai-organization', 'openai-project'] as const;
/** Response headers worth carrying back to the client. */
export const FORWARDED_RESPONSE_HEADERS = ['content-type', 'cache-control', 'x-request-id', 'retry-after'] as const;
/**
 * Request head header: the sequences the request runs (`n` × prompts) as the entry agent counted
 * them, sent when more than 1, so the serving node weighs it in its engine's in-flight count
 * without parsing the body again.
 */
export const SEQUENCES_HEADER = 'x-synkti-sequences';
