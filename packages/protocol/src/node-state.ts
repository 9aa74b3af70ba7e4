import { z } from 'zod';
import { MAX_ADDRS_PER_NODE, MAX_BEAT_MS, MAX_FENCED_PER_NODE, MAX_LAUNCHES_PER_NODE, MAX_MODELS_PER_NODE, MAX_SUSPECTS_PER_NODE, PROTOCOL_VERSION } from './constants.js';

export const ENGINE_STATES = ['stopped', 'pulling', 'starting', 'loading', 'warm', 'draining', 'failed'] as const;
export type EngineStateName = (typeof ENGINE_STATES)[number];

export const INTERRUPTION_KINDS = ['stop', 'terminate', 'hibernate', 'rebalance'] as const;
export type InterruptionKind = (typeof INTERRUPTION_KINDS)[number];

const shortText = z.string().min(1).max(256);
const count = z.number().int().min(0).max(1_000_000);

export const providerInfoSchema = z.object({
  /** `ec2`, `local`, `static` (a box someone runs by hand) … */
  kind: z.string().min(1).max(32),
  instanceId: z.string().max(128).nullable(),
  instanceType: z.string().max(64).nullable(),
  zone: z.string().max(64).nullable(),
  lifecycle: z.enum(['spot', 'on-demand', 'unknown']),
  /** The fleet slot this node fills, when launched by Synkti. */
  slot: z.string().max(64).nullable(),
});
export type ProviderInfo = z.infer<typeof providerInfoSchema>;

export const engineInfoSchema = z.object({
  state: z.enum(ENGINE_STATES),
  models: z.array(shortText).max(MAX_MODELS_PER_NODE),
  /** Milliseconds spent in `state` when the message was sent. */
  inStateMs: z.number().int().min(0),
  /**
   * The engine's own version (vLLM's /version), once warm: shows a fleet running mixed engine
   * versions. Absent from older agents and from engines without /version.
   */
  version: z.string().min(1).max(64).optional(),
});
export type EngineInfo = z.infer<typeof engineInfoSchema>;

export const loadInfoSchema = z.object({
  running: count.nullable(),
  waiting: count.nullable(),
  /** Fraction 0..1 of the KV cache in use; null when the engine did not say. */
  kvCacheUsage: z.number().min(0).max(1).nullable(),
  /** Requests this agent is serving on its own engine right now. */
  inFlight: count,
  /** Concurrent sequences the engine can run (its max-num-seqs). */
  capacity: z.number().int().min(1).max(1_000_000),
});
export type LoadInfo = z.infer<typeof loadInfoSchema>;

export const interruptionSchema = z.object({
  kind: z.enum(INTERRUPTION_KINDS),
  /** Epoch ms when the cloud takes the node; null for a rebalance recommendation. */
  deadline: z.number().int().nullable(),
  noticedAt: z.number().int(),
  /**
   * Where it came from: the cloud (absent), or `spot-return` — an on-demand fallback asking the
   * fleet for a spot replacement, which is walked over spot placements only.
   */
  cause: z.enum(['spot-return']).optional(),
});
export type Interruption = z.infer<typeof interruptionSchema>;

export const launchInFlightSchema = z.object({
  /** Idempotency token of the first placement attempt. */
  token: z.string().min(1).max(64),
  slot: z.string().min(1).max(64),
  startedAt: z.number().int(),
  /** Attempt number at (slot, replaces): peers derive the next one from what is gossiped. */
  generation: z.number().int().min(0).max(1_000_000),
  /** The instance this launch replaces; null for a first launch into the slot. */
  replaces: z.string().max(128).nullable(),
  placementIndex: z.number().int().min(0).max(1_000),
  /**
   * When the launcher's placement walk returned with an instance (epoch ms): the provider's
   * listing lag is measured from here, never from `startedAt` (a walk slowed by throttling
   * must not read as a failed launch). Absent while the walk runs.
   */
  returnedAt: z.number().int().optional(),
  /** The instance the walk launched, once it returned: matched against the provider's listing by ID too. */
  instanceId: z.string().min(1).max(64).optional(),
});
export type LaunchInFlight = z.infer<typeof launchInFlightSchema>;

