import { SynktiError } from './errors.js';

/**
 * Where a request stood when its upstream failed: `before-head` means nothing of a response
 * came back (another peer may take the request as new); `after-head` means a response had
 * started, so only a continuation (request migration) can save it.
 */
export type UpstreamPhase = 'before-head' | 'after-head';

/** Codes every upstream (the local engine, a peer over the mesh) may fail with. */
export const UpstreamCode = {
  /** The serving node is leaving and gave the stream back (drain deadline): migrate it. */
  HANDOVER: 'HANDOVER',
  /** No first token (or no response) within the attempt's deadline. */
  FIRST_TOKEN_TIMEOUT: 'FIRST_TOKEN_TIMEOUT',
  /** A running stream sent nothing for too long. */
  STREAM_STALLED: 'STREAM_STALLED',
  /** Membership declared the serving peer dead (silent past deadAfter) while the request ran there. */
  PEER_LOST: 'PEER_LOST',
  /** The entry agent itself is leaving with the response still running: it cannot be continued. */
  AGENT_LEAVING: 'AGENT_LEAVING',
} as const;

/**
 * The one error type of the request path, whoever served the request. `retryable` says another
 * peer may succeed; with `phase` the gateway knows whether to retry the request or migrate it.
 */
export class UpstreamError extends SynktiError {
  readonly retryable: boolean;
  readonly phase: UpstreamPhase;

  constructor(code: string, message: string, options: { retryable: boolean; phase?: UpstreamPhase; cause?: unknown }) {
    super(code, message, { cause: options.cause });
    this.retryable = options.retryable;
    this.phase = options.phase ?? 'before-head';
  }
}
