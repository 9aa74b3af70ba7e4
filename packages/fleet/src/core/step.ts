import {
  type LaunchDecision,
  type LaunchRecord,
  peerPass,
  type PeerPass,
  planWith,
  planSurplus,
  rememberHolders,
  rememberListed,
  type ReplacementPlan,
  ruleTarget,
} from '../replacement/index.js';
import { idleDelayMs, initialListing, listingDueAt, listingRole, waitsOnProvider } from './listing.js';
import type { CoreConfig, CoreDecision, CoreEvent, CoreState, CoreView, StepResult } from './types.js';

/**
 * A fresh agent's fleet state. `jitter` in [0, 1) spreads the idle listings of agents that
 * start together (the shell draws it from its injected randomness).
 */
export function initialCoreState(self: string, startedAt: number, jitter: number): CoreState {
  return { self, startedAt, memory: new Map(), own: [], walking: [], listing: initialListing(jitter), unknownSince: new Map(), plan: null, hold: null };
}

/**
 * The fleet core: one pure step from a state, an event and the time to a new state and the
 * decisions the shell executes (design.md §5.3). The agent's shells and the simulator both
 * drive it; it reads no clock, draws no random number and does no I/O.
 */
export function stepFleet(config: CoreConfig, state: CoreState, event: CoreEvent, now: number): StepResult {
  switch (event.kind) {
    case 'tick':
      return tick(config, state, event.view, now);
    case 'heard': {
      const memory = rememberHolders(state.memory, [event.peer]);
      return idle(memory === state.memory ? state : { ...state, memory });
    }
    case 'listed': {
      const { snapshot } = event;
      let { memory, listing } = state;
      // Remember what the provider listed in each slot, once per listing, so every peer names the
      // same replaced instance (the very same list again teaches nothing).
      const same = snapshot.instances === listing.snapshot?.instances;
      if (!same && snapshot.instances !== null && snapshot.listedAt !== null && snapshot.listedAt !== listing.rememberedAt) {
        memory = rememberListed(memory, snapshot.instances, snapshot.listedAt, listing.remembered ?? undefined);
        listing = { ...listing, rememberedAt: snapshot.listedAt, remembered: snapshot.instances };
      }
      listing = { ...listing, snapshot, checkedAt: now, idleDelayMs: idleDelayMs(event.jitter), listing: false };
      return idle({ ...state, memory, listing });
    }
    case 'launch-begun': {
      const d = event.launch;
      const record: LaunchRecord = { token: d.token, slot: d.slot, startedAt: now, generation: d.generation, replaces: d.replaces, placementIndex: d.placementIndex, launcher: state.self };
      return published({ ...state, own: [...state.own, record], walking: [...state.walking, d.token] });
    }
    case 'launch-returned': {
      const own = state.own.map((r) =>
        r.token === event.token ? { ...r, token: event.attemptToken, placementIndex: event.placementIndex, returnedAt: now, instanceId: event.instanceId } : r,
      );
      // The listing lag counts from here; the next tick lists afresh to see the new instance.
      return published({ ...state, own, walking: state.walking.filter((t) => t !== event.token), listing: invalidated(state) });
    }
    case 'launch-failed': {
      // The walk is over with no instance: once the listing lag has passed (and a look-up by token
      // confirms nothing launched) the next generation retries — a minute later, not a timeout later.
      const own = state.own.map((r) => (r.token === event.token ? { ...r, returnedAt: now } : r));
      return published({ ...state, own, walking: state.walking.filter((t) => t !== event.token) });
    }
    case 'terminated':
      return idle({ ...state, listing: invalidated(state) });
  }
}

function idle(state: CoreState): StepResult {
  return { state, decisions: [], wakeAt: Number.POSITIVE_INFINITY };
}

function published(state: CoreState): StepResult {
  return { state, decisions: [{ kind: 'publish' }], wakeAt: Number.POSITIVE_INFINITY };
}

function invalidated(state: CoreState): CoreState['listing'] {
  return { ...state.listing, checkedAt: Number.NEGATIVE_INFINITY };
}

