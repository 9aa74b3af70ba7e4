export { createGatewayApp, type GatewayInit, DEFAULT_MAX_BODY_BYTES } from './app.js';
export { type FleetSource, type FleetJson, type FleetPeerJson, fleetJson } from './fleet-source.js';
export { Forwarder, type ForwarderInit, type RequestTarget, type ForwardJob, type Served } from './forwarder.js';
export { GatewayError, type OpenAiErrorType } from './errors.js';
export { HttpServer } from './server.js';
export { AgentMetrics, type MetricsSources } from './metrics.js';
