export { createGatewayApp, type GatewayInit, DEFAULT_MAX_BODY_BYTES } from './app.js';
export { keyLimits, type KeyLimits } from './middleware/key-limits.js';
export { type FleetSource, type FleetJson, type FleetPeerJson, fleetJson } from './fleet-source.js';
export {
  RequestPath,
  type RequestPathInit,
  type RequestPathLimits,
  DEFAULT_REQUEST_PATH_LIMITS,
  type RequestTarget,
  requestTargetOf,
  type PathRequest,
  type Served,
  MIGRATION_LIMIT,
  FIRST_TOKEN_TIMEOUT_MS,
  RESPONSE_TIMEOUT_MS,
  STREAM_STALL_TIMEOUT_MS,
  PEER_INHIBIT_MS,
  MAX_IN_FLIGHT,
  admissionLimitFor,
} from './request-path/index.js';
export { LocalEngineTarget, type LocalEngine, type LocalEngineTargetInit } from './local-engine.js';
export { GatewayError, type OpenAiErrorType } from './errors.js';
export { HttpServer } from './server.js';
export { AgentMetrics, type MetricsSources, MAX_PEER_SERIES } from './metrics.js';
export { FleetHistory, fleetCostPerHour, type FleetPrices, type HistorySample, type HistoryEvent, type HistoryJson, HISTORY_INTERVAL_MS, HISTORY_MAX_SAMPLES, HISTORY_MAX_EVENTS } from './history.js';
