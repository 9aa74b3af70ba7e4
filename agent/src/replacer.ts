import { launchWithPlacements } from '@synkti/cloud';
import {
  type CoreConfig,
  type CoreDecision,
  type CoreEvent,
  type CoreState,
  type CoreView,
  DEAD_AFTER_MS,
  DEPARTURE_MEMORY_MS,
  initialCoreState,
  type LaunchDecision,
  type LaunchRecord,
  listingRole,
  type MembershipView,
  type Placement,
  planOn,
  REBALANCE_WINDOW_MS,
  type ReplacementPlan,
  stepFleet,
  stillDecided,
  type SurplusReason,
} from '@synkti/fleet';
import type { CloudProvider, Clock, Logger, Rng } from '@synkti/interface';
import { type LaunchInFlight, MAX_FENCED_PER_NODE } from '@synkti/protocol';
import { coreViewOf } from './core-view.js';
import { ProviderView } from './provider-view.js';
import { SecondLooks } from './second-looks.js';
import { SpotPriceCache } from './spot-price-cache.js';

/** Launches this agent runs at once; a big loss is worked through a few at a time. */
export const MAX_CONCURRENT_LAUNCHES = 8;
/** A TerminateInstances call (or the local provider's) that has not answered by then has failed. */
const TERMINATE_TIMEOUT_MS = 30_000;

export interface ReplacerInit {
  fleet: string;
  self: () => string;
  /** The fleet's target size now (fixed, or decided by load: it may change between ticks). */
  target: () => number;
  /** Absent: this agent cannot launch (no provider); it still runs the surplus rule. */
  provider?: CloudProvider;
  placements: Placement[];
  launchTimeoutMs: number;
  /** The deployment's epoch, part of every launch token. */
  epoch?: string;
  view: MembershipView;
  clock: Clock;
  logger: Logger;
  /** Gossip a change in this agent's launches at once. */
  publishNow: () => void;
  onLaunch?: (outcome: 'launched' | 'existing' | 'failed') => void;
  /** The surplus rule names this agent: drain and leave. */
  onSurplus?: (reason: SurplusReason) => void;
  assumeLauncher?: boolean;
  /**
   * How long after start the agent only listens: every live peer gossips within this window
   * (membership's suspect-after), so a newly joined agent does not plan on a partial view.
   */
  startupGraceMs: number;
  /** A rebalance-recommended node no interruption followed is surplus after this window. */
  rebalanceWindowMs?: number;
  /** A listed instance no peer in view runs is terminated only once unknown this long (membership's dead-after). */
  unknownGraceMs?: number;
  /** Walk the cheapest spot pools first (spot prices at the start of each hour, read once an hour). */
  priceAware?: boolean;
  /**
   * Whether the agent on this instance is really gone: probes it directly (resolves false when it
   * answers). Absent: the quorum's word is enough.
   */
  confirmGone?: (instanceId: string) => Promise<boolean>;
  /** Jitter of the idle listing interval; Math.random when absent. */
  rng?: Rng;
}

/**
 * The shell around the fleet core (`stepFleet`): every heartbeat it hands the core the view
 * from membership and executes what the core decides — list the provider, re-check and launch,
 * reap strays, publish, drain as surplus — feeding each outcome back as an event. The core
 * holds all fleet state (slot memory, own launches, listing timing); this class holds only the
 * I/O in flight, each bounded.
 */
export class Replacer {
  readonly #init: ReplacerInit;
  readonly #config: CoreConfig;
  readonly #log: Logger;
  readonly #rng: Rng;
  #core: CoreState;
  /** Launch decisions being re-checked or walked (at most MAX_CONCURRENT_LAUNCHES). */
  readonly #running = new Set<string>();
  /** Stray instances being terminated (at most MAX_CONCURRENT_LAUNCHES). */
  readonly #reaping = new Set<string>();
  readonly #looks: SecondLooks | undefined;
  readonly #prices: SpotPriceCache | undefined;
  /** What this agent fenced, for gossip (at most MAX_FENCED_PER_NODE). */
  readonly #fencedLog: { instanceId: string; at: number }[] = [];
  readonly #listing: ProviderView | undefined;

