import type { Faults } from './faults.js';

/** Lifecycle of one fake engine "process". */
export type FakeVllmPhase = 'stopped' | 'loading' | 'ready' | 'crashed';

/** What `stats()` and `GET /_fake/state` report. */
export interface FakeVllmStats {
  phase: FakeVllmPhase;
  /** Requests holding a sequence slot (prefill or decode). */
  running: number;
  /** Requests queued behind maxNumSeqs. */
  waiting: number;
  /** Requests answered in full. */
  served: number;
  /** Requests whose client went away (or that the engine's stop aborted) before the end. */
  cancelled: number;
  /** Streams cut on purpose by the dropStreamAfterTokens fault. */
  dropped: number;
  /** Requests answered with an error by the engine (errorRate, a full queue). */
  failed: number;
  /** Requests that arrived during a hang and are held unanswered. */
  held: number;
  promptTokens: number;
  generationTokens: number;
  faults: Faults;
}
