import { SynktiError } from '@synkti/interface';

/** Stable codes of the engine package; callers and tests match on these, not on messages. */
export const ENGINE_ERROR_CODES = {
  START_TIMEOUT: 'ENGINE_START_TIMEOUT',
  EXITED: 'ENGINE_EXITED',
  UNHEALTHY: 'ENGINE_UNHEALTHY',
  /** Requests running or waiting, and no progress for the stall window: hung behind a 200 /health. */
  STALLED: 'ENGINE_STALLED',
  NOT_READY: 'ENGINE_NOT_READY',
  DOCKER_FAILED: 'DOCKER_FAILED',
  SPAWN_FAILED: 'ENGINE_SPAWN_FAILED',
  BAD_CONFIG: 'ENGINE_BAD_CONFIG',
  METRICS_PARSE: 'METRICS_PARSE_FAILED',
} as const;

export class EngineStartTimeoutError extends SynktiError {
  constructor(budgetMs: number, options?: { cause?: unknown }) {
    super(ENGINE_ERROR_CODES.START_TIMEOUT, `engine not warm within its start-up budget of ${budgetMs} ms`, options);
  }
}

export class EngineExitedError extends SynktiError {
  readonly exitCode: number | null;
  readonly signal: string | null;
  constructor(exitCode: number | null, signal: string | null, options?: { cause?: unknown }) {
    super(ENGINE_ERROR_CODES.EXITED, `engine exited (code ${exitCode}, signal ${signal})`, options);
    this.exitCode = exitCode;
    this.signal = signal;
  }
}

export class EngineUnhealthyError extends SynktiError {
  constructor(message = 'engine failed its health probe', options?: { cause?: unknown }) {
    super(ENGINE_ERROR_CODES.UNHEALTHY, message, options);
  }
}

/** Thrown by beginRequest() when the engine is not warm (loading, draining, failed, …). */
export class EngineNotReadyError extends SynktiError {
  readonly state: string;
  constructor(state: string) {
    super(ENGINE_ERROR_CODES.NOT_READY, `engine is ${state}, not accepting requests`);
    this.state = state;
  }
}

export class DockerFailedError extends SynktiError {
  readonly args: readonly string[];
  constructor(args: readonly string[], detail: string, options?: { cause?: unknown }) {
    super(ENGINE_ERROR_CODES.DOCKER_FAILED, `docker ${args[0] ?? ''} failed: ${detail}`, options);
    this.args = args;
  }
}

export class EngineSpawnError extends SynktiError {
  constructor(command: string, options?: { cause?: unknown }) {
    super(ENGINE_ERROR_CODES.SPAWN_FAILED, `could not start engine command ${command}`, options);
  }
}

export class EngineConfigError extends SynktiError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(ENGINE_ERROR_CODES.BAD_CONFIG, message, options);
  }
}

export class MetricsParseError extends SynktiError {
  readonly line: number;
  constructor(line: number, detail: string) {
    super(ENGINE_ERROR_CODES.METRICS_PARSE, `metrics line ${line}: ${detail}`);
    this.line = line;
  }
}
