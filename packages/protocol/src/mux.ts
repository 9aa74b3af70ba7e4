import type { ForwardErrorBody, RequestHead, ResponseHead } from './forward.js';

/**
 * The multiplexed forward protocol (`/synkti/mux/1.0.0`): one long-lived libp2p stream per peer
 * pair carries every forwarded request between them, so no request pays a stream negotiation.
 * Each length-prefixed frame is [type u8][request id u32, big-endian][payload]. The dialler
 * numbers its requests. Either side sends DATA only within the credit its reader granted for
 * that request (MUX_INITIAL_CREDIT_BYTES, then CREDIT frames as the reader consumes), so a slow
 * reader holds back its own request only, never the others on the stream.
 *
 * Requester: REQ_HEAD, DATA…, END; CANCEL to give up. Server: RES_HEAD, DATA…, END; or ERROR
 * before any head; HANDOVER to give a running response back (drain); CANCEL when the response
 * broke after its head (the requester takes it as a broken stream, never as an end). A stream
 * that breaks fails only the requests it carries.
 */
export const MUX_PROTOCOL = '/synkti/mux/1.0.0';

export const MuxFrame = {
  REQ_HEAD: 1,
  RES_HEAD: 2,
  DATA: 3,
  END: 4,
  ERROR: 5,
  HANDOVER: 6,
  CANCEL: 7,
  CREDIT: 8,
} as const;
export type MuxFrameCode = (typeof MuxFrame)[keyof typeof MuxFrame];

/** Bytes one request may have in flight in each direction before its reader grants more. */
export const MUX_INITIAL_CREDIT_BYTES = 512 * 1024;
/** Requests one mux stream carries at once; beyond it a request is refused (retryable) before its head. */
export const MUX_MAX_REQUESTS_PER_STREAM = 4_096;
/** Header bytes before a frame's payload. */
export const MUX_FRAME_HEADER_BYTES = 5;

const str = (v: unknown, max: number): v is string => typeof v === 'string' && v.length <= max;

/** A cheap structural check of a header map, in place of a schema parse on the hot path. */
function isHeaders(v: unknown): v is Record<string, string> {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return false;
  let n = 0;
  for (const [k, value] of Object.entries(v)) {
    if (++n > 64 || k.length > 256 || !str(value, 8 * 1024)) return false;
  }
  return true;
}

const METHODS = new Set(['GET', 'POST', 'PUT', 'DELETE', 'PATCH']);

export function isRequestHead(v: unknown): v is RequestHead {
  if (typeof v !== 'object' || v === null) return false;
  const h = v as Record<string, unknown>;
  return str(h['requestId'], 128) && (h['requestId'] as string).length > 0 && METHODS.has(h['method'] as string) && str(h['path'], 4096) && (h['path'] as string).startsWith('/') && isHeaders(h['headers']);
}

export function isResponseHead(v: unknown): v is ResponseHead {
  if (typeof v !== 'object' || v === null) return false;
  const h = v as Record<string, unknown>;
  return Number.isInteger(h['status']) && (h['status'] as number) >= 100 && (h['status'] as number) <= 599 && isHeaders(h['headers']);
}

export function isForwardErrorBody(v: unknown): v is ForwardErrorBody {
  if (typeof v !== 'object' || v === null) return false;
  const e = v as Record<string, unknown>;
  return str(e['code'], 64) && str(e['message'], 4096) && typeof e['retryable'] === 'boolean';
}
