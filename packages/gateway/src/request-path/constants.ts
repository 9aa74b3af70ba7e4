/** Continuations of one broken stream at most: each costs a re-prefill of the prompt and the text so far. */
export const MIGRATION_LIMIT = 3;
/**
 * An attempt's budget for its first token (streams) — long enough for a long prompt's prefill
 * behind a full queue on a busy engine, short enough that a frozen peer costs one wait, not a hang.
 */
export const FIRST_TOKEN_TIMEOUT_MS = 120_000;
/** A non-streamed request's budget for its whole response: a long generation at a slow decode rate. */
export const RESPONSE_TIMEOUT_MS = 600_000;
/** A running stream silent this long is taken for lost (vLLM emits every decode step; preemption pauses are seconds). */
export const STREAM_STALL_TIMEOUT_MS = 60_000;
/** After a peer fails a request, the entry agent leaves it out for this long (Dynamo's worker inhibition). */
export const PEER_INHIBIT_MS = 5_000;
/** Attempts that may fail before anything reached the client: the first choice plus two retries. */
export const MAX_ATTEMPTS_BEFORE_COMMIT = 3;
/** Bytes of an upstream SSE event the relay buffers at most (a chunk is a few hundred bytes). */
export const MAX_SSE_EVENT_BYTES = 1024 * 1024;
/**
 * Client requests one agent serves at once (queued at engines or relayed), beyond which it
 * answers 503 with Retry-After: an overloaded entry agent sheds load instead of queueing without
 * bound. Four full engines' worth at vLLM's default of 256 sequences.
 */
export const MAX_IN_FLIGHT = 1_024;
/** The admission limit by default: this many of the agent's own engine's capacity, at least MAX_IN_FLIGHT. */
const IN_FLIGHT_PER_CAPACITY = 4;

/**
 * The default admission limit of an agent whose engine runs `capacity` sequences: four engines'
 * worth, so an H100's vLLM (1,024 sequences) is not capped at one engine's worth; never below
 * MAX_IN_FLIGHT, since an entry agent also relays to its peers (a gateway-only agent has none).
 */
export function admissionLimitFor(capacity: number | undefined): number {
  return Math.max(MAX_IN_FLIGHT, IN_FLIGHT_PER_CAPACITY * (capacity ?? 0));
}
/**
 * Bytes of a non-streamed answer the entry agent holds before relaying: a chat answer is a few
 * KiB, so nearly all go out whole; a larger one streams through. Bounds memory at
 * MAX_IN_FLIGHT × this (64 MiB).
 */
export const MAX_BUFFERED_PLAIN_BYTES = 64 * 1024;
/**
 * How long a broken stream waits for a peer that can continue it when none looks healthy (views
 * flap to "suspect" on a loaded fleet as a node dies), counted from the break; the client sees
 * a gap, not an error. Polled every CONTINUATION_PEER_POLL_MS.
 */
export const CONTINUATION_PEER_WAIT_MS = 5_000;
export const CONTINUATION_PEER_POLL_MS = 200;
