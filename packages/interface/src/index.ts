export { type Clock, type TimerHandle, type Rng, systemClock, ManualClock, seededRng } from './clock.js';
export { SynktiError, hasCode } from './errors.js';
export type { Startable } from './startable.js';
export { type Logger, silentLogger } from './logger.js';
export { type PlacementSpec, type LaunchRequest, type LaunchResult, type FleetInstance, type CloudProvider, type InstanceQuery, CloudErrorCode } from './cloud.js';
export { UpstreamError, UpstreamCode, type UpstreamPhase } from './upstream.js';
export { deadlineSignal, raceSignal, withDeadline } from './deadline.js';
