export { createFakeVllm, FakeVllm, type FakeVllmAddress, type FakeVllmEvents } from './fake-vllm.js';
export { type FakeVllmOptions, type FakeVllmConfig, type LoadMode, LOAD_MODES, optionsSchema } from './options.js';
export { type Faults, type FaultsPatch, faultsPatchSchema, NO_FAULTS } from './faults.js';
export type { FakeVllmStats, FakeVllmPhase } from './stats.js';
export { ENGINE_DEAD_MESSAGE, FakeVllmError, type FakeVllmErrorCode, HttpError, type OpenAiErrorType } from './errors.js';
export { expectedCompletion, type ExpectedChoice } from './expected.js';
export { decodeTokenIds, encodeText, generateText, WORD_ID_BASE } from './text.js';
export * as defaults from './constants.js';
