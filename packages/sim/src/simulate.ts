import { launchToken, PROVIDER_LIST_LAG_MS } from '@synkti/fleet';
import { seededRng } from '@synkti/interface';
import { initialTarget, onScaleTick } from './autoscale.js';
import { type SimConfig, resolveConfig } from './config.js';
import { HOUR_MS, PROVIDER_POLL_MS, REQUEST_MODE_MAX_REQUESTS, SERIES_POINTS } from './constants.js';
import { apply, endPartition, onDead, onForget, onSilent, publishNow, requestEval, startPartition } from './gossip.js';
import { deliverListing, evaluateSide, takeListing } from './launcher.js';
import { adjustProvisioned, createNode, onGone, onJoin, onNotice, onRebalance, onSpotReturn, onWarm, onWave } from './lifecycle.js';
import { buildMarkets, inShortage, priceAt, spotCost } from './market.js';
import { walkFor } from './placement.js';
import { policyFor } from './policies/index.js';
import { SimProvider } from './provider.js';
import { exponential } from './random.js';
import { countersToResult, type SimResult } from './result.js';
import { fluidP99, onFluidStep } from './traffic/fluid.js';
import { arrivalRatePerS, MEAN_SERVICE_MS, newTraffic, rateAt } from './traffic/model.js';
import { onArrive, onComplete } from './traffic/requests.js';
import { buildShape } from './traffic/shape.js';
import { newWorld, type SimEvent, schedule, type World } from './world.js';

export interface RunOptions {
  /** Agents alive at time 0 (default: the target). 1 starts a new fleet from a single node. */
  initialNodes?: number;
}

/** Runs one deterministic simulation: the same config (seed included) gives the same result. */
export function runSimulation(partial: Partial<SimConfig> = {}, options: RunOptions = {}): SimResult {
  const config = resolveConfig(partial);
  const w = buildWorld(config);
  bootstrap(w, Math.min(w.target, options.initialNodes ?? w.target));
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
  // The trace draws from its own stream: the same seed gives the same load whatever the fleet does.
  const shape = buildShape(config.trafficShape, endAt, seededRng((config.seed ^ 0x85ebca6b) >>> 0));
  const expected = (rate * meanFactor(shape.factorAt, endAt) * endAt) / 1000;
  const requests = config.traffic === 'requests' || (config.traffic === 'auto' && expected <= REQUEST_MODE_MAX_REQUESTS);
  const traffic = newTraffic(requests ? 'requests' : 'fluid', rate, shape);
  const policy = policyFor(config);
  const placementMarkets = policy.placements.map((p) => (p.onDemand === true ? -1 : (index.get(`${p.subnet}/${p.instanceType}`) ?? -1)));
  return newWorld({ config, policy, rng, trafficRng, endAt, markets, provider, traffic, placementMarkets, target: initialTarget(config, traffic) });
}

/** The trace's mean share of peak over the run, from 1,000 points (only to choose the traffic model). */
function meanFactor(factorAt: (t: number) => number, endAt: number): number {
  let sum = 0;
  for (let i = 0; i < 1000; i++) sum += factorAt(((i + 0.5) * endAt) / 1000);
  return sum / 1000;
}

