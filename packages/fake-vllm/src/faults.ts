import { z } from 'zod';

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
    /** Crash now: every socket is destroyed at once (the CLI exits with code 1). */
    crash: z.boolean().optional(),
    /** Crash this many ms from now (or from start, when given before start); null cancels. */
    crashAfterMs: z.number().int().nonnegative().nullable().optional(),
  })
  .strict();

export type FaultsPatch = z.input<typeof faultsPatchSchema>;

/** The faults in force, as reported by `stats()` and `GET /_fake/state`. */
export interface Faults {
  errorRate: number;
  dropStreamAfterTokens: number | null;
  slowStartMs: number;
  hang: boolean;
  /** A crash scheduled this many ms after it was asked for; null when none is pending. */
  crashAfterMs: number | null;
  /** A hang scheduled this many ms after it was asked for; null when none is pending. */
  hangAfterMs: number | null;
}

export const NO_FAULTS: Readonly<Faults> = Object.freeze({
  errorRate: 0,
  dropStreamAfterTokens: null,
  slowStartMs: 0,
  hang: false,
  crashAfterMs: null,
  hangAfterMs: null,
});
