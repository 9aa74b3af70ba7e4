import { DRAIN_MS, HOUR_MS } from './constants.js';
import { publish } from './gossip.js';
import type { SimInstance } from './provider.js';
import { exponential, hexId } from './random.js';
import { rerouteQueue } from './traffic/requests.js';
import { schedule, type SimNode, type World } from './world.js';

/** Capacity the fleet counts on: a spot-return node serves until its spot replacement is warm, so it is no loss. */
const provisioned = (n: SimNode): boolean => n.state !== 'gone' && (n.interrupted === null || n.spotReturn) && !n.draining;

/** Runs a change to a node, keeping the provisioned count, restore tracking and serving list in step. */
function change(w: World, node: SimNode, mutate: () => void): void {
  const before = provisioned(node);
  mutate();
  const after = provisioned(node);
  if (before !== after) adjustProvisioned(w, after ? 1 : -1);
  updateServing(w, node);
}

export function adjustProvisioned(w: World, delta: number): void {
  const r = w.restore;
  const target = w.target;
  const wasBelow = w.provisioned < target;
  if (wasBelow) r.belowMs += w.now - r.lastChange;
  r.lastChange = w.now;
  w.provisioned += delta;
  if (delta < 0) r.reference = w.now;
  const below = w.provisioned < target;
  if (below && !wasBelow) r.belowSince = w.now;
  if (!below && wasBelow && r.belowSince !== null) {
    if (!w.partitioned) r.maxRestoreMs = Math.max(r.maxRestoreMs, w.now - Math.max(r.reference, r.belowSince));
    r.belowSince = null;
  }
}

function updateServing(w: World, node: SimNode): void {
  const serving = node.state === 'warm' && !node.draining && node.interrupted !== 'terminate';
  if (serving === node.serving) return;
  flushServing(w);
  node.serving = serving;
  if (serving) {
    node.servingIndex = w.servingList.length;
    w.servingList.push(node);
    noteWarmScaleOut(w);
  } else {
    const last = w.servingList.pop()!;
    if (last !== node) {
      w.servingList[node.servingIndex] = last;
      last.servingIndex = node.servingIndex;
    }
    node.servingIndex = -1;
    rerouteQueue(w, node);
  }
}

/** Counts the time since the last change as below target or not, under the target in force until now. */
function flushServing(w: World): void {
  if (w.servingList.length < w.target) w.servingBelowMs += w.now - w.servingLastChange;
  w.servingLastChange = w.now;
}

/** A scale-out is warm once as many agents serve as it decided (recent ones first; older ones are settled). */
function noteWarmScaleOut(w: World): void {
  const events = w.scale.events;
  for (let i = events.length - 1; i >= 0 && i >= events.length - 16; i--) {
    const e = events[i]!;
    if (e.to > e.from && e.warmAt === null && w.servingList.length >= e.to) e.warmAt = w.now;
  }
}

/**
 * A new fleet size (autoscaling): the time so far is accounted under the old target, then the
 * restore tracking starts over under the new one. A scale-out is no loss: its below-target
 * time starts now, not at the last departure.
 */
export function setTarget(w: World, target: number): void {
  flushServing(w);
  adjustProvisioned(w, 0);
  w.target = target;
  if (w.provisioned < target) w.restore.reference = w.now;
  adjustProvisioned(w, 0);
}

/** A fresh instance from the provider: it boots, then its agent joins (or it never does). */
export function launched(w: World, inst: SimInstance): void {
  adjustProvisioned(w, 1);
  schedule(w, w.now + w.config.bootMs, { k: 'join', inst, fails: w.rng() < w.config.bootFailureShare });
}

export function onJoin(w: World, inst: SimInstance, fails: boolean): void {
  if (inst.endedAt !== null) return; // fenced while booting
  if (fails) {
    w.counters.bootFailures++;
    w.provider.terminate(inst, w.now);
    adjustProvisioned(w, -1);
    return;
  }
  w.provider.joined(inst);
  const node = createNode(w, inst, w.partitioned ? inst.side : 0);
  publish(w, node);
  schedule(w, inst.launchedAt + w.config.coldStartMs, { k: 'warm', node });
}

