export * from './constants.js';
export { launchToken, hash128, type TokenFacts } from './token.js';
export { slotIndex, isCounted, type SlotAssignment, type Occupant } from './slots.js';
export { assignSlots } from './peers.js';
export { planReplacement, planWith, lastHolder, nextGeneration, ruleTarget } from './plan.js';
export { admitToLowestTwo, type LowestTwo, peerPass, type PeerPass } from './peers.js';
export { rememberHolders, rememberListed } from './memory.js';
export { walkOrder, PRICE_TOLERANCE, type OrderedPlacement } from './placements.js';
export { planSurplus, type SurplusInput, type SurplusPeer, type SurplusDecision } from './surplus.js';
export type {
  PeerFacts,
  LaunchRecord,
  Placement,
  ProviderInstance,
  SlotMemory,
  ReplacementInput,
  LaunchAttempt,
  LaunchDecision,
  HoldReason,
  ReplacementPlan,
} from './types.js';
