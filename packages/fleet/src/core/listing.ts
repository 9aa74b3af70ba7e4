import type { ReplacementPlan } from '../replacement/index.js';
import type { ListingState } from './types.js';

/** The launcher and its backup list the fleet this often: the rule's external witness stays fresh where it acts. */
export const PROVIDER_REFRESH_MS = 10_000;
/**
 * While this agent is the launcher and a deficit waits on the provider (its listing still shows
 * the lost instance), the listing is refreshed this often instead: a launch then follows the
 * loss within about a second, and only the launcher pays for the extra calls.
 */
export const PROVIDER_FAST_REFRESH_MS = 1_000;
/**
 * Every other agent lists this often on average (jittered ±50 %): EC2's non-mutating request
 * bucket (100, refilled 20/s) is shared by the whole account, and 200 agents listing every 10 s
 * would drain it alone. Their listing only feeds slot memory until they become the launcher,
 * which lists at once before it acts.
 */
export const PROVIDER_IDLE_REFRESH_MS = 60_000;

export type ListingRole = 'waiting' | 'launcher' | 'backup' | 'other';

/** Below target with nothing launched: the plan waits on the provider (a fresh listing may free it; a launch in flight changes it by gossip). */
export function waitsOnProvider(plan: ReplacementPlan | null): boolean {
  return plan !== null && plan.deficit > 0 && plan.launches.length === 0;
}

/** How often this agent lists the provider, from its part in the last plan. */
export function listingRole(plan: ReplacementPlan | null, self: string, assumeLauncher: boolean): ListingRole {
  if (plan === null) return 'launcher';
  if (plan.launcher === self || assumeLauncher) return waitsOnProvider(plan) ? 'waiting' : 'launcher';
  return plan.backup === self ? 'backup' : 'other';
}

export function listingEveryMs(listing: ListingState, role: ListingRole): number {
  return role === 'waiting' ? PROVIDER_FAST_REFRESH_MS : role === 'other' ? listing.idleDelayMs : PROVIDER_REFRESH_MS;
}

/** When the next listing is due for an agent in `role` (now or earlier: due). */
export function listingDueAt(listing: ListingState, role: ListingRole): number {
  return listing.checkedAt + listingEveryMs(listing, role);
}

/** The idle interval for a jitter draw in [0, 1): PROVIDER_IDLE_REFRESH_MS ±50 %. */
export function idleDelayMs(jitter: number): number {
  return Math.round(PROVIDER_IDLE_REFRESH_MS * (0.5 + jitter));
}

export function initialListing(jitter: number): ListingState {
  return { snapshot: null, checkedAt: Number.NEGATIVE_INFINITY, idleDelayMs: idleDelayMs(jitter), listing: false, rememberedAt: null, remembered: null };
}
