import { z } from 'zod';
import { DEATH_EXIT_MS, HEALTH_DELAY_MS } from './constants.js';

/**
 * Failure modes the fake engine can be told to show, by option, CLI flag, `setFaults` or
 * `POST /_fake/faults`. A patch changes only the fields it names.
 */
export const faultsPatchSchema = z
  .object({
    /** Fraction 0..1 of completion requests answered with a 500 (seeded, so repeatable). */
    errorRate: z.number().min(0).max(1).optional(),
    /** Cut every streamed response by destroying its socket after this many tokens; null: never. */
    dropStreamAfterTokens: z.number().int().nonnegative().nullable().optional(),
    /** Extra loading time on top of loadMs; extends a load in progress. */
    slowStartMs: z.number().int().nonnegative().optional(),
    /** Stop answering (connections are accepted, nothing is answered, streams stall); false heals. */
    hang: z.boolean().optional(),
    /** Start hanging this many ms from now (or from start, when given before start); null cancels. */
    hangAfterMs: z.number().int().nonnegative().nullable().optional(),
    /**
     * A deadlocked engine: no request makes progress (no prefill, no token; new ones queue as
     * waiting), yet every route answers and /health stays 200, as vLLM's only checks that the
     * engine has not errored. false heals: everything held resumes.
     */
    stall: z.boolean().optional(),
    /** Start stalling this many ms from now (or from start, when given before start); null cancels. */
    stallAfterMs: z.number().int().nonnegative().nullable().optional(),
    /** /health answers only after this many ms (a saturated vLLM's can take seconds); 0: at once. */
    healthDelayMs: z.number().int().nonnegative().optional(),
    /** /health answers this many ms later per request running or waiting: a busier engine answers slower, as vLLM's does under saturation. */
    healthDelayPerRequestMs: z.number().nonnegative().max(60_000).optional(),
    /** Crash now: every socket is destroyed at once (the CLI exits with code 1). */
    crash: z.boolean().optional(),
    /** Crash this many ms from now (or from start, when given before start); null cancels. */
    crashAfterMs: z.number().int().nonnegative().nullable().optional(),
    /**
     * Engine death now, like vLLM's EngineDeadError: /health answers 503, streams in flight
     * end with an error event then `[DONE]` (a clean end of body), other requests get a 500;
     * deathExitMs later the server exits like a crash.
     */
    die: z.boolean().optional(),
    /** Die this many ms from now (or from start, when given before start); null cancels. */
    dieAfterMs: z.number().int().nonnegative().nullable().optional(),
    /** Die right after this many more tokens are generated, engine-wide (from start, when given before start); null cancels. */
    dieAfterTokens: z.number().int().nonnegative().nullable().optional(),
    /** From death to the exit (every socket destroyed, the CLI exits 1); null: stay up dead. */
    deathExitMs: z.number().int().nonnegative().nullable().optional(),
  })
  .strict();

export type FaultsPatch = z.input<typeof faultsPatchSchema>;

/** The faults in force, as reported by `stats()` and `GET /_fake/state`. */
export interface Faults {
  errorRate: number;
  dropStreamAfterTokens: number | null;
  slowStartMs: number;
  hang: boolean;
  /** The engine is deadlocked: nothing progresses, /health still 200. */
  stall: boolean;
  /** A stall scheduled this many ms after it was asked for; null when none is pending. */
  stallAfterMs: number | null;
  healthDelayMs: number;
  healthDelayPerRequestMs: number;
  /** A crash scheduled this many ms after it was asked for; null when none is pending. */
  crashAfterMs: number | null;
  /** A hang scheduled this many ms after it was asked for; null when none is pending. */
  hangAfterMs: number | null;
  /** A death scheduled this many ms after it was asked for; null when none is pending. */
  dieAfterMs: number | null;
  /** A death pending after this many tokens (counted from when it was asked for); null when none. */
  dieAfterTokens: number | null;
  /** Time from engine death to the server's exit; null: the dead server stays up. */
  deathExitMs: number | null;
}

export const NO_FAULTS: Readonly<Faults> = Object.freeze({
  errorRate: 0,
  dropStreamAfterTokens: null,
  slowStartMs: 0,
  hang: false,
  stall: false,
  stallAfterMs: null,
  healthDelayMs: HEALTH_DELAY_MS,
  healthDelayPerRequestMs: 0,
  crashAfterMs: null,
  hangAfterMs: null,
  dieAfterMs: null,
  dieAfterTokens: null,
  deathExitMs: DEATH_EXIT_MS,
});
