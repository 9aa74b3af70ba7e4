/** How often each agent publishes its state; fast enough to stop routing to a lost node within a second. */
export const HEARTBEAT_INTERVAL_MS = 1_000;
/** Three missed heartbeats make a peer suspect: one lost message must not, three in a row rarely happen on a healthy link. */
export const SUSPECT_AFTER_MS = 3 * HEARTBEAT_INTERVAL_MS;
/** Silence this long makes a peer dead; long enough to ride out a GC pause or a brief partition. */
export const DEAD_AFTER_MS = 10_000;
/**
 * States a node receives per heartbeat when nothing changes: each agent's keep-alive period is
 * heartbeat × max(1, fleet size / this), so a node's membership cost does not grow with the fleet.
 * Liveness does not ride on it: a closed connection or a neighbour probe makes a peer suspect and
 * the suspicion is gossiped at once. At 20 per second an idle agent of a 20-node fleet spent ~6 %
 * of a core on states nobody needed; at 2 it is ~1–2 % (docs/benchmarks.md).
 */
export const KEEPALIVE_STATES_PER_HEARTBEAT = 2;
/**
 * States a node receives per heartbeat at most from load changes: an agent whose load moved
 * (see loadMoved) publishes at once, but no more often than heartbeat × max(1, N / this). Under
 * load the fleet sees fresh figures as before; an idle fleet sends none.
 */
export const LOAD_STATES_PER_HEARTBEAT = 20;
/** A load change worth telling the fleet before the next keep-alive: this share of capacity (or of the KV cache). */
export const LOAD_CHANGE_SHARE = 0.1;
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
