import { launchToken, PROVIDER_LIST_LAG_MS } from '@synkti/fleet';
import { seededRng } from '@synkti/interface';
import { type SimConfig, resolveConfig } from './config.js';
import { HOUR_MS, PROVIDER_POLL_MS, REQUEST_MODE_MAX_REQUESTS, SERIES_POINTS } from './constants.js';
import { apply, endPartition, onDead, onForget, onSilent, publishNow, rememberInstance, requestEval, startPartition } from './gossip.js';
import { evaluateSide } from './launcher.js';
import { adjustProvisioned, createNode, onGone, onJoin, onNotice, onRebalance, onWarm, onWave } from './lifecycle.js';
import { buildMarkets, inShortage, priceAt, spotCost } from './market.js';
import { policyFor } from './policies/index.js';
import { SimProvider } from './provider.js';
import { exponential } from './random.js';
import { countersToResult, type SimResult } from './result.js';
import { fluidP99, onFluidStep } from './traffic/fluid.js';
import { arrivalRatePerS, newTraffic } from './traffic/model.js';
import { onArrive, onComplete } from './traffic/requests.js';
import { newWorld, type SimEvent, schedule, type World } from './world.js';

export interface RunOptions {
  /** Agents alive at time 0 (default: the target). 1 starts a new fleet from a single node. */
  initialNodes?: number;
}

/** Runs one deterministic simulation: the same config (seed included) gives the same result. */
export function runSimulation(partial: Partial<SimConfig> = {}, options: RunOptions = {}): SimResult {
  const config = resolveConfig(partial);
  const w = buildWorld(config);
  bootstrap(w, Math.min(config.nodes, options.initialNodes ?? config.nodes));
  scheduleProcesses(w);
  for (;;) {
    if (w.heap.peekTime() > w.endAt) break;
    const next = w.heap.pop();
    if (next === undefined) break;
    w.now = next.time;
    w.counters.events++;
    handle(w, next.item);
  }
  w.now = w.endAt;
  return finish(w);
}

function buildWorld(config: SimConfig): World {
  const rng = seededRng(config.seed);
  const trafficRng = seededRng((config.seed ^ 0x9e3779b9) >>> 0);
  const markets = buildMarkets(config, rng);
  const index = new Map(markets.map((m, i) => [`${m.zone}/${m.instanceType}`, i]));
  const provider = new SimProvider(
    (p) => index.get(`${p.subnet}/${p.instanceType}`) ?? 0,
    (m, t) => inShortage(markets[m]!, t),
  );
  const endAt = config.hours * HOUR_MS;
  const rate = arrivalRatePerS(config);
  const expected = (rate * endAt) / 1000;
  const requests = config.traffic === 'requests' || (config.traffic === 'auto' && expected <= REQUEST_MODE_MAX_REQUESTS);
  return newWorld({ config, policy: policyFor(config), rng, trafficRng, endAt, markets, provider, traffic: newTraffic(requests ? 'requests' : 'fluid', rate) });
}

/** The fleet at time 0: `count` warm agents in slots 0..count-1, launched with first-launch tokens. */
function bootstrap(w: World, count: number): void {
  for (let i = 0; i < count; i++) {
    const slot = String(i);
    const placements = w.policy.placementsFor(slot);
    for (let p = 0; p < placements.length; p++) {
      const token = launchToken({ fleet: w.config.fleet, slot, replaces: null, generation: 0, placementIndex: p });
      const res = w.provider.run(token, placements[p]!, slot, 0, 0);
      if (!res.ok) continue;
      w.provider.joined(res.instance);
      adjustProvisioned(w, 1);
      const node = createNode(w, res.instance, 0);
      onWarm(w, node);
      publishNow(w, node);
      break;
    }
  }
  poll(w);
}

/**
 * DescribeInstances by tag. Agents remember what it lists; a side re-evaluates at once when the
 * listing shows one of its launches in flight failed (a slot it blocks is rechecked anyway
 * while the side sees a deficit).
 */
function poll(w: World): void {
  const instances = w.provider.list();
  const changed = instances !== w.polled.instances;
  w.polled = { count: instances.length, instances, at: w.now };
  if (!changed) return;
  // Every agent remembers what the provider listed in each slot (fleet `rememberListed`, in place
  // here): only instances launched since the last poll can be news, the rest are remembered already.
  const fresh = w.provider.launchedSince(w.polledUpTo);
  w.polledUpTo = w.provider.stats.instances;
  for (const side of w.partitioned ? [0, 1] : [0]) {
    const view = w.views[side]!;
    for (const inst of fresh) if (inst.endedAt === null) rememberInstance(view.memory, inst.slot, inst.id, inst.launchedAt);
    if (view.derived === null || view.derived.launches.some((r) => launchGone(w, r.token, r.startedAt))) requestEval(w, side, w.now);
  }
}

