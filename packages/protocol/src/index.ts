export {
  PROTOCOL_VERSION,
  MAX_STATE_MESSAGE_BYTES,
  MAX_MODELS_PER_NODE,
  MAX_LAUNCHES_PER_NODE,
  MAX_ADDRS_PER_NODE,
  FORWARD_PROTOCOL,
  DHT_PROTOCOL_PREFIX,
  stateTopic,
} from './constants.js';
export {
  ENGINE_STATES,
  INTERRUPTION_KINDS,
  type EngineStateName,
  type InterruptionKind,
  type ProviderInfo,
  type EngineInfo,
  type LoadInfo,
  type Interruption,
  type LaunchInFlight,
  type NodeState,
  nodeStateSchema,
  providerInfoSchema,
  engineInfoSchema,
  loadInfoSchema,
  interruptionSchema,
  launchInFlightSchema,
} from './node-state.js';
export { encodeNodeState, decodeNodeState, type DecodeResult } from './codec.js';
export { sampleNodeState } from './fixtures.js';
