export { engineSupervisor, type EngineSupervisor, type EngineSupervisorInit, type EngineComponents, type EngineSnapshot } from './supervisor.js';
export {
  engineMachine,
  type EngineMachine,
  type MachineOptions,
  type MachineState,
  type EngineEvent,
  type Decision,
  type Transition,
  type StepResult,
  type ColdStartPhases,
  type Failure,
} from './machine.js';
export { backoffDelayMs, type BackoffOptions } from './backoff.js';
export type { EngineRuntime, EngineProcess, EngineExit } from './runtime.js';
export { processRuntime, type ProcessRuntimeInit, type RuntimeComponents } from './process-runtime.js';
export { dockerRuntime, type DockerRuntimeInit } from './docker-runtime.js';
export {
  dockerRunArgs,
  dockerPullArgs,
  dockerImagePresentArgs,
  dockerFindArgs,
  dockerRemoveArgs,
  dockerStopArgs,
  type DockerRunSpec,
} from './docker-args.js';
export { createRuntime } from './runtime-factory.js';
export { engineConfigSchema, parseEngineConfig, type EngineConfig, type EngineConfigInput } from './config.js';
export { parsePrometheusText, type Sample } from './prometheus.js';
export {
  ENGINE_KINDS,
  LLAMA_CPP_COUNTER_METRICS,
  LLAMA_CPP_LOAD_METRICS,
  VLLM_COUNTER_METRICS,
  VLLM_LOAD_METRICS,
  counterMetricsOf,
  llamaServerArgv,
  loadMetricsOf,
  type CounterMetricNames,
  type EngineKind,
  type LlamaServerSpec,
  type LoadMetricNames,
} from './engine-kind.js';
export {
  countersFromSamples,
  loadFromMetricsText,
  loadFromSamples,
  metricsFromText,
  UNKNOWN_COUNTERS,
  UNKNOWN_LOAD,
  UNKNOWN_METRICS,
  VLLM_METRICS,
  type EngineCounters,
  type EngineLoad,
  type EngineMetrics,
} from './load.js';
export { engineVersion, probeHealth, listModels, scrapeLoad, scrapeMetrics, warmupCompletion, type FetchFn, type ProbeResult } from './probe.js';
export { flagValue, isVllmCommandLine, stopGraceFor, vllmServeArgv, withMaxNumSeqs } from './vllm-args.js';
export {
  ENGINE_ERROR_CODES,
  EngineStartTimeoutError,
  EngineExitedError,
  EngineUnhealthyError,
  EngineNotReadyError,
  DockerFailedError,
  EngineSpawnError,
  EngineConfigError,
  MetricsParseError,
} from './errors.js';
export * as engineDefaults from './constants.js';
