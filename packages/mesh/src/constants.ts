/** First retry of a failed bootstrap dial; short, since the first node often starts a moment later. */
export const JOIN_RETRY_INITIAL_MS = 250;
/** Cap on the join backoff: a node cut off for long still retries every few seconds. */
export const JOIN_RETRY_MAX_MS = 5_000;
/** Per-dial budget; loopback and LAN dials finish in milliseconds, a dead address should not hold the loop. */
export const DIAL_TIMEOUT_MS = 5_000;
/**
 * The connector forgets a peer silent this many of its announced keep-alive periods (or its
 * forget time, if longer): a view calls such a peer dead after 10 periods, and in a fleet of 140
 * or more a keep-alive period is longer than the forget time alone.
 */
export const FORGET_AFTER_BEATS = 10;
/** How often the connector checks connectivity; cheap, and a quick re-join matters more than idle work. */
export const CONNECT_INTERVAL_MS = 250;
/** A node with no connection asks its discovery source this often at least (on top of the join backoff). */
export const DISCOVER_ALONE_MS = 1_000;
/** A connected node asks its discovery source this often (a provider listing is an API call). */
export const DISCOVER_INTERVAL_MS = 60_000;
/** How often the DHT rendezvous checks whether a round is due (cheap: a timestamp compare). */
export const RENDEZVOUS_CHECK_MS = 1_000;
/** A connected node announces itself under the fleet's rendezvous key and looks it up this often, at least… */
export const RENDEZVOUS_INTERVAL_MS = 60_000;
/**
 * …and no more often than once per this much time per fleet member, so the fleet as a whole runs
 * about one round per this period whatever its size. A round touches the ~20 peers closest to the
 * one rendezvous key: at a fixed per-node period every agent served O(N) DHT requests a minute
 * (about 2 % of a core per idle agent at N = 20, measured) and the key's closest peers became a
 * hotspot. Gossip names every member once joined; the rendezvous only heals partitions.
 */
export const RENDEZVOUS_FLEET_SPACING_MS = 10_000;
/** After a failed round (no DHT peer answered yet), the next one comes this soon. */
export const RENDEZVOUS_RETRY_MS = 5_000;
/** Deadline of one rendezvous round (announce and look-up together). */
export const RENDEZVOUS_QUERY_TIMEOUT_MS = 15_000;
/** Providers one look-up hands to the connector at most; it dials a few per round anyway. */
export const MAX_RENDEZVOUS_PEERS = 256;
/** Dials the connector starts per round; bounds the dial storm when a large fleet forms. */
export const MAX_DIALS_PER_ROUND = 8;
/**
 * The connector dials peers until the node has this many connections: a little above gossipsub's
 * mesh degree (D = 6), so the gossip graph is connected and each node's cost does not grow with
 * the fleet. Forwarding dials whichever peer it routes to on top of these.
 */
export const MESH_TARGET_CONNECTIONS = 8;
/**
 * Above this many connections the connector closes idle ones it dialled to peers outside its
 * preferred set (only gossip, identify, DHT or ping streams on them): the bootstrap peers a node
 * joined through would otherwise stay connected to the whole fleet.
 */
export const MESH_MAX_IDLE_CONNECTIONS = 12;
/** The connector looks for connections to close at most this often (each look may read the peer store). */
export const TRIM_INTERVAL_MS = 5_000;
/**
 * A connection is closed as surplus only once it is this old: the DHT tags the peers it keeps
 * (its closest) every few seconds, and closing one before would only make libp2p re-dial it.
 * Whether the DHT keeps a peer is also remembered this long.
 */
export const SURPLUS_MIN_AGE_MS = 30_000;
/** Stream protocols that leave a connection idle: none of them carries a request. */
export const BACKGROUND_PROTOCOL_PREFIXES = ['/meshsub/', '/floodsub/', '/ipfs/id/', '/ipfs/ping/', '/synkti/kad/'] as const;
/**
 * Gossipsub's mesh degree: each state reaches a node from about D peers, and every copy costs a
 * decrypt, a frame and a dedup on a 2-core agent. 4 (gossipsub's default is 6) still gives a
 * connected mesh with short paths (log₄ N hops) and IHAVE gossip repairs what a hop drops.
 */
export const GOSSIP_D = 4;
export const GOSSIP_D_LO = 3;
export const GOSSIP_D_HI = 6;
export const GOSSIP_D_OUT = 1;
export const GOSSIP_D_SCORE = 2;
/** Peers outside the mesh told each heartbeat which messages this node has (IHAVE). */
export const GOSSIP_D_LAZY = 3;
/**
 * IDONTWANT only for messages at least this large: a state (~1 KiB) costs about as much to send
 * as to refuse, and an IDONTWANT to every mesh peer per message doubled the control traffic.
 */
export const GOSSIP_IDONTWANT_MIN_BYTES = 16 * 1024;
/** Gossipsub's mesh heartbeat; 700 ms keeps grafting quick without chattiness. */
export const GOSSIP_HEARTBEAT_MS = 700;
/** libp2p's overall connection cap. */
export const MAX_CONNECTIONS = 300;
/** Addresses exempt from gossipsub's IP-colocation penalty and the inbound rate limits (a loopback fleet). */
export const LOOPBACK_IPS = ['127.0.0.1', '::1'] as const;
export const LOOPBACK_ALLOW = ['/ip4/127.0.0.0/ipcidr/8', '/ip6/::1/ipcidr/128'] as const;
/** Streams a peer may open before libp2p attaches its listener to a new connection (yamux resets the connection past it). */
export const MAX_EARLY_STREAMS = 256;
/** yamux streams per connection, each way; above the forward cap plus gossip, identify, DHT. */
export const MAX_STREAMS_PER_CONNECTION = 1_024;
/** Concurrent forwarded requests per connection, each way; more are refused before any byte (retryable). */
export const MAX_FORWARD_STREAMS = 512;