  constructor(init: ReplacerInit) {
    this.#init = init;
    this.#rng = init.rng ?? Math.random;
    this.#log = init.logger.child({ component: 'replacer' });
    const { provider } = init;
    this.#config = {
      fleet: init.fleet,
      placements: init.placements,
      launchTimeoutMs: init.launchTimeoutMs,
      startupGraceMs: init.startupGraceMs,
      rebalanceWindowMs: init.rebalanceWindowMs ?? REBALANCE_WINDOW_MS,
      unknownGraceMs: init.unknownGraceMs ?? DEAD_AFTER_MS,
      replaces: provider !== undefined,
      ...(init.epoch !== undefined ? { epoch: init.epoch } : {}),
      ...(init.assumeLauncher === true ? { assumeLauncher: true } : {}),
    };
    this.#core = initialCoreState(init.self(), init.clock.now(), this.#rng());
    if (provider !== undefined) {
      this.#prices = init.priceAware === true ? SpotPriceCache.of(provider, init.placements, init.clock, init.logger) : undefined;
      this.#looks = new SecondLooks({ ...init, provider }, this.#log);
      this.#listing = new ProviderView({ provider, fleet: init.fleet, clock: init.clock, logger: init.logger, launchTimeoutMs: init.launchTimeoutMs });
    }
  }

  get lastPlan(): ReplacementPlan | undefined {
    return this.#core.plan ?? undefined;
  }

  /** Instances this agent terminated as dead lately, newest last, as gossiped in its NodeState. */
  fencedInstances(): string[] {
    const since = this.#init.clock.now() - DEPARTURE_MEMORY_MS;
    return this.#fencedLog.filter((f) => f.at >= since).slice(-MAX_FENCED_PER_NODE).map((f) => f.instanceId);
  }

  /** This agent's launches in flight, as gossiped in its NodeState. */
  launchesInFlight(): LaunchInFlight[] {
    return this.#core.own.map(({ token, slot, startedAt, generation, replaces, placementIndex, returnedAt, instanceId }) => ({
      token,
      slot,
      startedAt,
      generation,
      replaces,
      placementIndex,
      ...(returnedAt !== undefined ? { returnedAt } : {}),
      ...(instanceId !== undefined ? { instanceId } : {}),
    }));
  }

  tick(): void {
    const now = this.#init.clock.now();
    if (listingRole(this.#core.plan, this.#core.self, this.#config.assumeLauncher === true) !== 'other') this.#prices?.refresh(now);
    const view = this.#viewNow(now);
    // Slot memory hears every peer in view once a tick: what membership forgets later, it keeps.
    for (const peer of view.peers) this.#apply({ kind: 'heard', peer }, now);
    this.#apply({ kind: 'tick', view }, now);
  }

  #viewNow(now: number): CoreView {
    return coreViewOf(this.#init.view, now, {
      self: this.#init.self(),
      target: this.#init.target(),
      ...(this.#prices?.current !== undefined ? { spotPrices: this.#prices.current } : {}),
      ...(this.#init.assumeLauncher === true ? { ignoreGossipedLaunches: true } : {}),
    });
  }

  #apply(event: CoreEvent, now = this.#init.clock.now()): void {
    const { state, decisions } = stepFleet(this.#config, this.#core, event, now);
    this.#core = state;
    for (const d of decisions) this.#execute(d);
  }

  #execute(d: CoreDecision): void {
    switch (d.kind) {
      case 'list':
        void this.#refreshListing();
        return;
      case 'launch':
        if (this.#running.size < MAX_CONCURRENT_LAUNCHES && !this.#running.has(d.launch.token)) void this.#launch(d.launch);
        return;
      case 'reap':
        if (this.#reaping.size < MAX_CONCURRENT_LAUNCHES && !this.#reaping.has(d.instanceId)) void this.#reap(d.instanceId);
        return;
      case 'publish':
        this.#init.publishNow();
        return;
      case 'hold': {
        // Why the fleet is below target and nothing launches, once per change: the first question an operator asks.
        const { plan } = d;
        if (d.hold !== null) this.#log.info({ hold: d.hold, deficit: plan.deficit, capacity: plan.capacity, launcher: plan.launcher, quorum: plan.quorum, providerConfirms: plan.providerConfirms }, 'replacement on hold');
        return;
      }
      case 'drain':
        if (d.peerId === this.#init.self()) this.#init.onSurplus?.(d.reason);
        return;
    }
  }

  /** A dead holder or stray was terminated: peers must drop it, and its late messages must not revive it. */
  #fenced(instanceId: string): void {
    this.#fencedLog.push({ instanceId, at: this.#init.clock.now() });
    if (this.#fencedLog.length > MAX_FENCED_PER_NODE) this.#fencedLog.shift();
    this.#init.view.fence(instanceId, this.#init.clock.now());
    this.#init.publishNow();
    this.#apply({ kind: 'terminated', instanceId });
  }

  /** Re-check on the freshest view and provider listing: the view when the plan still says so, else undefined. */
  async #stillDecided(decision: LaunchDecision): Promise<CoreView | undefined> {
    await this.#refreshListing();
    const now = this.#init.clock.now();
    const view = this.#viewNow(now);
    const recheck = planOn(this.#config, this.#core, view, now);
    if (stillDecided(recheck, decision)) return view;
    this.#log.info({ slot: decision.slot, token: decision.token, hold: recheck.hold }, 'launch dropped on re-check');
    return undefined;
  }

  async #launch(decision: LaunchDecision): Promise<void> {
    const provider = this.#init.provider!;
    const looks = this.#looks!;
    this.#running.add(decision.token);
    try {
      const view = await this.#stillDecided(decision);
      if (view === undefined) return;
      const records: LaunchRecord[] = [...this.#core.own, ...view.gossiped];
      if (decision.generation > 0 && !(await looks.earlierLaunchGone(decision, records))) return;
      // Fence first: a holder the provider still runs but the quorum sees dead must go before its
      // slot is filled again, or the slot would have two instances when it comes back.
      for (const instanceId of decision.fence) {
        if (!(await looks.confirmedGone(instanceId))) return;
        this.#log.warn({ slot: decision.slot, instanceId }, 'terminating a dead holder before replacing it');
        try {
          await provider.terminate(instanceId, AbortSignal.timeout(TERMINATE_TIMEOUT_MS));
          this.#fenced(instanceId);
        } catch (err) {
          this.#log.error({ err, instanceId }, 'cannot terminate the dead holder; not launching this round');
          return;
        }
      }
      this.#apply({ kind: 'launch-begun', launch: decision });
      this.#log.info({ slot: decision.slot, token: decision.token, replaces: decision.replaces, generation: decision.generation }, 'launching a replacement');
      await this.#walk(provider, decision);
    } finally {
      this.#running.delete(decision.token);
    }
  }

  async #walk(provider: CloudProvider, decision: LaunchDecision): Promise<void> {
    try {
      const outcome = await launchWithPlacements(provider, { fleet: this.#init.fleet, slot: decision.slot, replaces: decision.replaces, attempts: decision.attempts }, {
        onSkip: (attempt, err) => this.#log.warn({ err, slot: decision.slot, placement: attempt.placement }, 'no capacity; trying the next placement'),
      });
      // The provider knows the instance by the token of the placement that launched it.
      const placementIndex = decision.attempts[outcome.attemptIndex]?.placementIndex ?? outcome.attemptIndex;
      this.#apply({ kind: 'launch-returned', token: decision.token, attemptToken: outcome.token, placementIndex, instanceId: outcome.instanceId });
      this.#log.info({ slot: decision.slot, instanceId: outcome.instanceId, existing: outcome.existing, placement: outcome.placement }, outcome.existing ? 'the launch already existed (idempotent repeat)' : 'launched a replacement');
      this.#init.onLaunch?.(outcome.existing ? 'existing' : 'launched');
    } catch (err) {
      this.#apply({ kind: 'launch-failed', token: decision.token });
      this.#log.error({ err, slot: decision.slot, token: decision.token }, 'replacement launch failed');
      this.#init.onLaunch?.('failed');
    }
  }

  /** Terminates a listed instance nobody runs in a slot a live peer holds, after re-checking on a fresh listing. */
  async #reap(instanceId: string): Promise<void> {
    this.#reaping.add(instanceId);
    try {
      await this.#refreshListing();
      const now = this.#init.clock.now();
      if (!planOn(this.#config, this.#core, this.#viewNow(now), now).strays.includes(instanceId)) return;
      if (!(await this.#looks!.confirmedGone(instanceId))) return;
      this.#log.warn({ instanceId }, 'terminating a stray instance: listed in a held slot, run by no agent in view');
      await this.#init.provider!.terminate(instanceId, AbortSignal.timeout(TERMINATE_TIMEOUT_MS));
      this.#fenced(instanceId);
    } catch (err) {
      this.#log.error({ err, instanceId }, 'cannot terminate a stray instance; trying again on a later tick');
    } finally {
      this.#reaping.delete(instanceId);
    }
  }

  async #refreshListing(): Promise<void> {
    if (this.#listing === undefined) return;
    const snapshot = await this.#listing.refresh();
    this.#apply({ kind: 'listed', snapshot, jitter: this.#rng() });
  }
}
