export { createGatewayApp, type GatewayInit } from './app.js';
export { type FleetSource, type FleetJson, type FleetPeerJson, fleetJson } from './fleet-source.js';
export { HttpServer } from './server.js';
