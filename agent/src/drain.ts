import type { Clock, Logger } from '@synkti/interface';

/** How often the drain checks whether the work it waits for is done. */
const DRAIN_POLL_MS = 50;
/** After the hand-over, time for the hand-over frames to leave before the engine stops. */
const HANDOVER_FLUSH_MS = 2_000;
/** After ending the client streams still relayed, time for their error events to leave. */
const END_FLUSH_MS = 1_000;

export interface DrainParts {
  clock: Clock;
  logger: Logger;
  /** Requests this node's engine is serving (for this agent's clients and its peers'). */
  served: () => number;
  /** Ends every served stream with a hand-over; returns how many. */
  handOverAll: () => number;
  /** Client responses this agent is relaying (served here or on peers). */
  relayed: () => number;
  /** Ends every relayed response as one that cannot go on (an SSE error event for a stream). */
  endRelayed: (why: string) => void;
  /** Stops the engine once nothing is served (bounded by the given budget). */
  stopEngine: (budgetMs: number) => Promise<void>;
}

export interface DrainPlan {
  /** Until when requests served here may run before they are handed over (clock ms). */
  serveUntil: number;
  /** Until when this agent keeps relaying its own clients' streams (clock ms). */
  relayUntil: number;
  reason: string;
}

/**
 * A planned departure that loses nothing: served requests finish until `serveUntil`, streams
 * still running are then handed over (their entry agents continue them elsewhere, this agent
 * included for its own clients), the engine stops, and this agent keeps relaying its clients'
 * streams — now served by peers — until they end or `relayUntil`. The caller has already
 * stopped new work and told the fleet.
 */
export async function drainNode(parts: DrainParts, plan: DrainPlan): Promise<void> {
  const log = parts.logger.child({ component: 'drain' });
  log.warn({ reason: plan.reason, served: parts.served(), relayed: parts.relayed(), serveForMs: plan.serveUntil - parts.clock.now() }, 'draining: no new requests; running ones finish or are handed over');
  await until(parts.clock, () => parts.served() === 0, plan.serveUntil);
  const handedOver = parts.handOverAll();
  if (handedOver > 0) log.warn({ handedOver }, 'drain deadline: handed running streams over to other peers');
  await until(parts.clock, () => parts.served() === 0, Math.min(plan.relayUntil, parts.clock.now() + HANDOVER_FLUSH_MS));
  await parts.stopEngine(0);
  await until(parts.clock, () => parts.relayed() === 0, plan.relayUntil);
  const left = parts.relayed();
  if (left === 0) return log.info({}, 'drained');
  log.error({ left }, 'leaving with client streams still running; they end with an error');
  parts.endRelayed(`this agent is shutting down (${plan.reason}) and its drain deadline passed`);
  await until(parts.clock, () => parts.relayed() === 0, parts.clock.now() + END_FLUSH_MS);
}

/** Resolves when `done()` holds or the clock reaches `deadline`, checking every poll. */
function until(clock: Clock, done: () => boolean, deadline: number): Promise<void> {
  return new Promise((resolve) => {
    const check = () => {
      if (done() || clock.now() >= deadline) return resolve();
      clock.setTimeout(check, Math.min(DRAIN_POLL_MS, Math.max(1, deadline - clock.now())));
    };
    check();
  });
}
