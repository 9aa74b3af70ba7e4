import { FLUID_STEP_MS, NODE_CONCURRENCY } from '../constants.js';
import { poisson } from '../random.js';
import { schedule, type World } from '../world.js';
import { erlangC } from './erlang.js';
import { MEAN_SERVICE_MS, rateAt } from './model.js';

/**
 * Aggregate traffic for large fleets: every FLUID_STEP_MS, Poisson arrivals meet the pooled
 * service capacity of the serving agents. A backlog waits deterministically (backlog ÷
 * throughput); whatever could not start within the request timeout fails. Without a backlog
 * the wait follows M/M/c (Erlang C) for the current number of sequence slots.
 */
export function onFluidStep(w: World): void {
  const t = w.traffic;
  const dt = Math.min(FLUID_STEP_MS, w.endAt - w.now);
  if (dt <= 0) return;
  schedule(w, w.now + FLUID_STEP_MS, { k: 'fluid' });
  const servers = w.servingList.length * NODE_CONCURRENCY;
  const throughputPerMs = servers / MEAN_SERVICE_MS;
  const ratePerS = rateAt(t, w.now);
  const arrivals = poisson(w.trafficRng, (ratePerS * dt) / 1000);
  t.arrived += arrivals;
  let backlog = t.backlog + arrivals;
  const started = Math.min(backlog, throughputPerMs * dt);
  backlog -= started;
  const maxBacklog = throughputPerMs * w.config.requestTimeoutMs;
  if (backlog > maxBacklog) {
    t.failed += backlog - maxBacklog;
    backlog = maxBacklog;
  }
  t.served += started;
  t.backlog = backlog;
  // Little's law for the sequences in service, plus the backlog waiting: vLLM's running + waiting.
  t.demand = (arrivals / dt) * MEAN_SERVICE_MS + backlog;
  if (arrivals === 0 || servers === 0) return;
  const lambdaPerMs = ratePerS / 1000;
  if (backlog > 0) {
    t.steps.push(arrivals, backlog / throughputPerMs, 0, 0);
    return;
  }
  // The cache holds while the rate is constant; a moving trace pays O(servers) per step.
  const constant = t.shape.name === 'constant';
  let pWait = constant ? t.pWaitCache.get(servers) : undefined;
  if (pWait === undefined) {
    pWait = erlangC(servers, lambdaPerMs * MEAN_SERVICE_MS);
    if (constant) t.pWaitCache.set(servers, pWait);
  }
  t.steps.push(arrivals, 0, pWait, throughputPerMs - lambdaPerMs);
}

/** The 99th percentile of the mixture of per-step wait distributions, by bisection (ms). */
export function fluidP99(steps: readonly number[], maxMs: number): number {
  let total = 0;
  for (let i = 0; i < steps.length; i += 4) total += steps[i]!;
  if (total === 0) return 0;
  const tail = (t: number): number => {
    let s = 0;
    for (let i = 0; i < steps.length; i += 4) {
      const [wgt, d, p, rate] = [steps[i]!, steps[i + 1]!, steps[i + 2]!, steps[i + 3]!];
      if (d > 0) s += t < d ? wgt : 0;
      else if (p > 0) s += rate > 0 ? wgt * p * Math.exp(-rate * t) : wgt;
    }
    return s / total;
  };
  if (tail(0) <= 0.01) return 0;
  let lo = 0;
  let hi = maxMs;
  for (let k = 0; k < 40; k++) {
    const mid = (lo + hi) / 2;
    if (tail(mid) > 0.01) lo = mid;
    else hi = mid;
  }
  return hi;
}
