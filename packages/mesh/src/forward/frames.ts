import {
  type ForwardErrorBody,
  FrameType,
  type FrameTypeCode,
  forwardErrorSchema,
  MAX_DATA_FRAME_BYTES,
  type RequestHead,
  type ResponseHead,
  requestHeadSchema,
  responseHeadSchema,
} from '@synkti/protocol';
import type { Uint8ArrayList } from 'uint8arraylist';
import type { z } from 'zod';
import { UpstreamError } from '@synkti/interface';

const encoder = new TextEncoder();
const decoder = new TextDecoder();

export type Frame =
  | { type: typeof FrameType.REQUEST_HEAD; head: RequestHead }
  | { type: typeof FrameType.RESPONSE_HEAD; head: ResponseHead }
  | { type: typeof FrameType.DATA; data: Uint8Array }
  | { type: typeof FrameType.ERROR; error: ForwardErrorBody }
  | { type: typeof FrameType.HANDOVER; error: ForwardErrorBody };

function jsonFrame(type: FrameTypeCode, value: unknown): Uint8Array {
  const json = encoder.encode(JSON.stringify(value));
  const frame = new Uint8Array(json.byteLength + 1);
  frame[0] = type;
  frame.set(json, 1);
  return frame;
}

export const requestHeadFrame = (head: RequestHead): Uint8Array => jsonFrame(FrameType.REQUEST_HEAD, head);
export const responseHeadFrame = (head: ResponseHead): Uint8Array => jsonFrame(FrameType.RESPONSE_HEAD, head);
export const errorFrame = (error: ForwardErrorBody): Uint8Array => jsonFrame(FrameType.ERROR, error);
export const handoverFrame = (error: ForwardErrorBody): Uint8Array => jsonFrame(FrameType.HANDOVER, error);

/** DATA frames for one chunk of body, split so no frame exceeds MAX_DATA_FRAME_BYTES. */
export function* dataFrames(chunk: Uint8Array): Generator<Uint8Array> {
  for (let offset = 0; offset < chunk.byteLength; offset += MAX_DATA_FRAME_BYTES) {
    const part = chunk.subarray(offset, offset + MAX_DATA_FRAME_BYTES);
    const frame = new Uint8Array(part.byteLength + 1);
    frame[0] = FrameType.DATA;
    frame.set(part, 1);
    yield frame;
  }
}

export function decodeFrame(raw: Uint8ArrayList | Uint8Array): Frame {
  const bytes = raw instanceof Uint8Array ? raw : raw.subarray();
  const type = bytes[0];
  const payload = bytes.subarray(1);
  switch (type) {
    case FrameType.DATA:
      return { type, data: payload };
    case FrameType.REQUEST_HEAD:
      return { type, head: parseJson(requestHeadSchema, payload, 'request head') };
    case FrameType.RESPONSE_HEAD:
      return { type, head: parseJson(responseHeadSchema, payload, 'response head') };
    case FrameType.ERROR:
      return { type, error: parseJson(forwardErrorSchema, payload, 'error') };
    case FrameType.HANDOVER:
      return { type, error: parseJson(forwardErrorSchema, payload, 'hand-over') };
    default:
      throw new UpstreamError('FORWARD_BAD_FRAME', `unknown frame type ${String(type)}`, { retryable: false });
  }
}

function parseJson<T>(schema: z.ZodType<T>, payload: Uint8Array, what: string): T {
  let value: unknown;
  try {
    value = JSON.parse(decoder.decode(payload));
  } catch (err) {
    throw new UpstreamError('FORWARD_BAD_FRAME', `${what} frame is not JSON`, { retryable: false, cause: err });
  }
  const result = schema.safeParse(value);
  if (!result.success) throw new UpstreamError('FORWARD_BAD_FRAME', `invalid ${what} frame: ${result.error.issues[0]?.message ?? ''}`, { retryable: false });
  return result.data;
}
