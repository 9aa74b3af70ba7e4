export { createFakeVllm, FakeVllm, type FakeVllmAddress, type FakeVllmEvents } from './fake-vllm.js';
export { type FakeVllmOptions, type FakeVllmConfig, type LoadMode, LOAD_MODES, optionsSchema } from './options.js';
export { type Faults, type FaultsPatch, faultsPatchSchema, NO_FAULTS } from './faults.js';
export type { FakeVllmStats, FakeVllmPhase } from './stats.js';
export { FakeVllmError, type FakeVllmErrorCode, HttpError, type OpenAiErrorType } from './errors.js';
export * as defaults from './constants.js';
