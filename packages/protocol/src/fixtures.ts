import { PROTOCOL_VERSION } from './constants.js';
import type { NodeState } from './node-state.js';

/** A valid state with sensible defaults, for tests and tools; override what matters. */
export function sampleNodeState(overrides: Partial<NodeState> = {}): NodeState {
  return {
    v: PROTOCOL_VERSION,
    fleet: 'default',
    peerId: '12D3KooWSample',
    incarnation: 1,
    seq: 1,
    sentAt: 0,
    leaving: false,
    draining: false,
    provider: { kind: 'local', instanceId: null, instanceType: null, zone: null, lifecycle: 'unknown', slot: null },
    engine: { state: 'warm', models: ['test-model'], inStateMs: 0 },
    load: { running: 0, waiting: 0, kvCacheUsage: 0, inFlight: 0, capacity: 8 },
    interruption: null,
    launches: [],
    addrs: [],
    apiUrl: null,
    agentVersion: '0.1.0',
    ...overrides,
  };
}