/** The fleet at time 0: `count` warm agents in slots 0..count-1, launched with first-launch tokens. */
function bootstrap(w: World, count: number): void {
  for (let i = 0; i < count; i++) {
    const slot = String(i);
    for (const { placement, placementIndex } of walkFor(w, slot)) {
      const token = launchToken({ fleet: w.config.fleet, slot, replaces: null, generation: 0, placementIndex });
      const res = w.provider.run(token, placement, slot, 0, 0);
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
 * The launcher's routine DescribeInstances by tag between evaluations (the core asks for more
 * when it waits on the provider: see `deliverListing`). Each side's core takes it in; a side
 * re-evaluates at once when the listing shows one of its launches in flight failed (a slot it
 * blocks is rechecked anyway while the side sees a deficit).
 */
function poll(w: World): void {
  const instances = w.provider.list();
  w.polled = { count: instances.length, instances, at: w.now };
  for (const side of w.partitioned ? [0, 1] : [0]) {
    const view = w.views[side]!;
    // Each side keeps its own listing (a side's launcher also lists on its own: deliverListing).
    if (view.core.listing.snapshot?.instances === instances) continue;
    takeListing(w, side);
    if (view.derived === null || view.derived.launches.some((r) => launchGone(w, r.token, r.startedAt))) requestEval(w, side, w.now);
  }
}

function scheduleProcesses(w: World): void {
  const c = w.config;
  schedule(w, PROVIDER_POLL_MS, { k: 'poll' });
  schedule(w, 0, { k: 'sample' });
  if (c.autoscale) schedule(w, 0, { k: 'scale' });
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
      onSilent(w, ev.side, ev.peerId, ev.seq, ev.deadAt, ev.forgetAt);
      return;
    case 'dead':
      onDead(w, ev.side, ev.peerId, ev.seq);
      return;
    case 'forget':
      onForget(w, ev.side, ev.peerId, ev.seq);
      return;
    case 'listed':
      deliverListing(w, ev.side);
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
    case 'spot-return':
      onSpotReturn(w, ev.node);
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
    case 'scale':
      onScaleTick(w);
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
  w.series.target.push(w.target);
  w.series.demand.push(round((rateAt(w.traffic, w.now) * MEAN_SERVICE_MS) / 1000, 1));
  schedule(w, w.now + w.endAt / SERIES_POINTS, { k: 'sample' });
}

function finish(w: World): SimResult {
  const c = w.config;
  if (w.servingList.length < w.target) w.servingBelowMs += w.endAt - w.servingLastChange;
  if (w.provisioned < w.target) {
    w.restore.belowMs += w.endAt - w.restore.lastChange;
    if (!w.partitioned && w.restore.belowSince !== null) {
      w.restore.maxRestoreMs = Math.max(w.restore.maxRestoreMs, w.endAt - Math.max(w.restore.reference, w.restore.belowSince));
    }
  }
  const bill = billing(w);
  const cost = bill.spotUsd + bill.onDemandUsd;
  const onDemandCost = c.nodes * c.hours * c.onDemandPricePerHour;
  const t = w.traffic;
  const waits = t.waits.subarray(0, t.waitCount).sort();
  const p99 = t.mode === 'fluid' ? fluidP99(t.steps, c.requestTimeoutMs) : (waits[Math.min(waits.length - 1, Math.floor(waits.length * 0.99))] ?? 0);
  const arrived = Math.round(t.arrived);
  return {
    config: c,
    policy: c.autoscale ? `${w.policy.label}, autoscaled ${c.minNodes}–${c.nodes}` : w.policy.label,
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
    hours: { spot: round(bill.spotHours, 2), onDemand: round(bill.onDemandHours, 2) },
    prices: {
      paidSpotPerHour: bill.spotHours === 0 ? null : round(bill.spotUsd / bill.spotHours, 4),
      meanSpotPerHour: round(w.markets.reduce((sum, m) => sum + spotCost(m, 0, w.endAt), 0) / (w.markets.length * c.hours), 4),
    },
    scale: {
      outs: w.scale.events.filter((e) => e.to > e.from).length,
      ins: w.scale.events.filter((e) => e.to < e.from).length,
      events: w.scale.events.map((e) => ({ h: round(e.at / HOUR_MS, 4), from: e.from, to: e.to, reason: e.reason, warmAfterMs: e.warmAt === null ? null : Math.round(e.warmAt - e.at) })),
    },
    series: {
      ...w.series,
      prices: w.markets.map((m) => w.series.t.map((h) => round(priceAt(m, h * HOUR_MS), 4))),
      markets: w.markets.map((m) => `${m.zone}/${m.instanceType}`),
    },
  };
}

/** What the provider bills: every instance from its launch to its end (or the run's end). */
function billing(w: World): { spotUsd: number; onDemandUsd: number; spotHours: number; onDemandHours: number } {
  const out = { spotUsd: 0, onDemandUsd: 0, spotHours: 0, onDemandHours: 0 };
  for (const inst of w.provider.all()) {
    const end = inst.endedAt ?? w.endAt;
    const hours = (end - inst.launchedAt) / HOUR_MS;
    if (inst.market < 0) {
      out.onDemandUsd += w.config.onDemandPricePerHour * hours;
      out.onDemandHours += hours;
    } else {
      out.spotUsd += spotCost(w.markets[inst.market]!, inst.launchedAt, end);
      out.spotHours += hours;
    }
  }
  return out;
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
