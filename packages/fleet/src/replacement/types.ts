import type { InterruptionKind } from '@synkti/protocol';

/** What the rule needs to know about one peer (from membership and its gossiped NodeState). */
export interface PeerFacts {
  peerId: string;
  /** Alive in membership terms (state heard within `suspectAfter`). Suspect and dead peers are not alive. */
  alive: boolean;
  /** The kind of interruption notice it gossips, `rebalance` included; null when none. */
  interrupted: InterruptionKind | null;
  draining: boolean;
  /** The slot it declares (provider tag `synkti:slot`); null for a node started by hand. */
  slot: string | null;
  instanceId: string | null;
  /** The agent's incarnation (start time, epoch ms): orders successive holders of one slot. */
  incarnation: number;
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
  /** Peer ID of the agent gossiping it. */
  launcher: string;
}

/** One place to launch: instance type + subnet (one Availability Zone); `onDemand` when the policy falls back. */
export interface Placement {
  instanceType: string;
  subnet: string;
  onDemand?: boolean;
}

/** The last known holder of each slot, kept by an agent beyond membership's forgetting of dead peers. */
export type SlotMemory = ReadonlyMap<string, { instanceId: string; incarnation: number }>;

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
  /** Slots the provider reports pending or running (tag `synkti:slot`), when it can say: narrows launches made without quorum. */
  providerSlots?: readonly string[] | null;
  /** Placements in the one order every peer walks; each gets its own token. */
  placements: readonly Placement[];
  /** Per-slot placements when a policy varies them by slot (e.g. on-demand anchors); same order on every peer. */
  placementsFor?: (slot: string) => readonly Placement[];
  launchTimeoutMs: number;
  now: number;
  /** Holders remembered after membership forgot them (see `rememberHolders`). */
  memory?: SlotMemory;
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
}

export type HoldReason = 'self-unknown' | 'no-deficit' | 'not-lowest' | 'no-quorum' | 'provider-full' | 'no-placements';

export interface ReplacementPlan {
  launches: LaunchDecision[];
  /** Tokens of this agent's own records it can stop gossiping (joined, superseded or too old). */
  settle: string[];
  /** Why nothing is launched (null when something is). */
  hold: HoldReason | null;
  launcher: string | null;
  capacity: number;
  deficit: number;
  quorum: boolean;
  providerConfirms: boolean;
  /** Slots 0..target-1 no counted peer or launch occupies, ascending. */
  freeSlots: string[];
}
