import { MAX_STATE_MESSAGE_BYTES, PROTOCOL_VERSION } from './constants.js';
import { type NodeState, nodeStateSchema } from './node-state.js';

export type DecodeResult = { ok: true; state: NodeState } | { ok: false; reason: string };

const encoder = new TextEncoder();
const decoder = new TextDecoder('utf-8', { fatal: true });

/** Encodes a state for the wire. Validates first: a peer must never send what others reject. */
export function encodeNodeState(state: NodeState): Uint8Array {
  const parsed = nodeStateSchema.parse(state);
  const bytes = encoder.encode(JSON.stringify(parsed));
  if (bytes.byteLength > MAX_STATE_MESSAGE_BYTES) {
    throw new RangeError(`encoded NodeState is ${bytes.byteLength} bytes, over the ${MAX_STATE_MESSAGE_BYTES} limit`);
  }
  return bytes;
}

/** Decodes and validates a state from the wire; never throws, says why it rejected. */
export function decodeNodeState(bytes: Uint8Array): DecodeResult {
  if (bytes.byteLength > MAX_STATE_MESSAGE_BYTES) {
    return { ok: false, reason: `message of ${bytes.byteLength} bytes exceeds ${MAX_STATE_MESSAGE_BYTES}` };
  }
  let value: unknown;
  try {
    value = JSON.parse(decoder.decode(bytes));
  } catch {
    return { ok: false, reason: 'not UTF-8 JSON' };
  }
  if (typeof value !== 'object' || value === null) return { ok: false, reason: 'not a JSON object' };
  const version = (value as { v?: unknown }).v;
  if (version !== PROTOCOL_VERSION) {
    return { ok: false, reason: `unsupported protocol version ${JSON.stringify(version)} (want ${PROTOCOL_VERSION})` };
  }
  const result = nodeStateSchema.safeParse(value);
  if (!result.success) {
    const issue = result.error.issues[0];
    const where = issue?.path.join('.') || '(root)';
    return { ok: false, reason: `invalid field ${where}: ${issue?.message ?? 'unknown'}` };
  }
  return { ok: true, state: result.data };
}
