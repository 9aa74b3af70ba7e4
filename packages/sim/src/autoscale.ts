import { addSample, type AutoscaleConfig, decideScale, type LoadSample } from '@synkti/fleet';
import { NODE_CONCURRENCY, SCALE_IN_LOAD_FRACTION, SCALE_SAMPLE_MS } from './constants.js';
import type { SimConfig } from './config.js';
import { requestEval } from './gossip.js';
import { setTarget } from './lifecycle.js';
import { MEAN_SERVICE_MS, rateAt, type TrafficState } from './traffic/model.js';
import { requestDemand } from './traffic/requests.js';
import { schedule, type World } from './world.js';

/** The agent's autoscaling settings for a simulated fleet: `nodes` is the ceiling (the fleet sized for peak). */
export function autoscaleConfig(c: SimConfig): AutoscaleConfig {
  return {
    minNodes: c.minNodes,
    maxNodes: c.nodes,
    targetLoadPerNode: c.targetUtilization * NODE_CONCURRENCY,
    kvCeiling: 0.9,
    scaleOutWindowMs: c.scaleOutWindowMs,
    scaleInWindowMs: c.scaleInWindowMs,
    scaleOutCooldownMs: c.scaleOutCooldownMs,
    scaleInCooldownMs: c.scaleInCooldownMs,
    scaleInLoadFraction: SCALE_IN_LOAD_FRACTION,
  };
}

/** The size an autoscaled fleet starts at: what the load at t = 0 needs at the target load, within bounds. */
export function initialTarget(c: SimConfig, traffic: TrafficState): number {
  if (!c.autoscale) return c.nodes;
  const demand = (rateAt(traffic, 0) * MEAN_SERVICE_MS) / 1000;
  const need = Math.ceil(demand / autoscaleConfig(c).targetLoadPerNode);
  return Math.min(c.nodes, Math.max(c.minNodes, need));
}

/**
 * The launcher's autoscaler, every SCALE_SAMPLE_MS: one load sample (sequences running and
 * waiting over the serving agents), then the fleet's own `decideScale`. A decision becomes the
 * target at once for every agent (its gossip takes milliseconds, the windows minutes) and the
 * replacement and surplus rules carry it out: new slots are launched, extra nodes drain.
 * Only the majority side decides (an agent without quorum is never the launcher), and a side
 * cut off keeps the target it knew at the cut (see SideView.target).
 */
export function onScaleTick(w: World): void {
  schedule(w, w.now + SCALE_SAMPLE_MS, { k: 'scale' });
  const c = w.config;
  const config = autoscaleConfig(c);
  const demand = w.traffic.mode === 'fluid' ? w.traffic.demand : requestDemand(w);
  const sample: LoadSample = { at: w.now, demand, nodes: w.servingList.length, kvMax: null };
  w.scale.samples = addSample(w.scale.samples, sample, Math.max(config.scaleOutWindowMs, config.scaleInWindowMs) + SCALE_SAMPLE_MS);
  if (w.servingList.length === 0) return; // nobody serving: no launcher to decide
  const verdict = decideScale({
    config,
    target: w.target,
    agreed: w.scale.decision,
    samples: w.scale.samples,
    // As the agent: no scale-in while its view sees a deficit (a partition's far side counts as lost) or the fleet is short.
    replacing: (w.views[0]!.core.plan?.deficit ?? 0) > 0 || w.provisioned < w.target || w.servingList.length < w.target,
    now: w.now,
  });
  if (verdict.kind === 'hold') return;
  const d = verdict.decision;
  w.scale.events.push({ at: w.now, from: w.target, to: d.target, reason: d.reason, warmAt: null });
  w.scale.decision = d;
  setTarget(w, d.target);
  // The deciding side follows at once; a side cut off by a partition learns it after the heal.
  requestEval(w, 0, w.now);
}