function scheduleProcesses(w: World): void {
  const c = w.config;
  schedule(w, PROVIDER_POLL_MS, { k: 'poll' });
  schedule(w, 0, { k: 'sample' });
  if (c.waveRatePerHour > 0) {
    w.markets.forEach((_, market) => {
      schedule(w, exponential(w.rng, HOUR_MS / c.waveRatePerHour), { k: 'wave', market });
    });
  }
  if (c.partitionRatePerHour > 0) schedule(w, exponential(w.rng, HOUR_MS / c.partitionRatePerHour), { k: 'partition-start' });
  schedule(w, 0, { k: w.traffic.mode === 'fluid' ? 'fluid' : 'arrive' });
  w.views[0]!.evalAt = 0;
  schedule(w, 0, { k: 'eval', side: 0, at: 0 });
}

function handle(w: World, ev: SimEvent): void {
  switch (ev.k) {
    case 'deliver':
      apply(w, ev.side, ev.snap);
      return;
    case 'silent':
      onSilent(w, ev.side, ev.peerId, ev.seq);
      return;
    case 'dead':
      onDead(w, ev.side, ev.peerId, ev.seq);
      return;
    case 'forget':
      onForget(w, ev.side, ev.peerId, ev.seq);
      return;
    case 'eval':
      // Only the latest request runs: an earlier one supersedes a later one, and re-derives its own follow-ups.
      if (w.views[ev.side]!.evalAt === ev.at) evaluateSide(w, ev.side);
      return;
    case 'join':
      onJoin(w, ev.inst, ev.fails);
      return;
    case 'warm':
      onWarm(w, ev.node);
      return;
    case 'rebalance':
      onRebalance(w, ev.node, ev.at);
      return;
    case 'notice':
      onNotice(w, ev.node, ev.at);
      return;
    case 'gone':
      onGone(w, ev.node, ev.at);
      return;
    case 'wave':
      onWave(w, ev.market);
      return;
    case 'partition-start':
      startPartition(w);
      return;
    case 'partition-end':
      endPartition(w);
      return;
    case 'poll':
      poll(w);
      schedule(w, w.now + PROVIDER_POLL_MS, { k: 'poll' });
      return;
    case 'sample':
      sample(w);
      return;
    case 'fluid':
      onFluidStep(w);
      return;
    case 'arrive':
      onArrive(w);
      return;
    case 'complete':
      onComplete(w, ev.node);
      return;
  }
}

function sample(w: World): void {
  w.series.t.push(round(w.now / HOUR_MS, 4));
  w.series.serving.push(w.servingList.length);
  w.series.instances.push(w.provider.count());
  schedule(w, w.now + w.endAt / SERIES_POINTS, { k: 'sample' });
}

function finish(w: World): SimResult {
  const c = w.config;
  if (w.servingList.length < c.nodes) w.servingBelowMs += w.endAt - w.servingLastChange;
  if (w.provisioned < c.nodes) {
    w.restore.belowMs += w.endAt - w.restore.lastChange;
    if (!w.partitioned && w.restore.belowSince !== null) {
      w.restore.maxRestoreMs = Math.max(w.restore.maxRestoreMs, w.endAt - Math.max(w.restore.reference, w.restore.belowSince));
    }
  }
  let cost = 0;
  for (const inst of w.provider.all()) {
    const end = inst.endedAt ?? w.endAt;
    cost += inst.market < 0 ? (c.onDemandPricePerHour * (end - inst.launchedAt)) / HOUR_MS : spotCost(w.markets[inst.market]!, inst.launchedAt, end);
  }
  const onDemandCost = c.nodes * c.hours * c.onDemandPricePerHour;
  const t = w.traffic;
  const waits = t.waits.subarray(0, t.waitCount).sort();
  const p99 = t.mode === 'fluid' ? fluidP99(t.steps, c.requestTimeoutMs) : (waits[Math.min(waits.length - 1, Math.floor(waits.length * 0.99))] ?? 0);
  const arrived = Math.round(t.arrived);
  return {
    config: c,
    policy: w.policy.label,
    trafficMode: t.mode,
    costUsd: round(cost, 2),
    onDemandCostUsd: round(onDemandCost, 2),
    savings: round(1 - cost / onDemandCost, 5),
    requests: {
      arrived,
      served: Math.round(t.served),
      failed: Math.round(t.failed),
      successRate: arrived === 0 ? 1 : round(1 - t.failed / t.arrived, 6),
      p99QueueMs: round(p99, 1),
    },
    ...countersToResult(w.counters, w.provider.stats),
    belowTargetHours: round(w.servingBelowMs / HOUR_MS, 4),
    provisionedBelowTargetHours: round(w.restore.belowMs / HOUR_MS, 4),
    maxRestoreMs: round(w.restore.maxRestoreMs, 0),
    series: {
      ...w.series,
      prices: w.markets.map((m) => w.series.t.map((h) => round(priceAt(m, h * HOUR_MS), 4))),
      markets: w.markets.map((m) => `${m.zone}/${m.instanceType}`),
    },
  };
}

/** A launch in flight whose instance is no longer listed, long enough after it started for the rule to call it failed. */
function launchGone(w: World, token: string, startedAt: number): boolean {
  if (w.now - startedAt < PROVIDER_LIST_LAG_MS || w.now - startedAt >= w.config.launchTimeoutMs) return false;
  const inst = w.provider.byToken(token);
  return inst === undefined || inst.endedAt !== null;
}

export function round(x: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}
