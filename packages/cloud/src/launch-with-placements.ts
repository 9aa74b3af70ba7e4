import { CloudErrorCode, type CloudProvider, type LaunchResult, type PlacementSpec, hasCode } from '@synkti/interface';
import { BadLaunchRequestError } from './errors.js';

/** One attempt of a launch: a placement and its own token (the fleet core's LaunchAttempt fits). */
export interface PlacementAttempt {
  token: string;
  placement: PlacementSpec;
  placementIndex?: number;
}

/** A launch decision as the fleet core hands it over, plus the fleet (a LaunchDecision fits). */
export interface PlacementWalk {
  fleet: string;
  slot: string;
  replaces: string | null;
  /** In the one order every peer walks. */
  attempts: readonly PlacementAttempt[];
}

export interface PlacementOutcome extends LaunchResult {
  /** Index into `attempts` of the attempt that launched. */
  attemptIndex: number;
  token: string;
  placement: PlacementSpec;
  /** Attempts that found no capacity before this one, with the error of each. */
  skipped: { token: string; placement: PlacementSpec; error: Error }[];
}

/**
 * Walks the attempts in order: the first that launches wins; an INSUFFICIENT_CAPACITY error
 * moves to the next placement; any other error stops the walk and is thrown as is (a
 * mismatch or a provider failure is not a capacity problem another placement would solve).
 * When every placement is out of capacity, the last capacity error is thrown. Every peer that
 * walks the same attempts launches at most one instance: each placement has its own token.
 */
export async function launchWithPlacements(
  provider: CloudProvider,
  walk: PlacementWalk,
  options: { signal?: AbortSignal; onSkip?: (attempt: PlacementAttempt, error: Error) => void } = {},
): Promise<PlacementOutcome> {
  const skipped: PlacementOutcome['skipped'] = [];
  if (walk.attempts.length === 0) throw new BadLaunchRequestError(`no placements to try for slot ${walk.slot}`);
  let lastError: unknown;
  for (const [attemptIndex, attempt] of walk.attempts.entries()) {
    try {
      const result = await provider.launch(
        { fleet: walk.fleet, slot: walk.slot, replaces: walk.replaces, token: attempt.token, placement: attempt.placement },
        options.signal,
      );
      return { ...result, attemptIndex, token: attempt.token, placement: attempt.placement, skipped };
    } catch (err) {
      if (!hasCode(err, CloudErrorCode.INSUFFICIENT_CAPACITY)) throw err;
      skipped.push({ token: attempt.token, placement: attempt.placement, error: err as Error });
      options.onSkip?.(attempt, err as Error);
      lastError = err;
    }
  }
  throw lastError;
}
