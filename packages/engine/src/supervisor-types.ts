import type { Clock, Logger, Rng, Startable } from '@synkti/interface';
import type { EngineStateName } from '@synkti/protocol';
import type { EngineConfig, EngineConfigInput } from './config.js';
import type { EngineCounters, EngineLoad } from './load.js';
import type { ColdStartPhases, Failure, Transition } from './machine.js';
import type { FetchFn } from './probe.js';
import type { EngineRuntime } from './runtime.js';

export interface EngineSupervisorInit {
  config: EngineConfigInput;
  /** Overrides the runtime built from `config.runtime` (tests, custom runtimes). */
  runtime?: EngineRuntime;
}

export interface EngineComponents {
  clock?: Clock;
  rng?: Rng;
  fetch?: FetchFn;
  logger?: Logger;
}

export interface EngineSnapshot {
  state: EngineStateName;
  inStateMs: number;
  models: string[];
  load: EngineLoad;
  /** The engine's counters from its last /metrics scrape (progress, preemptions, prefix cache). */
  counters: EngineCounters;
  /** The engine's version from /version, once warm; null where it reports none. */
  version: string | null;
  inFlight: number;
  capacity: number;
  crashLoop: boolean;
  /** When the next restart is due (clock ms), while failed. */
  restartAt: number | null;
  lastFailure: Failure | null;
  lastColdStart: ColdStartPhases | null;
  /** PID of the engine process (or of `docker run`), while one runs. */
  pid: number | null;
}

export interface EngineSupervisor extends Startable {
  /** http://127.0.0.1:PORT, the engine's OpenAI base (append /v1/...). */
  readonly baseUrl: string;
  readonly config: EngineConfig;
  state(): EngineStateName;
  snapshot(): EngineSnapshot;
  /** Calls `fn` on every state change; returns the unsubscribe function. */
  onTransition(fn: (t: Transition) => void): () => void;
  /**
   * Stops taking requests, waits until in-flight requests finish or `timeoutMs` passes, then
   * stops the engine. Resolves once it is stopped.
   */
  drain(timeoutMs?: number): Promise<void>;
  /** Counts one request served by this engine, weighing the sequences it runs (default 1); call the returned function when it ends. */
  beginRequest(sequences?: number): () => void;
}
