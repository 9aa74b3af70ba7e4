/**
 * Defaults of the fake engine, each with the reason for its value. The option schema in
 * `options.ts` points at these; units are in the names.
 */

/** What tests and local mode ask for when they do not care which model answers. */
export const DEFAULT_MODEL = 'synkti/fake-model';
/** Loopback: a test engine must not be reachable from the network. */
export const DEFAULT_HOST = '127.0.0.1';
/** Ephemeral: parallel test files never fight over a port. */
export const DEFAULT_PORT = 0;
/** Load instantly; start-up tests set a load time explicitly. */
export const LOAD_MS = 0;
/**
 * Keep the port shut while loading, as a bare vLLM process does (its API server binds only
 * once the engine is up): a probe sees "connection refused". 'accept-close' is vLLM behind
 * docker's port proxy; '503' is llama.cpp's server (and TGI).
 */
export const LOAD_MODE = 'closed';
/** Prefill time of a short prompt on a small model; small so suites stay fast. */
export const TTFT_MS = 20;
/** Decode speed; high so a 16-token answer takes ~30 ms in tests. */
export const TOKENS_PER_S = 500;
/** vLLM's default max_num_seqs: beyond it requests queue as "waiting". */
export const MAX_NUM_SEQS = 256;
/** Bound on the waiting queue: none, like vLLM (a number makes it answer 503 beyond it). */
export const MAX_WAITING_REQUESTS: number | null = null;
/** Output limit of a legacy completion naming none: vLLM's default. Chat gets the context left. */
export const MAX_TOKENS_DEFAULT = 16;
/** Natural answer length, below the default limit so a plain request ends with 'stop'. */
export const ANSWER_TOKENS = 12;
/** From engine death to exit: vLLM's API server shuts down within seconds of EngineDeadError. */
export const DEATH_EXIT_MS = 2_000;
/** Context window reported by /v1/models and enforced on prompt + max_tokens. */
export const MAX_MODEL_LEN = 4_096;
/** Seed of the error-rate RNG and the text generator: one seed replays a run. */
export const SEED = 0;
/** Rough characters per token of English under BPE tokenizers; prompts are counted with it. */
export const CHARS_PER_TOKEN = 4;
/** Largest request body accepted; an LLM prompt of a 4k context is far below this. */
export const MAX_BODY_BYTES = 4 * 1024 * 1024;
/** vLLM's buckets for vllm:time_to_first_token_seconds, so dashboards read the same. */
export const TTFT_BUCKETS_S = [
  0.001, 0.005, 0.01, 0.02, 0.04, 0.06, 0.08, 0.1, 0.25, 0.5, 0.75, 1.0, 2.5, 5.0, 7.5, 10.0, 20.0, 40.0, 80.0,
  160.0, 640.0, 2560.0,
] as const;
/** The version /version reports (`engineVersion`): clearly not a real vLLM when someone looks. */
export const FAKE_VLLM_VERSION = '0.0.0+synkti.fake';
/** No delay on /health: a saturated vLLM's can take seconds, which tests set explicitly. */
export const HEALTH_DELAY_MS = 0;
/** Prompts the emulated prefix cache remembers: bounds its memory (≤ 256 × maxModelLen ids). */
export const PREFIX_CACHE_PROMPTS = 256;
