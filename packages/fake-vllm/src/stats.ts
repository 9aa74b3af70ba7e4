import type { Faults } from './faults.js';

/** Lifecycle of one fake engine "process". */
/** 'dead': the engine died (EngineDeadError) and the server answers errors until it exits. */
export type FakeVllmPhase = 'stopped' | 'loading' | 'ready' | 'dead' | 'crashed';

/** What `stats()` and `GET /_fake/state` report. */
export interface FakeVllmStats {
  phase: FakeVllmPhase;
  /** Requests holding a sequence slot (prefill or decode). */
  running: number;
  /** Requests queued behind maxNumSeqs. */
  waiting: number;
  /** Sequences answered in full (a request counts once per choice of each prompt). */
  served: number;
  /** Sequences whose client went away (or that the engine's stop aborted) before the end. */
  cancelled: number;
  /** Sequences of streams cut on purpose by the dropStreamAfterTokens fault. */
  dropped: number;
  /** Requests answered with an error by the engine (errorRate, a full queue) and sequences an engine death ended. */
  failed: number;
  /** Requests that arrived during a hang and are held unanswered. */
  held: number;
  /** /health probes being delayed by the healthDelayMs fault. */
  healthWaiting: number;
  promptTokens: number;
  generationTokens: number;
  faults: Faults;
}
