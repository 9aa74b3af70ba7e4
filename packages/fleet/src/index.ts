export {
  HEARTBEAT_INTERVAL_MS,
  SUSPECT_AFTER_MS,
  DEAD_AFTER_MS,
  FORGET_AFTER_MS,
  DEPARTURE_MEMORY_MS,
  MAX_PEERS_IN_VIEW,
  KEEPALIVE_STATES_PER_HEARTBEAT,
  LOAD_STATES_PER_HEARTBEAT,
  LOAD_CHANGE_SHARE,
  SUSPECT_AFTER_BEATS,
  DEAD_AFTER_BEATS,
} from './constants.js';
export {
  MembershipView,
  type MembershipTimings,
  defaultMembershipTimings,
  type PeerStatus,
  type PeerEntry,
  type PeerSnapshot,
  type Departure,
  type ObserveOutcome,
  isHealthy,
  compareVersions,
  compareIds,
  suspectsMe,
  keepAlivePeriodMs,
  loadPublishPeriodMs,
  silenceLimits,
  type SilenceLimits,
} from './membership.js';
export { diffFleet, digest, type FleetEvent, type FleetEventKind, type PeerDigest } from './events.js';
export * from './replacement/index.js';
export {
  chooseRoute,
  routeCandidates,
  loadScore,
  loadMoved,
  loadPublishDue,
  hash32,
  affinityBound,
  AFFINITY_SLACK_REQUESTS,
  type RouteCandidate,
  type RouteRequest,
  DEFAULT_AFFINITY_LOAD_FACTOR,
  RING_VNODES_PER_PEER,
  MAX_ROUTE_CANDIDATES,
} from './routing.js';
export { indirectProbeHelpers, INDIRECT_PROBE_HELPERS } from './probe-helpers.js';
export {
  addSample,
  agreedScale,
  decideScale,
  effectiveTarget,
  loadSample,
  MAX_LOAD_SAMPLES,
  supersedes,
  type AutoscaleConfig,
  type LoadSample,
  type ScaleHold,
  type ScaleInput,
  type ScaleVerdict,
} from './autoscale.js';
export * from './core/index.js';
