import {
  type CoreConfig,
  type CoreDecision,
  type CoreEvent,
  type CoreState,
  type CoreView,
  type LaunchDecision,
  type LaunchRecord,
  planOn,
  type ProviderInstance,
  type StepResult,
  stillDecided,
  waitsOnProvider,
  stepFleet,
} from '@synkti/fleet';
import { CUT_OFF_NOTICED_WITHIN_MS, HEARTBEAT_MS } from './constants.js';
import { coreConfig } from './core.js';
import { publishNow, requestEval } from './gossip.js';
import { adjustProvisioned, kill, launched, startDrain } from './lifecycle.js';
import { spotPricesNow } from './placement.js';
import type { SimInstance } from './provider.js';
import { deriveView } from './view.js';
import { type DerivedView, schedule, type SimNode, targetOf, type World } from './world.js';

/** A listing takes this long from the launcher's call to its answer (DescribeInstances: a few hundred ms). */
const LIST_LATENCY_MS = 300;

/**
 * Runs the fleet core (`stepFleet`, the agents' own code) once for a side: every agent there
 * shares this view, slot memory and listing (a modelling choice: they hear the same gossip), so
 * one tick is exact for all of them. The tick runs as the side's lowest live agent — the one the
 * rule names launcher — on that agent's own clock, with that agent's own launch records; the sim
 * executes the core's decisions against its provider. With probability `duelShare` the next
 * agent also acts on the same view, as a duelling launcher would.
 */
export function evaluateSide(w: World, side: number): void {
  const view = w.views[side]!;
  view.evalAt = -1;
  if (side === 1 && !w.partitioned) return;
  w.counters.evaluations++;
  view.derived ??= deriveView(view);
  const { lowest, second } = view.derived;
  if (lowest === null) return;
  const node = w.nodes.get(lowest);
  // The view is stale: its lowest agent is gone (or cut off); the silence events will re-evaluate.
  if (node === undefined || node.state === 'gone' || node.side !== side) return;
  // The duellist acts on the view and state as they were before the launcher acted: a real race,
  // where neither has heard of the other's launch yet.
  const derived = view.derived;
  const before = view.core;
  const recheck: Recheck = { listing: undefined };
  const result = tickAs(w, side, node, coreConfig(w), derived, before, recheck);
  const launching = result.decisions.some((d) => d.kind === 'launch');
  if (launching && second !== null && w.rng() < w.config.duelShare) {
    const duellist = w.nodes.get(second);
    if (duellist !== undefined && duellist.state !== 'gone' && duellist.side === side) tickAs(w, side, duellist, coreConfig(w, true), derived, before, recheck);
  }
  view.lastAtRisk = view.derived?.atRisk ?? 0;
  if (result.wakeAt !== Number.POSITIVE_INFINITY) requestEval(w, side, result.wakeAt - node.skewMs);
}

/** The listing the shells re-check their launches on, taken once per evaluation before any of them acts (a duel is a race). */
interface Recheck {
  listing: readonly ProviderInstance[] | undefined;
}

/**
 * One core tick as `node` on a derived view and the side's core state: the side's shared
 * knowledge, the node's own records, its clock. Only the side's launcher keeps its state as the
 * side's; a duellist keeps only its own launch records.
 */
function tickAs(w: World, side: number, node: SimNode, config: CoreConfig, derived: DerivedView, core: CoreState, recheck: Recheck): StepResult {
  const coreView: CoreView = {
    peers: derived.peers,
    surplusPeers: derived.surplusPeers,
    gossiped: derived.launches.filter((r) => r.launcher !== node.peerId),
    target: targetOf(w, side),
    spotPrices: spotPricesNow(w),
  };
  const result = stepFleet(config, asNode(core, node), { kind: 'tick', view: coreView }, clockOf(w, node));
  const duel = config.assumeLauncher === true;
  keep(w, side, node, result.state, duel);
  // A duellist only races the launcher's launches; the rest of its tick is the launcher's too.
  for (const d of result.decisions) {
    if (duel && d.kind !== 'launch' && d.kind !== 'publish') continue;
    execute(w, side, node, config, d, coreView, recheck);
  }
  return result;
}

/** The side's shared core state as `node` holds it: its ID, start and launches. */
function asNode(core: CoreState, node: SimNode): CoreState {
  return { ...core, self: node.peerId, startedAt: node.incarnation, own: node.records, walking: [] };
}

function keep(w: World, side: number, node: SimNode, state: CoreState, ownOnly = false): void {
  if (!ownOnly) w.views[side]!.core = state;
  node.records = state.own as LaunchRecord[];
}

/** The node's clock: the simulator's time plus the node's own skew (the rule compares stamps from different clocks). */
export function clockOf(w: World, node: SimNode): number {
  return w.now + node.skewMs;
}

function execute(w: World, side: number, node: SimNode, config: CoreConfig, d: CoreDecision, coreView: CoreView, recheck: Recheck): void {
  switch (d.kind) {
    case 'list':
      schedule(w, w.now + LIST_LATENCY_MS, { k: 'listed', side });
      return;
    case 'launch':
      relaunch(w, side, node, config, coreView, d.launch, recheck);
      return;
    case 'reap':
      if (node.side === side && !answersProbe(w, side, d.instanceId)) fence(w, d.instanceId, side);
      return;
    case 'publish':
      publishNow(w, node);
      return;
    case 'hold':
      return;
    case 'drain': {
      const drained = w.nodes.get(d.peerId);
      if (drained !== undefined && drained.side === side) startDrain(w, drained);
      return;
    }
  }
}

/**
 * The shell's re-check before it acts: plan again on a fresh listing and act only if the plan
 * still says the same (the agent's Replacer does the same, on every launch).
 */
