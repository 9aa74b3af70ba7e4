import { launchWithPlacements } from '@synkti/cloud';
import {
  DEPARTURE_MEMORY_MS,
  type LaunchDecision,
  type LaunchRecord,
  type MembershipView,
  type PeerFacts,
  type Placement,
  planReplacement,
  rememberListed,
  type ReplacementPlan,
  rememberHolders,
  type SlotMemory,
} from '@synkti/fleet';
import type { CloudProvider, Clock, Logger, Rng } from '@synkti/interface';
import { type LaunchInFlight, MAX_FENCED_PER_NODE } from '@synkti/protocol';
import { type ListingRole, ProviderView } from './provider-view.js';
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
  provider: CloudProvider;
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
  assumeLauncher?: boolean;
  /**
   * How long after start the agent only listens: every live peer gossips within this window
   * (membership's suspect-after), so a newly joined agent does not plan on a partial view.
   */
  startupGraceMs: number;
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
 * The shell around the pure replacement rule: on every tick it builds the rule's input from
 * the view, the gossiped launches and the provider's count, and executes the launches the
 * rule decides — after re-checking the plan just before acting (plan, re-check, act).
 */
export class Replacer {
  readonly #init: ReplacerInit;
  readonly #log: Logger;
  #own: LaunchRecord[] = [];
  readonly #running = new Set<string>();
  /** Stray instances being terminated (at most MAX_CONCURRENT_LAUNCHES). */
  readonly #reaping = new Set<string>();
  readonly #looks: SecondLooks;
  readonly #prices: SpotPriceCache | undefined;
  /** What this agent fenced, for gossip (at most MAX_FENCED_PER_NODE). */
  readonly #fencedLog: { instanceId: string; at: number }[] = [];
  #memory: SlotMemory = new Map();
  readonly #listing: ProviderView;
  /** When the listing this agent last remembered was taken (slot memory is fed once per listing). */
  #rememberedAt: number | null = null;
  lastPlan: ReplacementPlan | undefined;
  #lastHold: string | null = null;
  readonly #startedAt: number;

  constructor(init: ReplacerInit) {
    this.#init = init;
    this.#startedAt = init.clock.now();
    this.#log = init.logger.child({ component: 'replacer' });
    this.#prices = init.priceAware === true ? SpotPriceCache.of(init.provider, init.placements, init.clock, init.logger) : undefined;
    this.#looks = new SecondLooks(init, this.#log);
    this.#listing = new ProviderView({ provider: init.provider, fleet: init.fleet, clock: init.clock, logger: init.logger, rng: init.rng ?? Math.random, launchTimeoutMs: init.launchTimeoutMs });
  }

  /** Instances this agent terminated as dead lately, newest last, as gossiped in its NodeState. */
  fencedInstances(): string[] {
    const since = this.#init.clock.now() - DEPARTURE_MEMORY_MS;
    return this.#fencedLog.filter((f) => f.at >= since).slice(-MAX_FENCED_PER_NODE).map((f) => f.instanceId);
  }

  /** A dead holder or stray was terminated: peers must drop it, and its late messages must not revive it. */
  #fenced(instanceId: string): void {
    this.#fencedLog.push({ instanceId, at: this.#init.clock.now() });
    if (this.#fencedLog.length > MAX_FENCED_PER_NODE) this.#fencedLog.shift();
    this.#init.view.fence(instanceId, this.#init.clock.now());
    this.#init.publishNow();
  }

