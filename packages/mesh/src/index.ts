import './polyfill.js';

export { Mesh, type MeshInit, type StateBody } from './mesh.js';
export { MAX_FORWARD_STREAMS, MESH_TARGET_CONNECTIONS, MESH_MAX_IDLE_CONNECTIONS } from './constants.js';
export { createMeshNode, type MeshLibp2p, type MeshNodeInit } from './node.js';
export { StateGossip, type GossipCounters, type StateListener } from './state-gossip.js';
export { type GossipTraffic } from './gossip-traffic.js';
export { loadOrCreatePeerKey, peerIdOfStateDir, PEER_KEY_FILE } from './identity.js';
export { generateSwarmKey, parseSwarmKey, readSwarmKey } from './swarm-key.js';
export { SwarmKeyError, PeerKeyError, MeshNotStartedError } from './errors.js';
export { forwardRequest, handleForwardProtocol, type ForwardOptions, type ForwardServe, type InboundForward, type ForwardHandlerOptions } from './forward/index.js';
export { multiaddrProblem } from './multiaddrs.js';
export { DhtRendezvous, rendezvousIntervalMs, rendezvousKey, type RendezvousPeer } from './rendezvous.js';
export { MAX_SYNC_STATES, SYNC_TIMEOUT_MS, type SyncedState } from './state-sync.js';
