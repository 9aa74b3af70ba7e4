/** The gossip wire version; a receiver rejects any other major version. */
export const PROTOCOL_VERSION = 1;
/** Upper bound on one encoded NodeState: a state is ~1 KiB; anything far larger is abuse. */
export const MAX_STATE_MESSAGE_BYTES = 16 * 1024;
/** Bounds on lists inside a state, so a single message cannot grow a view without limit. */
export const MAX_MODELS_PER_NODE = 32;
export const MAX_LAUNCHES_PER_NODE = 64;
export const MAX_ADDRS_PER_NODE = 16;
/** Instance IDs one state may name as fenced (terminated as dead by this agent lately). */
export const MAX_FENCED_PER_NODE = 32;
/** The longest keep-alive period a state may announce (`beatMs`): an hour, whatever the fleet's size. */
export const MAX_BEAT_MS = 3_600_000;
/** Peers one state may name as suspect (first-hand: silent past suspectAfter, or its connection closed). */
export const MAX_SUSPECTS_PER_NODE = 32;
/** The forward protocol id (libp2p stream protocol). */
export const FORWARD_PROTOCOL = '/synkti/forward/1.0.0';
/**
 * The indirect-probe protocol: "can you reach this peer?". Before a silent peer's instance is
 * terminated, the launcher asks a few others, so one bad link cannot cost a healthy node.
 */
export const PROBE_PROTOCOL = '/synkti/probe/1.0.0';
/** State sync on join: a node that just connected asks one peer for every state it holds (see mesh's state-sync). */
export const SYNC_PROTOCOL = '/synkti/sync/1.0.0';
/** The kad-dht protocol prefix, so Synkti's DHT never mixes with the public IPFS one. */
export const DHT_PROTOCOL_PREFIX = '/synkti';

/** The gossip topic carrying every agent's NodeState for one fleet. */
export function stateTopic(fleet: string): string {
  return `synkti/${fleet}/state/1`;
}
