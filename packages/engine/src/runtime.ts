/**
 * How an engine process comes to exist. The supervisor drives one runtime through
 * prepare → launch → (running) → stop, and is told when the engine exits on its own.
 * Implementations: docker (`docker pull` + `docker run vllm/vllm-openai`) and process (any argv).
 */
export interface EngineRuntime {
  readonly kind: string;
  /**
   * Makes the engine launchable: `docker pull` for docker, nothing for a process. This is the
   * `pulling` phase. A runtime may remember success and return at once on later calls.
   */
  prepare(signal: AbortSignal): Promise<void>;
  /**
   * Starts the engine and resolves once its process or container is running (the `starting`
   * phase); it may still be loading. Rejects with a SynktiError when it cannot be started.
   */
  launch(signal: AbortSignal): Promise<EngineProcess>;
}

/** One running engine process or container. */
export interface EngineProcess {
  /** The OS process ID of the child the runtime spawned (for docker: the `docker run` client). */
  readonly pid: number | undefined;
  /** Settles once, when the engine has exited, whoever caused it. Never rejects. */
  readonly exited: Promise<EngineExit>;
  /**
   * Stops the engine: a polite signal first, a forced kill after `graceMs`. Resolves on exit.
   * Harmless when repeated or after the engine exited.
   */
  stop(graceMs: number): Promise<EngineExit>;
}

export interface EngineExit {
  code: number | null;
  signal: string | null;
}