  /** This agent's launches in flight, as gossiped in its NodeState. */
  launchesInFlight(): LaunchInFlight[] {
    return this.#own.map(({ token, slot, startedAt, generation, replaces, placementIndex, returnedAt, instanceId }) => ({
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
    if (this.#init.target() <= 0) return;
    const now = this.#init.clock.now();
    if (this.#listing.due(now, this.#role())) void this.#refreshListing();
    if (this.#role() !== 'other') this.#prices?.refresh(now);
    // Plan only on a settled view and with the provider's first answer in hand (listed, or known
    // to have failed): a fresh agent seeing part of the fleet would otherwise find "free" slots.
    if (now - this.#startedAt < this.#init.startupGraceMs || this.#listing.snapshot === undefined) return;
    const plan = this.#plan(now);
    this.lastPlan = plan;
    if (this.#listing.due(now, this.#role())) void this.#refreshListing();
    const hold = plan.deficit > 0 ? plan.hold : null;
    if (hold !== this.#lastHold) {
      // Why the fleet is below target and nothing launches, once per change: the first question an operator asks.
      if (hold !== null) this.#log.info({ hold, deficit: plan.deficit, capacity: plan.capacity, launcher: plan.launcher, quorum: plan.quorum, providerConfirms: plan.providerConfirms }, 'replacement on hold');
      this.#lastHold = hold;
    }
    if (plan.settle.length > 0) {
      const settled = new Set(plan.settle);
      this.#own = this.#own.filter((r) => !settled.has(r.token) || this.#running.has(r.token));
      this.#init.publishNow();
    }
    for (const instanceId of plan.strays) {
      if (this.#reaping.size >= MAX_CONCURRENT_LAUNCHES) break;
      if (!this.#reaping.has(instanceId)) void this.#reap(instanceId);
    }
    for (const decision of plan.launches) {
      if (this.#running.size >= MAX_CONCURRENT_LAUNCHES) break;
      if (this.#running.has(decision.token) || this.#own.some((r) => r.token === decision.token)) continue;
      void this.#execute(decision);
    }
  }

  #plan(now: number): ReplacementPlan {
    const snapshot = this.#init.view.snapshot(now);
    const peers: PeerFacts[] = snapshot.map((p) => ({
      peerId: p.peerId,
      alive: p.status === 'alive',
      dead: p.status === 'dead',
      interrupted: p.state.interruption?.kind ?? null,
      draining: p.state.draining,
      slot: p.state.provider.slot,
      instanceId: p.state.provider.instanceId,
      incarnation: p.state.incarnation,
      ...(p.state.interruption?.cause === 'spot-return' ? { spotReturn: true } : {}),
    }));
    this.#memory = rememberHolders(this.#memory, peers);
    const launches = this.#records(snapshot);
    return planReplacement({
      self: this.#init.self(),
      fleet: this.#init.fleet,
      target: this.#init.target(),
      peers,
      launches,
      providerCount: this.#listing.snapshot?.count ?? null,
      providerSlots: this.#listing.snapshot?.instances ?? null,
      providerListedAt: this.#listing.snapshot?.instances == null ? null : this.#listing.snapshot.listedAt,
      placements: this.#init.placements,
      launchTimeoutMs: this.#init.launchTimeoutMs,
      ...(this.#init.epoch !== undefined ? { epoch: this.#init.epoch } : {}),
      ...(this.#prices?.current !== undefined ? { spotPrices: this.#prices.current } : {}),
      now,
      memory: this.#memory,
      departed: this.#departed(),
      ...(this.#init.assumeLauncher === true ? { assumeLauncher: true } : {}),
    });
  }

  /** Own launch records and those every peer in view gossips. */
  #records(snapshot = this.#init.view.snapshot(this.#init.clock.now())): LaunchRecord[] {
    const launches: LaunchRecord[] = [...this.#own];
    for (const p of snapshot) {
      // The duelling-launcher test hook also ignores others' launches, as a partitioned peer would.
      if (p.peerId === this.#init.self() || this.#init.assumeLauncher === true) continue;
      for (const l of p.state.launches) launches.push({ ...l, launcher: p.peerId });
    }
    return launches;
  }

  /** Instances whose agents said goodbye: they terminate themselves, the rule does not fence them. */
  #departed(): Map<string, number> {
    const out = new Map<string, number>();
    for (const d of this.#init.view.departures()) if (d.instanceId !== null) out.set(d.instanceId, d.leftAt);
    return out;
  }

  async #execute(decision: LaunchDecision): Promise<void> {
    this.#running.add(decision.token);
    try {
      // Re-check on the freshest view and provider count: act only if the plan still says so.
      await this.#refreshListing();
      const recheck = this.#plan(this.#init.clock.now());
      if (!recheck.launches.some((d) => d.token === decision.token)) {
        this.#log.info({ slot: decision.slot, token: decision.token, hold: recheck.hold }, 'launch dropped on re-check');
        return;
      }
      if (decision.generation > 0 && !(await this.#looks.earlierLaunchGone(decision, this.#records()))) return;
      // Fence first: a holder the provider still runs but the quorum sees dead must go before its
      // slot is filled again, or the slot would have two instances when it comes back.
      for (const instanceId of decision.fence) {
        if (!(await this.#looks.confirmedGone(instanceId))) return;
        this.#log.warn({ slot: decision.slot, instanceId }, 'terminating a dead holder before replacing it');
        try {
          await this.#init.provider.terminate(instanceId, AbortSignal.timeout(TERMINATE_TIMEOUT_MS));
          this.#fenced(instanceId);
        } catch (err) {
          this.#log.error({ err, instanceId }, 'cannot terminate the dead holder; not launching this round');
          return;
        }
      }
      const record: LaunchRecord = { token: decision.token, slot: decision.slot, startedAt: this.#init.clock.now(), generation: decision.generation, replaces: decision.replaces, placementIndex: decision.placementIndex, launcher: this.#init.self() };
      this.#own.push(record);
      this.#init.publishNow();
      this.#log.info({ slot: decision.slot, token: decision.token, replaces: decision.replaces, generation: decision.generation }, 'launching a replacement');
      try {
        const outcome = await launchWithPlacements(this.#init.provider, { fleet: this.#init.fleet, slot: decision.slot, replaces: decision.replaces, attempts: decision.attempts }, {
          onSkip: (attempt, err) => this.#log.warn({ err, slot: decision.slot, placement: attempt.placement }, 'no capacity; trying the next placement'),
        });
        // The provider knows the instance by the token of the placement that launched it.
        record.placementIndex = decision.attempts[outcome.attemptIndex]?.placementIndex ?? outcome.attemptIndex;
        record.token = outcome.token;
        // The listing lag counts from here, and the instance is matched by its ID too.
        record.returnedAt = this.#init.clock.now();
        record.instanceId = outcome.instanceId;
        this.#init.publishNow();
        this.#log.info({ slot: decision.slot, instanceId: outcome.instanceId, existing: outcome.existing, placement: outcome.placement }, outcome.existing ? 'the launch already existed (idempotent repeat)' : 'launched a replacement');
        this.#init.onLaunch?.(outcome.existing ? 'existing' : 'launched');
        this.#listing.invalidate();
      } catch (err) {
        // The walk is over with no instance: the listing lag counts from now, and once it has
        // passed (and a look-up by token confirms nothing launched) the next generation retries
        // with fresh tokens — a minute later, not after the whole launch timeout.
        record.returnedAt = this.#init.clock.now();
        this.#init.publishNow();
        this.#log.error({ err, slot: decision.slot, token: decision.token }, 'replacement launch failed');
        this.#init.onLaunch?.('failed');
      }
    } finally {
      this.#running.delete(decision.token);
    }
  }

  /** Terminates a listed instance nobody runs in a slot a live peer holds, after re-checking on a fresh listing. */
  async #reap(instanceId: string): Promise<void> {
    this.#reaping.add(instanceId);
    try {
      await this.#refreshListing();
      if (!this.#plan(this.#init.clock.now()).strays.includes(instanceId)) return;
      if (!(await this.#looks.confirmedGone(instanceId))) return;
      this.#log.warn({ instanceId }, 'terminating a stray instance: listed in a held slot, run by no agent in view');
      await this.#init.provider.terminate(instanceId, AbortSignal.timeout(TERMINATE_TIMEOUT_MS));
      this.#fenced(instanceId);
      this.#listing.invalidate();
    } catch (err) {
      this.#log.error({ err, instanceId }, 'cannot terminate a stray instance; trying again on a later tick');
    } finally {
      this.#reaping.delete(instanceId);
    }
  }



  /** How often this agent lists the provider: the launcher (most often while a deficit waits on the listing) and its backup keep it fresh. */
  #role(): ListingRole {
    const plan = this.lastPlan;
    const self = this.#init.self();
    if (plan === undefined) return 'launcher';
    if (plan.launcher === self || this.#init.assumeLauncher === true) return plan.deficit > 0 && plan.launches.length === 0 ? 'waiting' : 'launcher';
    return plan.backup === self ? 'backup' : 'other';
  }

  async #refreshListing(): Promise<void> {
    const snapshot = await this.#listing.refresh();
    // Remember what the provider listed in each slot, so every peer names the same replaced instance.
    if (snapshot.instances !== null && snapshot.listedAt !== null && snapshot.listedAt !== this.#rememberedAt) {
      this.#rememberedAt = snapshot.listedAt;
      this.#memory = rememberListed(this.#memory, snapshot.instances, snapshot.listedAt);
    }
  }
}
