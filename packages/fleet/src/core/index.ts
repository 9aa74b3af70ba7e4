export { initialCoreState, planOn, stepFleet, stillDecided } from './step.js';
export {
  idleDelayMs,
  listingDueAt,
  listingRole,
  PROVIDER_FAST_REFRESH_MS,
  PROVIDER_IDLE_REFRESH_MS,
  PROVIDER_REFRESH_MS,
  type ListingRole,
  waitsOnProvider,
} from './listing.js';
export type { CoreConfig, CoreDecision, CoreEvent, CoreState, CoreView, ListingState, ProviderSnapshot, StepResult, SurplusReason } from './types.js';