/**
 * A fleet size decided by load (autoscaling): made by the launcher, gossiped in its state, and
 * adopted by every peer that sees a higher generation, so a new launcher after a hand-over starts
 * from the same target.
 */
export const scaleDecisionSchema = z.object({
  target: z.number().int().min(0).max(100_000),
  /** One more than the decision it replaces: the highest generation in view wins. */
  generation: z.number().int().min(0).max(1_000_000_000),
  /** Epoch ms of the decision: cooldowns run from it. */
  decidedAt: z.number().int().min(0),
  reason: z.string().max(64),
});
export type ScaleDecision = z.infer<typeof scaleDecisionSchema>;

/**
 * "I suspect this peer, whose newest state I have is (incarnation, seq)": gossiped so that every
 * view stops routing to a peer one view lost, and refuted by the suspect itself with any newer
 * state (SWIM's incarnation rule on our (incarnation, seq) version).
 */
export const suspicionSchema = z.object({
  peerId: z.string().min(1).max(128),
  incarnation: z.number().int().min(0),
  seq: z.number().int().min(0),
});
export type Suspicion = z.infer<typeof suspicionSchema>;

export const nodeStateSchema = z.object({
  v: z.literal(PROTOCOL_VERSION),
  fleet: z.string().min(1).max(64),
  peerId: z.string().min(1).max(128),
  /**
   * Epoch ms when this agent process started. A restarted agent keeps its peer ID but resets
   * `seq`; the larger incarnation tells receivers it is a new life, not an old message.
   */
  incarnation: z.number().int().min(0),
  seq: z.number().int().min(0),
  sentAt: z.number().int().min(0),
  /** True in the last message of an agent that stops cleanly: receivers drop it at once. */
  leaving: z.boolean(),
  draining: z.boolean(),
  provider: providerInfoSchema,
  engine: engineInfoSchema,
  load: loadInfoSchema,
  interruption: interruptionSchema.nullable(),
  launches: z.array(launchInFlightSchema).max(MAX_LAUNCHES_PER_NODE),
  /**
   * Instances this agent terminated lately as dead holders or strays (fencing). Receivers drop
   * any peer on them and ignore its states from then on: a fenced agent's last messages, held
   * in a cut-off network's socket buffers, arrive after a partition heals and must not bring it
   * back. Absent: none (older agents).
   */
  fenced: z.array(z.string().min(1).max(64)).max(MAX_FENCED_PER_NODE).optional(),
  /** The latest fleet-size decision this agent knows (its own, or adopted from the gossip). Absent: none (fixed size, or older agents). */
  scale: scaleDecisionSchema.optional(),
  /**
   * How often this agent sends its state when nothing changes (its keep-alive period, which grows
   * with the fleet so each node receives a bounded number of states per second). Receivers scale
   * the silence that makes it suspect or dead by it. Absent: the receiver's own timings.
   */
  beatMs: z.number().int().min(1).max(MAX_BEAT_MS).optional(),
  /** Peers this agent suspects first-hand, with the version it last had of each. Absent: none (or older agents). */
  suspects: z.array(suspicionSchema).max(MAX_SUSPECTS_PER_NODE).optional(),
  /** libp2p multiaddrs the agent listens on, so peers can dial it directly (not only via bootstrap). */
  addrs: z.array(z.string().min(1).max(256)).max(MAX_ADDRS_PER_NODE),
  /** The agent's OpenAI API base URL, e.g. http://10.0.0.5:8080. */
  apiUrl: z.string().max(256).nullable(),
  agentVersion: z.string().max(64),
});
export type NodeState = z.infer<typeof nodeStateSchema>;
