import type { InterruptionKind } from '@synkti/protocol';

/** What the rule needs to know about one peer (from membership and its gossiped NodeState). */
export interface PeerFacts {
  peerId: string;
  /** Alive in membership terms (state heard within `suspectAfter`). Suspect and dead peers are not alive. */
  alive: boolean;
  /** Dead in membership terms (silent past `deadAfter`), not merely suspect. Absent: false (only a forgotten peer is dead to the rule). */
  dead?: boolean;
  /** The kind of interruption notice it gossips, `rebalance` included; null when none. */
  interrupted: InterruptionKind | null;
  draining: boolean;
  /** The slot it declares (provider tag `synkti:slot`); null for a node started by hand. */
  slot: string | null;
  instanceId: string | null;
  /** The agent's incarnation (start time, epoch ms): orders successive holders of one slot. */
  incarnation: number;
  /**
   * When this agent first heard the peer in this incarnation, on this agent's clock (absent: only
   * the incarnation is known). A new peer's start is judged by the later of the two, so a peer
   * whose clock runs behind is not taken for an old one.
   */
  firstSeenAt?: number;
  /** An on-demand fallback asking for a spot replacement (a rebalance with cause `spot-return`): its slot walks spot placements only. */
  spotReturn?: boolean;
}

/** A launch in flight as gossiped by its launcher (the protocol's LaunchInFlight plus the facts behind its token). */
export interface LaunchRecord {
  token: string;
  slot: string;
  startedAt: number;
  /** Generation of the attempt at (slot, replaces): see `nextGeneration` in plan.ts. */
  generation: number;
  replaces: string | null;
  placementIndex: number;
  /** When the walk returned with an instance; absent while it runs (see LaunchInFlight.returnedAt). */
  returnedAt?: number;
  /** The instance the walk launched, once it returned. */
  instanceId?: string;
  /** Peer ID of the agent gossiping it. */
  launcher: string;
}

/** One place to launch: instance type + subnet (one Availability Zone); `onDemand` when the policy falls back. */
export interface Placement {
  instanceType: string;
  subnet: string;
  onDemand?: boolean;
}

/**
 * One instance as the provider lists it (EC2 DescribeInstances by the fleet tag, or the local
 * ledger): the ground truth of which slots hold a pending or running instance. The cloud
 * package's `FleetInstance` fits as it is; `token` and `launchedAt` are optional extras.
 */
export interface ProviderInstance {
  instanceId: string;
  /** Its `synkti:slot` tag; null for an instance started by hand. */
  slot: string | null;
  state?: 'pending' | 'running';
  /** The `ClientToken` it was launched with (EC2 reports it): matches a launch record to its instance. */
  token?: string | null;
  /** Its launch time (epoch ms, the agent's clock), when the provider reports it. */
  launchedAt?: number | null;
}

/** The last known holder of each slot, kept by an agent beyond membership's forgetting of dead peers. */
export type SlotMemory = ReadonlyMap<string, { instanceId: string; incarnation: number; seenAsPeer?: boolean }>;

export interface ReplacementInput {
  self: string;
  fleet: string;
  target: number;
  /** The agent's view, itself included. Suspect peers appear with `alive: false`. */
  peers: readonly PeerFacts[];
  /** Launch records gossiped by every peer in view (own ones included). */
  launches: readonly LaunchRecord[];
  /** The provider's count of the fleet's pending + running instances (by tag); null when unknown. */
  providerCount: number | null;
  /**
   * The fleet's pending and running instances as the provider lists them, when it can say.
   * Ground truth: the rule never launches into a slot that holds a listed instance it does not
   * know to be lost (see planReplacement). Null or absent: no such check. Deprecated form:
   * bare slot strings only narrow launches made without quorum (the rule before the listing
   * was ground truth); pass the instances (`listInstances` output) instead.
   */
  providerSlots?: readonly ProviderInstance[] | readonly string[] | null;
  /**
   * When `providerSlots` was listed (epoch ms). Give it only when the entries carry `token`:
   * a launch record whose token the provider no longer lists, `PROVIDER_LIST_LAG_MS` after it
   * started, is a failed launch (terminated before joining) and is retried at once.
   */
  providerListedAt?: number | null;
  /** Placements in the one order every peer walks; each gets its own token. */
  placements: readonly Placement[];
  /** Per-slot placements when a policy varies them by slot (e.g. on-demand anchors); same order on every peer. */
  placementsFor?: (slot: string) => readonly Placement[];
  launchTimeoutMs: number;
  now: number;
  /**
   * Spot price per configured placement index, read at one past instant every peer agrees on
   * (the start of the hour): the walk goes to the cheapest pools first (see walkOrder).
   */
  spotPrices?: ReadonlyMap<number, number>;
  /** The deployment's epoch, part of every token (see TokenFacts.epoch). */
  epoch?: string;
  /** Holders remembered after membership forgot them (`rememberHolders`) and from provider listings (`rememberListed`). */
  memory?: SlotMemory;
  /**
   * Instances whose agents said goodbye (drained, leaving on purpose), with when: they terminate
   * themselves, so the rule launches into their slots without fencing them for
   * `DEPARTED_SELF_TERMINATE_MS`; one still listed after that failed to and is fenced.
   */
  departed?: ReadonlyMap<string, number>;
  /** Test hook: act as the launcher even when not the lowest ID (duelling launchers). */
  assumeLauncher?: boolean;
}

export interface LaunchAttempt {
  placementIndex: number;
  placement: Placement;
  token: string;
}

/** A decision as data: launch one instance into `slot`, walking `attempts` in order until one succeeds. */
export interface LaunchDecision {
  kind: 'launch';
  slot: string;
  replaces: string | null;
  generation: number;
  /** Token of the first attempt (placement 0). */
  token: string;
  placementIndex: number;
  attempts: LaunchAttempt[];
  /**
   * Instances to terminate before launching (ascending): listed by the provider in this slot,
   * but dead in a view that has quorum (fencing a frozen or cut-off holder). If terminating
   * fails, do not launch; the next evaluation decides again.
   */
  fence: string[];
}

/**
 * Why nothing is launched. `unknown-instance` (set by the fleet core, not the rule): a launch
 * would first terminate a listed instance no peer in view runs, and it has not been unknown for
 * long enough yet — after a partition heals, the other side's agents are heard within a beat.
 * `new-holder-suspect`: every free slot's holder is suspect and started too recently for a listing
 * to be sure to show it; listed or not, it keeps the slot until it is dead (see planWith).
 */
export type HoldReason = 'self-unknown' | 'no-deficit' | 'not-lowest' | 'no-quorum' | 'provider-full' | 'provider-occupied' | 'new-holder-suspect' | 'no-placements' | 'unknown-instance';

export interface ReplacementPlan {
  launches: LaunchDecision[];
  /** Tokens of this agent's own records it can stop gossiping (joined, superseded or too old). */
  settle: string[];
  /** Why nothing is launched (null when something is). */
  hold: HoldReason | null;
  launcher: string | null;
  /** The next lowest counted peer: it lists the provider as often as the launcher, to take over warm. */
  backup: string | null;
  capacity: number;
  deficit: number;
  quorum: boolean;
  providerConfirms: boolean;
  /** Slots 0..target-1 no counted peer or launch occupies, ascending. */
  freeSlots: string[];
  /**
   * Listed instances nobody runs in slots a live peer holds (see `strayInstances`): the launcher,
   * with a fencing quorum, terminates them so nothing stays billed. Ascending; empty otherwise.
   */
  strays: string[];
}
