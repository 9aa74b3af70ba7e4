import { DEAD_AFTER_MS, DEFAULT_AFFINITY_LOAD_FACTOR, FORGET_AFTER_MS, HEARTBEAT_INTERVAL_MS, SUSPECT_AFTER_MS } from '@synkti/fleet';
import { IMDS_POLL_INTERVAL_MS } from '@synkti/cloud';
import { engineDefaults } from '@synkti/engine';
import { LAUNCH_TIMEOUT_MS, REBALANCE_WINDOW_MS } from '@synkti/fleet';
import { MAX_FORWARD_STREAMS, multiaddrProblem } from '@synkti/mesh';
import { DEFAULT_MAX_BODY_BYTES, FIRST_TOKEN_TIMEOUT_MS, MAX_IN_FLIGHT, MIGRATION_LIMIT, PEER_INHIBIT_MS, RESPONSE_TIMEOUT_MS, STREAM_STALL_TIMEOUT_MS } from '@synkti/gateway';
import { MAX_REQUEST_BODY_BYTES } from '@synkti/protocol';
import { z } from 'zod';

/**
 * Every configuration key, once: its schema (with the default), and what it means. Flags
 * (`--kebab-case`), environment (`SYNKTI_UPPER_SNAKE`) and the config file (camelCase JSON keys)
 * are all derived from this table, and so is docs/configuration.md (a test keeps it in sync).
 */
export interface ConfigKey<S extends z.ZodType = z.ZodType> {
  schema: S;
  describe: string;
  /** Shown in docs instead of the literal default when the default is computed. */
  defaultText?: string;
  /** The key holds a list: flags and environment take comma-separated values. */
  list?: boolean;
}

const port = z.coerce.number().int().min(0).max(65_535);
const positiveMs = z.coerce.number().int().min(1).max(24 * 3_600_000);
const list = z.array(z.string().min(1));
/**
 * API and ops keys: what a Bearer token may hold (RFC 6750's token68, which Hono's bearer-auth
 * checks), so a key that could never be sent is refused at start, not at every request.
 */
const bearerKeys = z.array(z.string().regex(/^[A-Za-z0-9._~+/-]+=*$/, 'a key may hold only letters, digits and . _ ~ + / - (then = padding): what a Bearer token can carry'));
/** true/false/1/0 from flags and environment; z.coerce.boolean would read "false" as true. */
const booleanFlag = z.preprocess((v) => (v === 'true' || v === '1' ? true : v === 'false' || v === '0' ? false : v), z.boolean());
const multiaddrs = z.array(
  z.string().superRefine((text, ctx) => {
    const problem = multiaddrProblem(text);
    if (problem !== null) ctx.addIssue({ code: 'custom', message: `"${text}" is not a multiaddr (${problem})` });
  }),
);

const ENGINE_CONTEXT_PER_SLOT = engineDefaults.LLAMA_CONTEXT_PER_SLOT_TOKENS;

function key<S extends z.ZodType>(schema: S, describe: string, extra: Omit<Partial<ConfigKey>, 'schema'> = {}): ConfigKey<S> {
  return { schema, describe, ...extra };
}

