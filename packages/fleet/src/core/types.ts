import type { HoldReason, LaunchDecision, LaunchRecord, PeerFacts, Placement, ProviderInstance, ReplacementPlan, SlotMemory, SurplusPeer } from '../replacement/index.js';

/** What does not change while an agent runs: the fleet's name, where it launches, its timings. */
export interface CoreConfig {
  fleet: string;
  placements: readonly Placement[];
  /** Per-slot placements when a policy varies them by slot (the simulator's on-demand anchors). */
  placementsFor?: (slot: string) => readonly Placement[];
  launchTimeoutMs: number;
  /**
   * How long after start the agent only listens: every live peer gossips within this window
   * (membership's suspect-after), so a newly joined agent does not plan on a partial view.
   */
  startupGraceMs: number;
  /** A rebalance-recommended node no interruption followed is surplus after this (when the fleet is above target). */
  rebalanceWindowMs: number;
  /**
   * A listed instance no peer in view runs is terminated (fenced before a launch, or reaped as a
   * stray) only once it has been unknown this long — membership's dead-after: a peer just healed
   * from a partition is heard within a beat, and one gone silent would be dead by then.
   */
  unknownGraceMs: number;
  /** The deployment's epoch, part of every launch token. */
  epoch?: string;
  /** False: this agent cannot launch (no provider); it still runs the surplus rule. */
  replaces: boolean;
  /** Test hook: act as the launcher even when not the lowest ID (duelling launchers). */
  assumeLauncher?: boolean;
}

/** What this agent knows of the provider's listing (DescribeInstances by the fleet tag). */
export interface ProviderSnapshot {
  /** Pending + running instances of the fleet; null when unknown. */
  count: number | null;
  instances: readonly ProviderInstance[] | null;
  /** When the listing these instances come from was taken (for a stale one: the last good listing). */
  listedAt: number | null;
  /** True when the last listing failed and this is the last good one, partly re-checked zone by zone. */
  stale: boolean;
}

export interface ListingState {
  /** Null until the provider first answered (or was known to fail). */
  readonly snapshot: ProviderSnapshot | null;
  /** When the last listing returned (or -Infinity: a listing is due at once). */
  readonly checkedAt: number;
  /** This agent's idle listing interval, jittered anew after each listing. */
  readonly idleDelayMs: number;
  /** Whether the shell is listing now (one call at a time). */
  readonly listing: boolean;
  /** `listedAt` of the listing slot memory last took in (each listing is remembered once). */
  readonly rememberedAt: number | null;
  /** The instances of that listing: memory skips what it already took in (see rememberListed). */
  readonly remembered: readonly ProviderInstance[] | null;
}

/**
 * One agent's fleet state: everything the replacement and surplus rules remember between ticks.
 * Immutable: `stepFleet` returns a new one.
 */
export interface CoreState {
  readonly self: string;
  /** When this agent started (its clock). */
  readonly startedAt: number;
  /** Each slot's last holder, kept beyond membership forgetting it. */
  readonly memory: SlotMemory;
  /** This agent's launches in flight, as it gossips them (bounded by MAX_LAUNCHES_PER_PLAN per plan). */
  readonly own: readonly LaunchRecord[];
  /** Tokens of own launches whose walk still runs: never settled under it. */
  readonly walking: readonly string[];
  readonly listing: ListingState;
  /** Listed instances the plan would terminate that no peer in view runs: since when (bounded by the plan's candidates). */
  readonly unknownSince: ReadonlyMap<string, number>;
  /** The last plan (null before the first): its launcher and backup set how often this agent lists. */
  readonly plan: ReplacementPlan | null;
  /** The hold last reported, so a change is reported once. */
  readonly hold: HoldReason | null;
}

/** A tick's input: the view as membership gives it now. */
export interface CoreView {
  /** Every peer in view, this agent included. Suspect peers are not alive. */
  peers: readonly PeerFacts[];
  /** The same peers as the surplus rule sees them. */
  surplusPeers: readonly SurplusPeer[];
  /** Launches gossiped by the other peers in view. */
  gossiped: readonly LaunchRecord[];
  /** Instances whose agents said goodbye, with when (they terminate themselves). */
  departed?: ReadonlyMap<string, number>;
  /** The fleet's target size now (fixed, or agreed by the autoscaler). */
  target: number;
  /** Spot price per placement index at the start of the hour (price-aware walks). */
  spotPrices?: ReadonlyMap<number, number>;
}

export type CoreEvent =
  /** The heartbeat: plan on the view, decide, and say when the next tick matters. */
  | { kind: 'tick'; view: CoreView }
  /**
   * Membership took a peer's state into the view: slot memory learns its slot's holder (once per
   * state heard, not once per peer per tick — so it outlives membership forgetting the peer).
   */
  | { kind: 'heard'; peer: PeerFacts }
  /** A listing answered (or failed to, with the last good one); `jitter` in [0, 1) spreads idle listings. */
  | { kind: 'listed'; snapshot: ProviderSnapshot; jitter: number }
  /** Re-checked and fenced, the shell walks the placements for this launch now: gossip it. */
  | { kind: 'launch-begun'; launch: LaunchDecision }
  /** The walk launched (or found) an instance with the token of attempt `attemptToken`. */
  | { kind: 'launch-returned'; token: string; attemptToken: string; placementIndex: number; instanceId: string }
  /** The walk ended with no instance. */
  | { kind: 'launch-failed'; token: string }
  /** The shell terminated an instance (fenced holder or stray): the next tick lists afresh. */
  | { kind: 'terminated'; instanceId: string };

export type SurplusReason = 'replaced-at-risk' | 'rebalance-window' | 'surplus';

export type CoreDecision =
  /** List the fleet at the provider, then feed `listed`. */
  | { kind: 'list' }
  /** Re-check, fence `launch.fence`, then walk the placements (see LaunchDecision). */
  | { kind: 'launch'; launch: LaunchDecision }
  /** Terminate a stray instance (listed, run by nobody, in a held slot), after a fresh listing confirms it. */
  | { kind: 'reap'; instanceId: string }
  /** This agent's gossiped launches changed: publish its state now. */
  | { kind: 'publish' }
  /** Why the fleet is below target and nothing launches changed (null: no longer on hold). */
  | { kind: 'hold'; hold: HoldReason | null; plan: ReplacementPlan }
  /** The surplus rule names `peerId` to drain (only that agent acts on it). */
  | { kind: 'drain'; peerId: string; reason: SurplusReason };

export interface StepResult {
  state: CoreState;
  decisions: CoreDecision[];
  /**
   * The earliest time a tick on an unchanged view could decide something new (a launch times
   * out, a listing falls due while a deficit waits, the rebalance window ends). An agent ticks
   * every heartbeat anyway; a simulator ticks only at changes and at this time.
   */
  wakeAt: number;
}
