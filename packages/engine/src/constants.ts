/**
 * Engine supervisor defaults. Every number carries its unit in the name and one line of why;
 * the zod schema in config.ts points at these.
 */

/**
 * vLLM's OpenAI server image; its entrypoint is `vllm serve`. A pinned release, never `latest`:
 * a fleet whose nodes pull at different times would otherwise run different vLLM versions
 * (request fields and metric names change between releases). Bump it deliberately.
 */
export const DEFAULT_DOCKER_IMAGE = 'vllm/vllm-openai:v0.12.0';
/**
 * When `docker pull` runs: `if-missing` (default) pulls only when the image is not on disk (an
 * AMI that pre-pulled it never touches the registry, whose anonymous limit is 10 pulls an hour
 * per IP); `always` pulls on every start (a failed pull with the image present is a warning);
 * `never` trusts the disk.
 */
export const PULL_POLICIES = ['never', 'if-missing', 'always'] as const;
export type PullPolicy = (typeof PULL_POLICIES)[number];
export const DEFAULT_PULL_POLICY: PullPolicy = 'if-missing';
/** The port vLLM listens on inside the container; only the host side is configurable. */
export const CONTAINER_PORT = 8000;
/** Where vLLM's image keeps the Hugging Face cache, so weights survive container restarts. */
export const CONTAINER_HF_CACHE_DIR = '/root/.cache/huggingface';
/** Environment passed by name only (`-e NAME`), so secrets never appear in `ps` output. */
export const DEFAULT_PASS_ENV = ['HF_TOKEN'] as const;
/** Prefix of the container name; a stable name lets a restarted agent find its stale container. */
export const CONTAINER_NAME_PREFIX = 'synkti-engine-';
/** Host address the engine is published on: loopback only, the gateway is the front door. */
export const ENGINE_HOST = '127.0.0.1';

/** Budget from launch to warm: a 70B model can take over 15 min to load, so 20 min. */
export const STARTUP_BUDGET_MS = 20 * 60_000;
/** Budget for `docker pull`: a vLLM image is ~10 GB; slow registries need time, not forever. */
export const PULL_TIMEOUT_MS = 30 * 60_000;
/** How often to probe readiness while loading: cheap, and warm is noticed within a second. */
export const READINESS_INTERVAL_MS = 1_000;
/** Health probe and /metrics scrape interval once warm: one gossip heartbeat. */
export const HEALTH_INTERVAL_MS = 1_000;
/**
 * Timeout of one probe request. An idle engine answers /health in milliseconds, but vLLM's
 * shares its event loop with request handling and can take seconds when saturated.
 */
export const PROBE_TIMEOUT_MS = 5_000;
/**
 * Consecutive failed health probes (refused, non-200 or timed out) before the engine is declared
 * failed: one slow answer under load must not cost every in-flight request.
 */
export const UNHEALTHY_THRESHOLD = 3;
/**
 * How long the engine may make no progress (its token or decode counter flat) while requests
 * run or wait before it counts as hung. vLLM's /health stays 200 on a deadlocked engine, so
 * this is the only check that catches it. A long prefill moves vLLM's prompt-token counter, so
 * a minute is far beyond any healthy step.
 */
export const STALL_TIMEOUT_MS = 60_000;
/** Longest engine version string kept (it is gossiped). */
export const MAX_VERSION_CHARS = 64;
/** Timeout of the optional warm-up completion: the first request compiles kernels. */
export const WARMUP_TIMEOUT_MS = 60_000;

/** First restart delay after a failure: quick enough that a one-off crash costs a second. */
export const RESTART_BACKOFF_INITIAL_MS = 1_000;
/** Restart delay cap: a broken engine is retried once a minute, never abandoned. */
export const RESTART_BACKOFF_MAX_MS = 60_000;
/** Jitter as a fraction of the delay (+/-): spreads restarts of a fleet hit by the same fault. */
export const RESTART_JITTER_RATIO = 0.2;
/** Failures within the crash-loop window that flag a crash loop (and hold backoff at the cap). */
export const CRASH_LOOP_FAILURES = 5;
/** Window in which crash-loop failures are counted. */
export const CRASH_LOOP_WINDOW_MS = 60_000;
/** Warm this long and the failure history (backoff exponent, crash loop) is forgiven. */
export const STABLE_AFTER_MS = 60_000;
/** Most failure times remembered: enough for the crash-loop rule, bounded. */
export const MAX_FAILURE_HISTORY = 32;

/** Grace between SIGTERM (or `docker stop`) and SIGKILL: vLLM frees GPU memory in seconds. */
export const STOP_GRACE_MS = 10_000;
/** Added to vLLM's own `--shutdown-timeout` for the stop grace: time to free the GPU after the drain. */
export const SHUTDOWN_GRACE_MARGIN_MS = 10_000;
/** Default drain budget when the caller gives none: long generations finish within this. */
export const DRAIN_TIMEOUT_MS = 30_000;
/** Concurrent sequences assumed when not configured: vLLM's default max-num-seqs. */
export const DEFAULT_CAPACITY = 256;

/** Longest engine output line logged; longer lines are cut so one line cannot flood the log. */
export const MAX_LOG_LINE_CHARS = 4_096;
/** Largest /metrics body parsed; vLLM's is ~50 KB, anything far larger is not vLLM. */
export const MAX_METRICS_BYTES = 4 * 1024 * 1024;
/** Most transition listeners; a leak shows up as an error, not as slow growth. */
export const MAX_TRANSITION_LISTENERS = 64;
/** Extra time after `docker stop -t` before the `docker run` client is killed: the daemon needs a moment. */
export const DOCKER_STOP_MARGIN_MS = 5_000;
/** Timeout of quick docker commands (ps, rm, stop excluded): a healthy daemon answers in < 1 s. */
export const DOCKER_COMMAND_TIMEOUT_MS = 30_000;
/** Most output kept from one docker command, for error messages. */
export const MAX_DOCKER_OUTPUT_CHARS = 64 * 1024;

/** The llama.cpp server binary when none is configured: found on PATH. */
export const DEFAULT_LLAMA_SERVER = 'llama-server';
/** vLLM's program and subcommand when the process runtime is given no command: found on PATH. */
export const DEFAULT_VLLM_COMMAND: readonly string[] = ['vllm', 'serve'];
/** Where a llama.cpp container sees the directory of its GGUF file (mounted read-only). */
export const LLAMA_CONTAINER_MODEL_DIR = '/models';
/** The address an engine listens on inside its container: docker's port proxy reaches it there. */
export const CONTAINER_HOST = '0.0.0.0';
/**
 * Context tokens per llama.cpp slot (prompt + answer). llama-server splits `--ctx-size` evenly
 * over `--parallel` slots, so the supervisor passes capacity × this, not a total that shrinks
 * as slots are added.
 */
export const LLAMA_CONTEXT_PER_SLOT_TOKENS = 4_096;
/** llama.cpp's slot count when none is configured: the server's own automatic default is 4. */
export const LLAMA_DEFAULT_CAPACITY = 4;