export const configKeys = {
  fleet: key(z.string().regex(/^[a-z0-9][a-z0-9-]{0,62}$/, 'lowercase letters, digits and dashes, at most 63').default('default'), 'Fleet name; agents only talk to agents of the same fleet (it names the gossip topic).'),
  stateDir: key(z.string().min(1).default('.synkti/agent'), 'Directory for the peer key and local state; keep it across restarts to keep the peer ID.'),
  swarmKeyFile: key(z.string().min(1).optional(), 'Pre-shared swarm key file (create one with `synkti keygen`); without the key no node can connect.', { defaultText: '<stateDir>/swarm.key' }),
  swarmKeySsmParameter: key(z.string().min(1).max(2048).optional(), 'Name or ARN of an SSM Parameter Store SecureString holding the swarm key: fetched at start (the instance role needs ssm:GetParameter and kms:Decrypt) and written to swarmKeyFile with mode 0600.'),
  listen: key(multiaddrs.default(['/ip4/0.0.0.0/tcp/4001']), 'libp2p listen multiaddrs.', { list: true }),
  announce: key(multiaddrs.default([]), 'Multiaddrs to announce instead of the listen addresses (e.g. a public IP behind NAT).', { list: true }),
  bootstrap: key(multiaddrs.default([]), 'Multiaddrs of peers to join through (with /p2p/<peer-id>); retried until one answers.', { list: true }),
  ipColocationWhitelist: key(list.default([]), 'IPs shared by many agents (one NAT) exempt from gossipsub IP-colocation scoring; loopback is always exempt.', { list: true }),
  heartbeatMs: key(positiveMs.default(HEARTBEAT_INTERVAL_MS), 'How often the agent gossips its state.'),
  suspectAfterMs: key(positiveMs.default(SUSPECT_AFTER_MS), 'Silence after which a peer is suspect (not routed to).'),
  deadAfterMs: key(positiveMs.default(DEAD_AFTER_MS), 'Silence after which a peer is dead (its capacity is replaced).'),
  forgetAfterMs: key(positiveMs.default(FORGET_AFTER_MS), 'How long a dead peer stays listed before it is forgotten.'),
  apiHost: key(z.string().min(1).default('0.0.0.0'), 'Address the HTTP API (OpenAI endpoints, /fleet, /metrics, dashboard) binds to.'),
  apiPort: key(port.default(8080), 'Port of the HTTP API; 0 picks a free port.'),
  apiUrl: key(z.string().url().optional(), 'URL peers and users reach this agent at, gossiped to the fleet.', { defaultText: 'http://<apiHost>:<apiPort>' }),
  apiKeys: key(bearerKeys.default([]), 'API keys clients must send as `Authorization: Bearer <key>`; empty means no auth (keep the API on a private network then).', { list: true }),
  opsKeys: key(bearerKeys.default([]), 'Keys that may read the ops surface (`/fleet`, `/metrics`) besides the API keys; with any key configured those need one (`/healthz` and `/readyz` stay open). The dashboard page asks for it as /#key=<key>.', { list: true }),
  keyRequestsPerSecond: key(z.coerce.number().min(0).max(100_000).default(0), 'Requests per second one API key may start on this agent (429 + Retry-After beyond); 0: no limit. Each agent counts on its own: a fleet of N agents lets a key through up to N times this.'),
  keyMaxConcurrent: key(z.coerce.number().int().min(0).max(100_000).default(0), 'Requests one API key may have running at once on this agent (streams count until they end); 0: no limit.'),
  maxInFlight: key(z.coerce.number().int().min(1).max(1_000_000).optional(), 'Client requests this agent serves at once (queued at engines or relayed; a request weighs 1); beyond it new ones get 503 with Retry-After, so an overloaded agent sheds load instead of queueing without bound.', { defaultText: `4 × the engine's capacity, at least ${MAX_IN_FLIGHT}` }),
  maxBodyBytes: key(z.coerce.number().int().min(1024).max(MAX_REQUEST_BODY_BYTES).default(DEFAULT_MAX_BODY_BYTES), 'Largest request body the API accepts, in bytes (413 above it); at most 120 MiB, below what a serving peer takes over the mesh (128 MiB) with room for a continuation, so a body accepted here is never refused there.'),
  affinityLoadFactor: key(z.coerce.number().min(1).max(10).default(DEFAULT_AFFINITY_LOAD_FACTOR), 'Session affinity keeps a session on one peer while its load is under this factor times the mean.'),
  forwardMux: key(booleanFlag.default(true), 'Forward requests to a peer over one long-lived multiplexed stream (/synkti/mux/1.0.0, per-request flow control) instead of a stream per request (/synkti/forward/1.0.0). Both are always served; a peer without mux is reached the old way.'),
  maxForwardStreams: key(z.coerce.number().int().min(1).max(4_096).default(MAX_FORWARD_STREAMS), 'Concurrent forwarded requests accepted per peer connection (per mux stream with forwardMux); more are refused (and retried elsewhere).'),
  migrationLimit: key(z.coerce.number().int().min(0).max(10).default(MIGRATION_LIMIT), 'Times a streamed completion whose serving node is lost mid-stream is continued on another peer (0 turns migration off: the client gets an error event instead).'),
  firstTokenTimeoutMs: key(positiveMs.default(FIRST_TOKEN_TIMEOUT_MS), "An attempt of a streamed request that has not produced its first token in this time is abandoned and tried on another peer; covers a long prompt's prefill behind a full queue."),
  responseTimeoutMs: key(positiveMs.default(RESPONSE_TIMEOUT_MS), 'A non-streamed request whose response has not started in this time (the engine answers when the whole generation is done) is abandoned and tried on another peer.'),
  streamStallTimeoutMs: key(positiveMs.default(STREAM_STALL_TIMEOUT_MS), 'A running stream that sends nothing for this long is taken for lost and continued on another peer (a frozen node keeps its connections open).'),
  peerInhibitMs: key(positiveMs.default(PEER_INHIBIT_MS), 'After a peer fails a request, this agent sends it no new request for this long (unless no other peer can serve).'),
  drainTimeoutMs: key(positiveMs.default(30_000), 'On SIGTERM: how long requests served here may run before their streams are handed over to other peers (which continue them).'),
  drainRelayTimeoutMs: key(positiveMs.default(60_000), "On SIGTERM: how long this agent keeps relaying its own clients' streams (served by peers after the hand-over) before it exits; counted from the signal, at least drainTimeoutMs. Keep the service manager's stop timeout above it."),
  engineRuntime: key(z.enum(['docker', 'process', 'fake', 'none']).default('docker'), 'How the engine runs: `docker` (vllm/vllm-openai, or a llama.cpp server image), `process` (any OpenAI-compatible command; without engineCommand the agent runs `vllm serve` or `llama-server` itself), `fake` (the emulated engine, for local mode and tests) or `none` (a gateway-only agent).'),
  engineKind: key(z.enum(['vllm', 'llama.cpp']).default('vllm'), "The engine behind the runtime: `vllm`, or `llama.cpp` (llama.cpp's `llama-server`, as a process or in its server image: the agent builds its command line — model, `--alias`, port, `--parallel` = engineCapacity, `--ctx-size`, `--metrics` — and reads load from `llamacpp:` metrics). See docs/engine.md."),
  engineModel: key(z.string().min(1).max(256).optional(), 'The model the engine loads (e.g. Qwen/Qwen3-8B; for llama.cpp the path of a GGUF file); required unless engineRuntime is `fake` or `none`.', { defaultText: 'synkti/fake-model with the fake runtime' }),
  engineServedModelName: key(z.string().min(1).max(256).optional(), 'The model name clients ask for; defaults to engineModel.'),
  enginePort: key(port.default(8000), 'Port of the engine on 127.0.0.1.'),
  engineCommand: key(z.string().min(1).optional(), 'Process runtime: the engine command line, split on whitespace (no shell), e.g. `vllm serve Qwen/Qwen3-8B --port 8000`, run as given (a `vllm serve` line without `--max-num-seqs` gets it = the capacity). Unset with vLLM: the agent runs `vllm serve <engineModel> --served-model-name … --host 127.0.0.1 --port <enginePort> --max-num-seqs <capacity>` plus engineArgs. With engineKind `llama.cpp`: only the program (default `llama-server` on PATH; `node scripts/install-llama.mjs` builds one), the agent adds the flags.'),
  engineImage: key(z.string().min(1).optional(), 'Docker runtime: the engine image. For vLLM the default is a pinned release, so every node runs the same vLLM (never `latest`); for llama.cpp it is required (a pinned server image such as `ghcr.io/ggml-org/llama.cpp:server-cuda-b<build>`).', { defaultText: engineDefaults.DEFAULT_DOCKER_IMAGE }),
  enginePullPolicy: key(z.enum(engineDefaults.PULL_POLICIES).default(engineDefaults.DEFAULT_PULL_POLICY), "Docker runtime: when to `docker pull` the image at start: `if-missing` (only when not on disk: an AMI that pre-pulled it never meets Docker Hub's pull limit), `always` (a failed pull with the image on disk is a warning), `never`."),
  engineStallTimeoutMs: key(z.coerce.number().int().min(0).default(engineDefaults.STALL_TIMEOUT_MS), "An engine whose progress counter (vLLM's prompt and generation tokens) stays flat this long while requests run or wait is hung and is restarted; its /health may still say 200. 0 turns the check off."),
  engineArgs: key(list.default([]), "Extra engine arguments, after the agent's own (vLLM: appended to `vllm serve` in the container, or to the `vllm serve` line the agent builds; llama.cpp: appended to llama-server's command line, as a process or in its image; fake runtime: fake-vllm flags).", { list: true }),
  engineGpus: key(z.string().min(1).default('all'), "Docker runtime: `docker run --gpus` value (`all`, `device=0,1`, …); `none` leaves the flag out, for a CPU image or a host without the NVIDIA runtime."),
  engineHfCacheDir: key(z.string().min(1).optional(), 'Docker runtime: host directory mounted as the Hugging Face cache.', { defaultText: '~/.cache/huggingface' }),
  engineCapacity: key(z.coerce.number().int().min(1).max(1_000_000).optional(), "Concurrent sequences the engine runs (vLLM's max-num-seqs; llama.cpp's `--parallel` slots), used to normalise load.", { defaultText: '256 (vllm), 4 (llama.cpp)' }),
  engineContextPerSlot: key(z.coerce.number().int().min(64).max(1_048_576).default(ENGINE_CONTEXT_PER_SLOT), "llama.cpp: context tokens per slot (prompt + answer); llama-server gets `--ctx-size` = engineCapacity × this, since it splits the context evenly over its slots."),
  engineStartupBudgetMs: key(positiveMs.default(20 * 60_000), 'How long the engine may take to pull and load before start-up counts as failed (large models take over 15 min).'),
  provider: key(z.enum(['none', 'local', 'ec2']).default('none'), 'Where replacement capacity comes from: `ec2`, `local` (agent processes on this machine, for `synkti local`) or `none` (this agent never launches).'),
  targetSize: key(z.coerce.number().int().min(0).max(100_000).default(0), 'Nodes the fleet should have; lost capacity below it is replaced. 0 disables replacement. With autoscale on, the size the fleet starts from.'),
  autoscale: key(booleanFlag.default(false), 'Size the fleet by load between minNodes and maxNodes: the launcher decides from the gossiped load, the decision travels in gossip, new slots are launched and extra nodes drain (streams handed over) and terminate. Needs targetSize > 0 and a provider.'),
  minNodes: key(z.coerce.number().int().min(1).max(100_000).default(1), 'Autoscale: never fewer nodes than this.'),
  maxNodes: key(z.coerce.number().int().min(1).max(100_000).default(16), 'Autoscale: never more nodes than this.'),
  targetLoadPerNode: key(z.coerce.number().min(0).max(1_000_000).default(0), "Autoscale: sequences (vLLM's running + waiting) one node should carry on average; 0 takes targetUtilization of the nodes' gossiped capacity."),
  targetUtilization: key(z.coerce.number().gt(0).max(1).default(0.75), 'Autoscale, when targetLoadPerNode is 0: the share of a node\'s capacity (its max-num-seqs) it should carry on average.'),
  kvCacheCeiling: key(z.coerce.number().gt(0).max(1).default(0.9), 'Autoscale: a KV cache this full on the fullest node for the whole scale-out window adds a node, whatever the sequence count.'),
  scaleOutWindowMs: key(positiveMs.default(60_000), 'Autoscale: demand must stay above the target for this long before the fleet grows.'),
  scaleInWindowMs: key(positiveMs.default(10 * 60_000), 'Autoscale: demand must stay low for this long before the fleet shrinks (one node at a time).'),
  scaleOutCooldownMs: key(positiveMs.default(3 * 60_000), 'Autoscale: no growth within this time of the last decision (a cold start takes minutes).'),
  scaleInCooldownMs: key(positiveMs.default(10 * 60_000), 'Autoscale: no shrinking within this time of the last decision.'),
  placements: key(z.array(z.string().regex(/^[^@\s]+@[^@\s]+(@on-demand)?$/, 'expected instanceType@subnet or instanceType@subnet@on-demand')).default([]), 'Where replacements go, tried in this order: `instanceType@subnet`, `@on-demand` appended for an on-demand fallback.', { list: true }),
  fleetEpoch: key(z.string().regex(/^[A-Za-z0-9._-]{1,64}$/, 'letters, digits, dots, dashes and underscores, at most 64').optional(), 'Part of every launch token, so that a fleet recreated under the same name never gets the old fleet\'s instances back from EC2\'s token memory. Give every agent of one deployment the same value, a new one per deployment.', { defaultText: 'the EC2 launch template (its ID or name); none for the local provider' }),
  placementOrder: key(z.enum(['spread', 'price']).default('spread'), 'How each slot walks the placements: `spread` starts every slot in another spot pool; `price` (EC2) goes to the cheapest spot pools first — prices in effect at the start of each hour, so every peer derives the same order — spreading slots over the pools within 10 % of the cheapest. On-demand placements always come last.'),
  spotPricePerHour: key(z.coerce.number().min(0).max(10_000).default(0), "A spot node's price per hour (USD) for the dashboard's cost chart and synkti_fleet_cost_per_hour; 0: unknown (spot nodes are then billed at the on-demand price)."),
  onDemandPricePerHour: key(z.coerce.number().min(0).max(10_000).default(0), "An on-demand node's price per hour (USD), the baseline of the savings shown; 0: unknown (no cost chart, no cost metric)."),
  spotReturnAfterMs: key(z.coerce.number().int().min(0).default(15 * 60_000), 'An on-demand node the fleet launched as a fallback (spot had no capacity) asks this long after start to be replaced by spot: the launcher tries the spot placements only, and once a spot replacement is warm this node drains (streams handed over) and terminates. 0 disables it. A hand-launched on-demand anchor (no synkti:token tag) is never replaced.'),
  launchTimeoutMs: key(positiveMs.default(LAUNCH_TIMEOUT_MS), 'A launch not joined within this time is retried with the next generation (covers boot, pull and model load).'),
  slot: key(z.string().min(1).max(64).optional(), "This node's fleet slot (the `synkti:slot` tag of a launched instance)."),
  instanceId: key(z.string().min(1).max(128).optional(), "This node's instance ID (read from the instance metadata on EC2)."),
  instanceType: key(z.string().min(1).max(64).optional(), "This node's instance type (read from the instance metadata on EC2)."),
  zone: key(z.string().min(1).max(64).optional(), "This node's availability zone (read from the instance metadata on EC2)."),
  lifecycle: key(z.enum(['spot', 'on-demand', 'unknown']).default('unknown'), 'Whether this node is spot or on-demand (read from the instance metadata on EC2).'),
  localFleetDir: key(z.string().min(1).optional(), 'Local provider: the `synkti local` fleet directory new agents are started in.'),
  imdsEndpoint: key(z.string().url().optional(), 'Instance metadata endpoint watched for spot interruption notices (IMDSv2).', { defaultText: 'http://169.254.169.254 with the ec2 provider, none otherwise' }),
  imdsPollMs: key(positiveMs.default(IMDS_POLL_INTERVAL_MS), 'How often the metadata endpoint is polled for notices (AWS Node Termination Handler also polls every 2 s).'),
  emulateImdsPort: key(port.optional(), 'Local mode: serve an emulated metadata endpoint on this port (127.0.0.1) and watch it, so `synkti local interrupt` exercises the real watcher.'),
  drainMarginMs: key(positiveMs.default(5_000), 'On an interruption notice, in-flight requests may run until the deadline minus this margin; then the engine stops.'),
  rebalanceWindowMs: key(positiveMs.default(REBALANCE_WINDOW_MS), 'After a rebalance recommendation, how long to wait for an interruption before a surplus node drains.'),
  ec2Region: key(z.string().min(1).optional(), 'EC2 provider: the region (default: from the SDK chain / instance metadata).'),
  ec2LaunchTemplate: key(z.string().min(1).optional(), 'EC2 provider: launch template ID (lt-…) or name used for replacements.'),
  ec2LaunchTemplateVersion: key(z.string().min(1).default('$Default'), 'EC2 provider: launch template version.'),
  ec2Endpoint: key(z.string().url().optional(), 'EC2 provider: API endpoint override (tests, VPC endpoints).'),
  testAssumeLauncher: key(booleanFlag.default(false), 'Test hook: act as the launcher even when not the lowest peer ID (to prove duelling launchers launch once). Never in production.'),
  logLevel: key(z.enum(['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent']).default('info'), 'Log level.'),
  logFormat: key(z.enum(['auto', 'json', 'pretty']).default('auto'), 'Log format: JSON, pretty, or auto (pretty on a terminal, JSON otherwise).'),
} satisfies Record<string, ConfigKey>;

export type ConfigKeyName = keyof typeof configKeys;