function tick(config: CoreConfig, state: CoreState, view: CoreView, now: number): StepResult {
  const decisions: CoreDecision[] = [];
  if (view.target <= 0) return { state, decisions, wakeAt: Number.POSITIVE_INFINITY };
  let next = state;
  let wakeAt = Number.POSITIVE_INFINITY;
  if (config.replaces) {
    // Plan only on a settled view and with the provider's first answer in hand (listed, or known
    // to have failed): a fresh agent seeing part of the fleet would otherwise find "free" slots.
    const graceEnds = state.startedAt + config.startupGraceMs;
    // Before the first listing answers there is nothing to wake for: the answer is the next event.
    if (now < graceEnds || state.listing.snapshot === null) wakeAt = earliestFuture(wakeAt, graceEnds, now);
    else {
      const planned = replace(config, state, view, now, decisions);
      next = planned.state;
      wakeAt = Math.min(wakeAt, planned.wakeAt);
    }
    const role = listingRole(next.plan, next.self, config.assumeLauncher === true);
    const dueAt = listingDueAt(next.listing, role);
    if (!next.listing.listing && dueAt <= now) {
      decisions.push({ kind: 'list' });
      next = { ...next, listing: { ...next.listing, listing: true } };
    } else if (!next.listing.listing && waitsOnProvider(next.plan)) wakeAt = earliestFuture(wakeAt, dueAt, now);
  }
  const surplus = planSurplus({ target: view.target, peers: view.surplusPeers, now, rebalanceWindowMs: config.rebalanceWindowMs });
  if (surplus.kind === 'drain') decisions.push({ kind: 'drain', peerId: surplus.peerId, reason: surplus.reason });
  // An at-risk peer whose replacement is not warm yet may drain when its rebalance window ends.
  else if (surplus.reason === 'replacement-not-warm') wakeAt = earliestFuture(wakeAt, surplus.windowEndsAt, now);
  return { state: next, decisions, wakeAt };
}

/** The replacement rule on this view: settle own records, reap strays, launch; and when launches time out. */
function replace(config: CoreConfig, state: CoreState, view: CoreView, now: number, decisions: CoreDecision[]): { state: CoreState; wakeAt: number } {
  // The rule's pass over the view's peers (kept between evaluations), asked by the plan and by confirmUnknown.
  const pass = peerPass(view.peers, ruleTarget(view.target));
  const confirmed = confirmUnknown(config, state, view, pass, planWithPass(config, state, view, now, pass), now);
  const { plan } = confirmed;
  let own = state.own;
  if (plan.settle.length > 0) {
    const settled = new Set(plan.settle);
    own = own.filter((r) => !settled.has(r.token) || state.walking.includes(r.token));
    decisions.push({ kind: 'publish' });
  }
  const hold = plan.deficit > 0 ? plan.hold : null;
  if (hold !== state.hold) decisions.push({ kind: 'hold', hold, plan });
  for (const instanceId of plan.strays) decisions.push({ kind: 'reap', instanceId });
  for (const launch of plan.launches) if (!own.some((r) => r.token === launch.token)) decisions.push({ kind: 'launch', launch });
  let wakeAt = confirmed.wakeAt;
  for (const r of own) wakeAt = earliestFuture(wakeAt, r.startedAt + config.launchTimeoutMs, now);
  for (const r of view.gossiped) wakeAt = earliestFuture(wakeAt, r.startedAt + config.launchTimeoutMs, now);
  return { state: { ...state, own, plan, hold, unknownSince: confirmed.unknownSince }, wakeAt };
}

/**
 * The replacement rule's plan on this view and state, changing nothing: a tick acts on it, and
 * the shell re-checks a decision on the freshest view just before it acts (plan, re-check, act).
 */
export function planOn(config: CoreConfig, state: CoreState, view: CoreView, now: number): ReplacementPlan {
  return planWithPass(config, state, view, now, peerPass(view.peers, ruleTarget(view.target)));
}