function relaunch(w: World, side: number, node: SimNode, config: CoreConfig, coreView: CoreView, d: LaunchDecision, recheck: Recheck): void {
  recheck.listing ??= w.provider.list();
  const view = w.views[side]!;
  if (view.core.listing.snapshot?.instances !== recheck.listing) takeListing(w, side, recheck.listing);
  const now = clockOf(w, node);
  if (!stillDecided(planOn(config, asNode(view.core, node), coreView, now), d)) return;
  countLaunch(w, side, d);
  launch(w, side, node, config, d);
}

function countLaunch(w: World, side: number, d: LaunchDecision): void {
  const plan = w.views[side]!.core.plan;
  if (plan !== null && !plan.quorum) w.counters.launchesWithoutQuorum++;
  if (sideMembers(w, side) * 2 <= targetOf(w, side)) {
    w.counters.minorityLaunches++;
    const noticed = w.now - w.partitionedAt > CUT_OFF_NOTICED_WITHIN_MS + HEARTBEAT_MS;
    if (noticed && plan !== null && !plan.providerConfirms && heldElsewhere(w, d.slot)) w.counters.minorityLaunchesWithoutWitness++;
  }
}

/**
 * The agent's shell, synchronously: fences first (terminates the listed instances the decision
 * names), then walks the placements; the core hears the walk begin and end as the agent's would.
 */
function launch(w: World, side: number, node: SimNode, config: CoreConfig, d: LaunchDecision): void {
  if (d.fence.some((id) => answersProbe(w, side, id))) return;
  for (const id of d.fence) fence(w, id, node.side);
  const step = (event: CoreEvent) => {
    const r = stepFleet(config, asNode(w.views[side]!.core, node), event, clockOf(w, node));
    keep(w, side, node, r.state, config.assumeLauncher === true);
    if (r.decisions.some((x) => x.kind === 'publish')) publishNow(w, node);
  };
  step({ kind: 'launch-begun', launch: d });
  for (const a of d.attempts) {
    const res = w.provider.run(a.token, a.placement, d.slot, node.side, w.now);
    if (!res.ok) continue;
    if (res.fresh) {
      w.counters.replacements++;
      w.provider.stats.doubleLaunches += conflicts(w, res.instance);
      launched(w, res.instance);
    }
    step({ kind: 'launch-returned', token: d.token, attemptToken: a.token, placementIndex: a.placementIndex, instanceId: res.instance.id });
    return;
  }
  step({ kind: 'launch-failed', token: d.token });
}

/** The listing a side's launcher asked for answers: the core takes it in and the side re-evaluates. */
export function deliverListing(w: World, side: number): void {
  if (side === 1 && !w.partitioned) return;
  const instances = w.provider.list();
  w.polled = { count: instances.length, instances, at: w.now };
  takeListing(w, side);
  // The side's launcher listed because a deficit waits on the provider: the answer may free it.
  const plan = w.views[side]!.core.plan;
  if (plan === null || waitsOnProvider(plan)) requestEval(w, side, w.now);
}

/** Feeds a listing of the provider taken now (by default the last poll's) into a side's core. */
export function takeListing(w: World, side: number, instances: readonly ProviderInstance[] = w.polled.instances): void {
  const view = w.views[side]!;
  const snapshot = { count: instances.length, instances, listedAt: w.now, stale: false };
  // The listing's idle jitter only spreads non-launchers' calls, which the sim does not model: a fixed draw keeps runs reproducible.
  view.core = stepFleet(coreConfig(w), view.core, { kind: 'listed', snapshot, jitter: 0.5 }, w.now).state;
}

/** Other live instances in the new instance's slot that still hold it: pending, or running a healthy agent. */
function conflicts(w: World, inst: SimInstance): number {
  let n = 0;
  for (const other of w.provider.liveIn(inst.slot)) {
    if (other === inst) continue;
    const agent = other.node;
    if (agent === null || (agent.state !== 'gone' && agent.interrupted === null && !agent.draining)) n++;
  }
  return n;
}

/**
 * TerminateInstances on a fenced instance: its agent (if it joined) dies with it. Terminating a
 * healthy agent the fencing side could reach (same side of any partition) is a false fencing.
 */
function fence(w: World, id: string, side: number): void {
  const inst = w.provider.byId(id);
  if (inst === undefined) return;
  w.counters.fenced++;
  const agent = inst.node;
  if (agent !== null && agent.state !== 'gone' && agent.side === side && agent.interrupted === null && !agent.draining) w.counters.falseFencings++;
  if (inst.node !== null) kill(w, inst.node);
  else {
    w.provider.terminate(inst, w.now);
    adjustProvisioned(w, -1); // it was provisioned (booting) since its launch
  }
}

/**
 * The shell's second look before it fences (agent `confirmGone`): it probes the instance's agent
 * when its view knows that agent, and the probe answers when the agent is up and on this side of
 * any partition. An agent the view does not know is not probed: the quorum decides.
 */
function answersProbe(w: World, side: number, instanceId: string): boolean {
  const agent = w.provider.byId(instanceId)?.node ?? null;
  return agent !== null && agent.state !== 'gone' && agent.side === side && w.views[side]!.peers.has(agent.peerId);
}

/** True when a live, unnoticed agent really holds the slot: a launch for it would be needless. */
function heldElsewhere(w: World, slot: string): boolean {
  for (const n of w.nodes.values()) {
    if (n.slot === slot && n.state !== 'gone' && n.interrupted === null && !n.draining) return true;
  }
  return false;
}

function sideMembers(w: World, side: number): number {
  if (!w.partitioned) return w.target; // no partition: the side is the whole fleet
  let n = 0;
  for (const node of w.nodes.values()) if (node.state !== 'gone' && node.side === side) n++;
  return n;
}

