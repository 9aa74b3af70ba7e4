export { RequestPath, type RequestPathInit, type RequestPathLimits, DEFAULT_REQUEST_PATH_LIMITS, type PathRequest, type Served } from './request-path.js';
export { requestTargetOf, type RequestTarget } from './attempt.js';
export { describeCompletion, type CompletionRequest, type CompletionKind } from './completion.js';
export { MIGRATION_LIMIT, FIRST_TOKEN_TIMEOUT_MS, RESPONSE_TIMEOUT_MS, STREAM_STALL_TIMEOUT_MS, PEER_INHIBIT_MS, MAX_IN_FLIGHT, admissionLimitFor } from './constants.js';
export type { BodyChunk, BodySource } from './body-source.js';
