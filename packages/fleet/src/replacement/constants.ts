/** Defaults of the replacement rule, each with the reason for its value. */

/** EC2 `RunInstances` accepts a `ClientToken` of at most 64 ASCII characters. */
export const MAX_TOKEN_CHARS = 64;
/** Prefix of hashed tokens; the digit is the token scheme's version, so a new scheme never reuses old tokens. */
export const HASHED_TOKEN_PREFIX = 's1-';
/** A launch not joined within this long is retried with the next generation: boot plus agent start on EC2 takes 1–3 min. */
export const LAUNCH_TIMEOUT_MS = 10 * 60_000;
/**
 * A launch whose token the provider does not list this long after it started has failed (its
 * instance was terminated before joining). DescribeInstances is eventually consistent: new
 * instances usually show within seconds; a minute keeps a wide margin.
 */
export const PROVIDER_LIST_LAG_MS = 60_000;
/** One plan never asks for more launches than a NodeState may gossip (protocol MAX_LAUNCHES_PER_NODE). */
export const MAX_LAUNCHES_PER_PLAN = 64;
/** Own launch records, timed out and not superseded, are kept this long so the next generation is still known. */
export const LAUNCH_RECORD_MAX_AGE_MS = 60 * 60_000;
/** A rebalance-recommended node that no interruption followed is surplus after this window (when the fleet is above target). */
export const REBALANCE_WINDOW_MS = 15 * 60_000;
/** Upper bound on slots a target may ask for: keeps every loop in the rule bounded. */
export const MAX_TARGET = 100_000;
/**
 * An agent that said goodbye terminates its own instance within seconds (the agent's own attempt
 * is bounded by 30 s, then the machine shuts itself down). Peers leave it alone this long before
 * fencing it: fencing a node in the middle of its clean stop once cut its last log lines.
 */
export const DEPARTED_SELF_TERMINATE_MS = 60_000;
