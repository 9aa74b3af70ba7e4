/** How often each agent publishes its state; fast enough to stop routing to a lost node within a second. */
export const HEARTBEAT_INTERVAL_MS = 1_000;
/** Three missed heartbeats make a peer suspect: one lost message must not, three in a row rarely happen on a healthy link. */
export const SUSPECT_AFTER_MS = 3 * HEARTBEAT_INTERVAL_MS;
/** Silence this long makes a peer dead; long enough to ride out a GC pause or a brief partition. */
export const DEAD_AFTER_MS = 10_000;
/**
 * States a node receives per second at most when nothing changes: each agent's keep-alive period
 * is max(heartbeat, fleet size / this), so a node's membership cost stops growing with the fleet
 * past this many peers (20 at a 1 s heartbeat). Changes still go out at once.
 */
export const STATES_PER_SECOND_BUDGET = 20;
/** A peer that announces a keep-alive period is suspect after this many silent periods (if longer than suspectAfter)… */
export const SUSPECT_AFTER_BEATS = 3;
/** …and dead after this many (if longer than deadAfter). */
export const DEAD_AFTER_BEATS = 10;
/** Dead peers stay listed this long (for the dashboard and for late goodbyes), then are forgotten. */
export const FORGET_AFTER_MS = 60_000;
/** A view never tracks more peers than this; beyond it the stalest dead entries go first. */
export const MAX_PEERS_IN_VIEW = 4_096;
/**
 * Goodbyes are remembered this long (at least; `forgetAfterMs` if longer): until then a peer can
 * tell an instance whose agent left on purpose (it terminates itself) from one it never knew,
 * which it leaves alone until the launch timeout. As long as the default launch timeout.
 */
export const DEPARTURE_MEMORY_MS = 10 * 60_000;