export function createNode(w: World, inst: SimInstance, side: number): SimNode {
  const skewMs = w.config.clockSkewMs > 0 ? (w.rng() * 2 - 1) * w.config.clockSkewMs : 0;
  const node: SimNode = {
    peerId: hexId(w.rng, 12),
    inst,
    slot: inst.slot,
    side,
    // Its start time on its own clock, as an agent stamps it.
    incarnation: w.now + skewMs,
    state: 'starting',
    interrupted: null,
    spotReturn: false,
    noticedAt: 0,
    draining: false,
    records: [],
    seq: 0,
    skewMs,
    preemptAt: Number.POSITIVE_INFINITY,
    serving: false,
    servingIndex: -1,
    active: 0,
    queue: [],
  };
  w.nodes.set(node.peerId, node);
  inst.node = node;
  if (inst.market >= 0) schedulePreemption(w, node);
  // A fallback the fleet launched on-demand (spot was short) asks to go back to spot, as the agent does.
  else if (w.config.policy === 'fallback' && w.now > 0 && w.config.spotReturnAfterMs > 0) schedule(w, w.now + w.config.spotReturnAfterMs, { k: 'spot-return', node });
  return node;
}

function schedulePreemption(w: World, node: SimNode): void {
  const c = w.config;
  if (c.hazardPerHour > 0) {
    const at = w.now + exponential(w.rng, HOUR_MS / c.hazardPerHour);
    node.preemptAt = at;
    schedule(w, at - c.noticeMs, { k: 'notice', node, at });
    schedule(w, at, { k: 'gone', node, at });
    if (w.rng() < c.rebalanceShare) {
      schedule(w, at - c.noticeMs - exponential(w.rng, c.rebalanceLeadMs), { k: 'rebalance', node, at });
    }
  }
  if (c.falseRebalancePerHour > 0) {
    schedule(w, w.now + exponential(w.rng, HOUR_MS / c.falseRebalancePerHour), { k: 'rebalance', node, at: -1 });
  }
}

export function onWarm(w: World, node: SimNode): void {
  if (node.state !== 'starting') return;
  change(w, node, () => {
    node.state = 'warm';
  });
  publish(w, node);
}

export function onRebalance(w: World, node: SimNode, at: number): void {
  if (node.state === 'gone' || node.draining || node.interrupted !== null) return;
  if (at !== -1 && node.preemptAt !== at) return;
  if (at === -1) w.counters.falseRebalances++;
  w.counters.rebalances++;
  change(w, node, () => {
    node.interrupted = 'rebalance';
    node.noticedAt = w.now + node.skewMs;
  });
  publish(w, node);
}

/** The on-demand fallback marks itself at risk with cause spot-return: the rule walks spot only for its slot. */
export function onSpotReturn(w: World, node: SimNode): void {
  if (node.state === 'gone' || node.draining || node.interrupted !== null) return;
  w.counters.spotReturns++;
  change(w, node, () => {
    node.interrupted = 'rebalance';
    node.spotReturn = true;
    node.noticedAt = w.now + node.skewMs;
  });
  publish(w, node);
}

export function onNotice(w: World, node: SimNode, at: number): void {
  if (node.state === 'gone' || node.preemptAt !== at) return;
  w.counters.preemptions++;
  change(w, node, () => {
    node.interrupted = 'terminate';
    node.noticedAt = w.now + node.skewMs;
    node.draining = true;
  });
  publish(w, node);
}

export function onGone(w: World, node: SimNode, at: number): void {
  if (node.state === 'gone' || node.preemptAt !== at) return;
  change(w, node, () => {
    node.state = 'gone';
  });
  w.provider.terminate(node.inst, w.now);
  publish(w, node, true);
}

/** The instance is terminated under the agent (fenced): it is gone at once, without a notice. */
export function kill(w: World, node: SimNode): void {
  if (node.state === 'gone') return;
  node.preemptAt = w.now; // stale notice and gone events of its own preemption no longer apply
  onGone(w, node, w.now);
}

/** The node drains itself (surplus or replaced at-risk node) and leaves when its requests are done. */
export function startDrain(w: World, node: SimNode): void {
  if (node.state === 'gone' || node.draining) return;
  w.counters.surplusDrains++;
  change(w, node, () => {
    node.draining = true;
  });
  node.preemptAt = w.now + DRAIN_MS;
  schedule(w, node.preemptAt, { k: 'gone', node, at: node.preemptAt });
  publish(w, node);
}

/** A correlated reclaim: a share of one market's spot instances get their notice now. */
export function onWave(w: World, market: number): void {
  w.counters.waves++;
  for (const node of w.nodes.values()) {
    if (node.state === 'gone' || node.inst.market !== market || node.draining) continue;
    if (w.rng() >= w.config.waveShare) continue;
    const at = w.now + w.config.noticeMs;
    node.preemptAt = at;
    schedule(w, w.now, { k: 'notice', node, at });
    schedule(w, at, { k: 'gone', node, at });
  }
  if (w.config.waveRatePerHour > 0) {
    schedule(w, w.now + exponential(w.rng, HOUR_MS / w.config.waveRatePerHour), { k: 'wave', market });
  }
}