function planWithPass(config: CoreConfig, state: CoreState, view: CoreView, now: number, pass: PeerPass): ReplacementPlan {
  const snapshot = state.listing.snapshot;
  return planWith({
    self: state.self,
    fleet: config.fleet,
    target: view.target,
    peers: view.peers,
    launches: state.own.length === 0 ? view.gossiped : [...state.own, ...view.gossiped],
    providerCount: snapshot?.count ?? null,
    providerSlots: snapshot?.instances ?? null,
    providerListedAt: snapshot?.instances == null ? null : snapshot.listedAt,
    placements: config.placements,
    ...(config.placementsFor !== undefined ? { placementsFor: config.placementsFor } : {}),
    launchTimeoutMs: config.launchTimeoutMs,
    ...(config.epoch !== undefined ? { epoch: config.epoch } : {}),
    ...(view.spotPrices !== undefined ? { spotPrices: view.spotPrices } : {}),
    now,
    memory: state.memory,
    ...(view.departed !== undefined ? { departed: view.departed } : {}),
    ...(config.assumeLauncher === true ? { assumeLauncher: true } : {}),
  }, pass);
}

const NOTHING_UNKNOWN: ReadonlyMap<string, number> = new Map();

/**
 * Keeps from the plan only the terminations of instances a peer in view runs (dead in view) or
 * that have been unknown for `unknownGraceMs`: after a partition heals, a listed instance the
 * other side launched and runs is unknown here for a beat, and is past the launch timeout if the
 * partition was long — the rule alone would fence a live agent. A launch whose fencing waits,
 * waits with it.
 */
function confirmUnknown(config: CoreConfig, state: CoreState, view: CoreView, pass: PeerPass, plan: ReplacementPlan, now: number): { plan: ReplacementPlan; unknownSince: ReadonlyMap<string, number>; wakeAt: number } {
  const candidates = new Set<string>(plan.strays);
  for (const d of plan.launches) for (const id of d.fence) candidates.add(id);
  if (candidates.size === 0) return { plan, unknownSince: NOTHING_UNKNOWN, wakeAt: Number.POSITIVE_INFINITY };
  // Known: a peer in view runs it. One membership forgot (silent past forgetting) counts as unknown
  // again: a partition that heals brings such peers back, and they are heard within a beat.
  const inView = new Set<string>();
  for (const id of candidates) if (pass.running(id)) inView.add(id);
  const unknownSince = new Map<string, number>();
  let wakeAt = Number.POSITIVE_INFINITY;
  for (const id of candidates) {
    if (inView.has(id)) continue;
    const since = state.unknownSince.get(id) ?? now;
    unknownSince.set(id, since);
    wakeAt = earliestFuture(wakeAt, since + config.unknownGraceMs, now);
  }
  const ready = (id: string) => !unknownSince.has(id) || now - unknownSince.get(id)! >= config.unknownGraceMs;
  const launches = plan.launches.filter((d) => d.fence.every(ready));
  const strays = plan.strays.filter(ready);
  if (launches.length === plan.launches.length && strays.length === plan.strays.length) return { plan, unknownSince, wakeAt };
  const held = launches.length === 0 && plan.launches.length > 0;
  return { plan: { ...plan, launches, strays, ...(held ? { hold: 'unknown-instance' as const } : {}) }, unknownSince, wakeAt };
}

/**
 * Whether a launch decision still stands on a fresh plan (the re-check before acting): the same
 * launch, fencing the same instances. A fresh listing that names another instance to fence drops
 * it: the next tick decides, with the grace an unknown instance gets (see confirmUnknown).
 */
export function stillDecided(plan: ReplacementPlan, launch: LaunchDecision): boolean {
  return plan.launches.some((d) => d.token === launch.token && d.fence.length === launch.fence.length && d.fence.every((id, i) => id === launch.fence[i]));
}

function earliestFuture(current: number, candidate: number, now: number): number {
  return candidate > now && candidate < current ? candidate : current;
}
