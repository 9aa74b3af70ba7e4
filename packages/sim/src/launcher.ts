import {
  type LaunchDecision,
  type LaunchRecord,
  type PeerFacts,
  planReplacement,
  planSurplus,
  type ReplacementPlan,
  type SurplusPeer,
} from '@synkti/fleet';
import { HEARTBEAT_MS, RECHECK_MS, SUSPECT_AFTER_MS } from './constants.js';
import { publishNow, requestEval } from './gossip.js';
import { adjustProvisioned, kill, launched, startDrain } from './lifecycle.js';
import { spotPricesNow } from './placement.js';
import type { SimInstance } from './provider.js';
import { type DerivedView, type SideView, type SimNode, targetOf, type World } from './world.js';

/**
 * Evaluates the real replacement rule once for a side: every agent there shares this view,
 * so one evaluation is exact for all of them. The plan names the launcher (lowest live ID);
 * only that agent — if it really is alive on this side — acts. With probability `duelShare`
 * the next agent also acts on the same view, as a duelling launcher would.
 */
export function evaluateSide(w: World, side: number): void {
  const view = w.views[side]!;
  view.evalAt = -1;
  if (side === 1 && !w.partitioned) return;
  w.counters.evaluations++;
  view.derived ??= derive(view);
  const { peers, launches, lowest, second, atRisk, oldestRisk, warm } = view.derived;
  if (lowest === null) return;
  const target = targetOf(w, side);
  const base = {
    fleet: w.config.fleet,
    target,
    peers,
    launches,
    providerCount: w.polled.count,
    providerSlots: w.polled.instances,
    providerListedAt: w.polled.at,
    placements: w.policy.placements,
    placementsFor: w.policy.perSlot,
    spotPrices: spotPricesNow(w),
    launchTimeoutMs: w.config.launchTimeoutMs,
    now: w.now,
    memory: view.memory,
  };
  const plan = planReplacement({ ...base, self: lowest });
  view.lastDeficit = plan.deficit;
  actAsLauncher(w, side, lowest, plan);
  if (plan.launches.length > 0 && second !== null && w.rng() < w.config.duelShare) {
    actAsLauncher(w, side, second, planReplacement({ ...base, self: second, assumeLauncher: true }));
  }
  if (plan.deficit > 0) requestEval(w, side, w.now + RECHECK_MS);
  scheduleTimeouts(w, side, launches);
  // planSurplus can only name a node when an at-risk node is replaced or overdue, or the warm fleet exceeds the target.
  view.lastAtRisk = atRisk;
  const overdue = w.now - oldestRisk >= surplusWindow(w);
  if ((atRisk > 0 && (warm >= target || overdue)) || warm > target) surplus(w, side);
  else if (atRisk > 0) requestEval(w, side, oldestRisk + surplusWindow(w));
}

/** One pass over a side's view: the rule's inputs and what the simulator needs beside them. */
function derive(view: SideView): DerivedView {
  const peers: PeerFacts[] = [];
  const launches: LaunchRecord[] = [];
  let lowest: string | null = null;
  let second: string | null = null;
  let atRisk = 0;
  let oldestRisk = Number.POSITIVE_INFINITY;
  let warm = 0;
  for (const e of view.peers.values()) {
    peers.push(e.facts);
    for (const r of e.records) launches.push(r);
    const f = e.facts;
    if (f.alive && !f.draining && f.interrupted === 'rebalance') {
      atRisk++;
      oldestRisk = Math.min(oldestRisk, e.noticedAt);
    }
    if (!f.alive || f.interrupted !== null || f.draining) continue;
    if (e.warm) warm++;
    if (lowest === null || f.peerId < lowest) {
      second = lowest;
      lowest = f.peerId;
    } else if (second === null || f.peerId < second) second = f.peerId;
  }
  return { peers, launches, lowest, second, atRisk, oldestRisk, warm };
}

function actAsLauncher(w: World, side: number, peerId: string, plan: ReplacementPlan): void {
  const node = w.nodes.get(peerId);
  if (node === undefined || node.state === 'gone' || node.side !== side) return; // the view is stale: it is dead
  let changed = false;
  if (plan.settle.length > 0) {
    const drop = new Set(plan.settle);
    node.records = node.records.filter((r) => !drop.has(r.token));
    changed = true;
  }
  const members = sideMembers(w, side);
  for (const d of plan.launches) {
    if (!plan.quorum) w.counters.launchesWithoutQuorum++;
    if (members * 2 <= targetOf(w, side)) {
      w.counters.minorityLaunches++;
      const noticed = w.now - w.partitionedAt > SUSPECT_AFTER_MS + HEARTBEAT_MS;
      if (noticed && !plan.providerConfirms && heldElsewhere(w, d.slot)) w.counters.minorityLaunchesWithoutWitness++;
    }
    changed = tryLaunch(w, node, d) || changed;
  }
  if (changed) publishNow(w, node);
}

/**
 * Fences first (terminates the listed instances the plan names: their agents are dead in a
 * view with quorum), then walks the decision's placements in order; the first that succeeds
 * is gossiped as a launch in flight.
 */
function tryLaunch(w: World, node: SimNode, d: LaunchDecision): boolean {
  for (const id of d.fence) fence(w, id);
  for (const a of d.attempts) {
    const res = w.provider.run(a.token, a.placement, d.slot, node.side, w.now);
    if (!res.ok) continue;
    if (res.fresh) {
      w.counters.replacements++;
      w.provider.stats.doubleLaunches += conflicts(w, res.instance);
      launched(w, res.instance);
    }
    if (!node.records.some((r) => r.token === a.token)) {
      node.records.push({
        token: a.token,
        slot: d.slot,
        startedAt: w.now,
        generation: d.generation,
        replaces: d.replaces,
        placementIndex: a.placementIndex,
        launcher: node.peerId,
      });
    }
    return true;
  }
  return false;
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

/** TerminateInstances on a fenced instance: its agent (if it joined) dies with it. */
function fence(w: World, id: string): void {
  const inst = w.provider.byId(id);
  if (inst === undefined) return;
  w.counters.fenced++;
  if (inst.node !== null) kill(w, inst.node);
  else {
    w.provider.terminate(inst, w.now);
    adjustProvisioned(w, -1); // it was provisioned (booting) since its launch
  }
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

function scheduleTimeouts(w: World, side: number, launches: readonly LaunchRecord[]): void {
  for (const r of launches) {
    const due = r.startedAt + w.config.launchTimeoutMs;
    if (due > w.now) requestEval(w, side, due);
  }
}

/** The rebalance window: twice the mean lead of a recommendation, after which no interruption is likely to follow. */
function surplusWindow(w: World): number {
  return w.config.rebalanceLeadMs * 2;
}

function surplus(w: World, side: number): void {
  const peers: SurplusPeer[] = [];
  for (const e of w.views[side]!.peers.values()) peers.push(e.surplus);
  const d = planSurplus({ target: targetOf(w, side), peers, now: w.now, rebalanceWindowMs: surplusWindow(w) });
  if (d.kind !== 'drain') return;
  const node = w.nodes.get(d.peerId);
  if (node !== undefined && node.side === side) startDrain(w, node);
}
