import { NODE_CONCURRENCY } from '../constants.js';
import { exponential } from '../random.js';
import { schedule, type SimNode, type SimRequest, type World } from '../world.js';
import { rateAt, recordWait, sampleServiceMs } from './model.js';

/**
 * Request-level traffic: Poisson arrivals, each routed by power of two choices over the
 * serving agents (score = running + queued, over capacity — the design's routing choice,
 * without the gateway's own in-flight term, which the simulator folds into the load).
 */
export function onArrive(w: World): void {
  const t = w.traffic;
  // The next gap at the current rate: traces move over minutes, gaps last milliseconds.
  schedule(w, w.now + exponential(w.trafficRng, 1000 / rateAt(t, w.now)), { k: 'arrive' });
  t.arrived++;
  dispatch(w, { arrivedAt: w.now, serviceMs: sampleServiceMs(w.trafficRng) });
}

function choose(w: World): SimNode | undefined {
  const list = w.servingList;
  if (list.length === 0) return undefined;
  const a = list[Math.floor(w.trafficRng() * list.length)]!;
  const b = list[Math.floor(w.trafficRng() * list.length)]!;
  return a.active + a.queue.length <= b.active + b.queue.length ? a : b;
}

function dispatch(w: World, req: SimRequest): void {
  const node = choose(w);
  if (node === undefined) {
    w.traffic.failed++;
    return;
  }
  if (node.active < NODE_CONCURRENCY) start(w, node, req);
  else node.queue.push(req);
}

function start(w: World, node: SimNode, req: SimRequest): void {
  const wait = w.now - req.arrivedAt;
  if (wait > w.config.requestTimeoutMs) {
    w.traffic.failed++;
    return;
  }
  recordWait(w.traffic, wait);
  node.active++;
  schedule(w, w.now + req.serviceMs, { k: 'complete', node, req });
}

export function onComplete(w: World, node: SimNode): void {
  node.active--;
  if (node.state === 'gone') w.traffic.failed++;
  else w.traffic.served++;
  while (node.serving && node.active < NODE_CONCURRENCY && node.queue.length > 0) start(w, node, node.queue.shift()!);
}

/** A node that stops serving hands its queued requests back (a retryable 503 before any byte). */
export function rerouteQueue(w: World, node: SimNode): void {
  if (node.queue.length === 0) return;
  const queued = node.queue;
  node.queue = [];
  for (const req of queued) dispatch(w, req);
}

/** Sequences running and waiting over the serving agents: what their engines' gauges would sum to. */
export function requestDemand(w: World): number {
  let n = 0;
  for (const node of w.servingList) n += node.active + node.queue.length;
  return n;
}
