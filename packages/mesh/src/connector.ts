import { type Connection, KEEP_ALIVE, type PeerId } from '@libp2p/interface';
import { peerIdFromString } from '@libp2p/peer-id';
import { multiaddr } from '@multiformats/multiaddr';
import type { Clock, Logger, TimerHandle } from '@synkti/interface';
import {
  FORGET_AFTER_BEATS,
  CONNECT_INTERVAL_MS,
  DIAL_TIMEOUT_MS,
  DISCOVER_ALONE_MS,
  DISCOVER_INTERVAL_MS,
  JOIN_RETRY_INITIAL_MS,
  JOIN_RETRY_MAX_MS,
  BACKGROUND_PROTOCOL_PREFIXES,
  MAX_DIALS_PER_ROUND,
  MESH_MAX_IDLE_CONNECTIONS,
  MESH_TARGET_CONNECTIONS,
  SURPLUS_MIN_AGE_MS,
  TRIM_INTERVAL_MS,
} from './constants.js';
import type { MeshLibp2p } from './node.js';

interface KnownPeer {
  /** This node's preference for the peer (lower first): a hash of both IDs, so each node prefers different peers. */
  rank: number;
  addrs: string[];
  lastSeenAt: number;
  /** The peer's announced keep-alive period (0 when it beats at the heartbeat): silence counts in its periods. */
  beatMs: number;
  nextDialAt: number;
  dialBackoffMs: number;
}

/**
 * Keeps the agent in the swarm. libp2p's bootstrap module dials once and never retries, so a
 * node that lost that race never joined (design.md §6); this loop retries the bootstrap list
 * with capped backoff whenever the node has no connection, and dials peers it learns of through
 * gossip so the swarm does not hang off the bootstrap node alone.
 */
export class Connector {
  readonly #node: MeshLibp2p;
  readonly #bootstrap: string[];
  readonly #clock: Clock;
  readonly #log: Logger;
  readonly #forgetAfterMs: number;
  readonly #known = new Map<string, KnownPeer>();
  readonly #dialing = new Set<string>();
  #timer: TimerHandle | undefined;
  #joinBackoffMs = JOIN_RETRY_INITIAL_MS;
  #nextJoinAt = 0;
  #nextDiscoverAt = 0;
  #discovering = false;
  readonly #discover: (() => Promise<string[]>) | undefined;
  #running = false;
  #pruned = 0;
  #trimming = false;
  #nextTrimAt = 0;
  /** When this node first saw each connection (its own clock). */
  readonly #seenAt = new WeakMap<Connection, number>();
  /** Whether the DHT keeps a peer alive, and when that was read; entries go with forgotten peers. */
  readonly #keptAliveCache = new Map<string, { kept: boolean; at: number }>();

  constructor(node: MeshLibp2p, bootstrap: string[], clock: Clock, log: Logger, forgetAfterMs: number, discover?: () => Promise<string[]>) {
    this.#node = node;
    this.#discover = discover;
    this.#bootstrap = bootstrap.filter((addr) => !addr.endsWith(`/p2p/${node.peerId.toString()}`));
    this.#clock = clock;
    this.#log = log;
    this.#forgetAfterMs = forgetAfterMs;
  }

  start(): void {
    if (this.#running) return;
    this.#running = true;
    this.#tick();
  }

  stop(): void {
    this.#running = false;
    if (this.#timer !== undefined) this.#clock.clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  /**
   * Records where a peer can be reached (from its gossiped state, or the rendezvous), and its
   * keep-alive period `beatMs` when the source knows it: a peer of a large fleet is heard from
   * only every so often, and must not be forgotten between two of its keep-alives.
   */
  learn(peerId: string, addrs: string[], beatMs?: number): void {
    if (peerId === this.#node.peerId.toString()) return;
    const known = this.#known.get(peerId);
    const now = this.#clock.now();
    if (known === undefined) this.#known.set(peerId, { rank: preference(this.#node.peerId.toString(), peerId), addrs, lastSeenAt: now, beatMs: beatMs ?? 0, nextDialAt: now, dialBackoffMs: JOIN_RETRY_INITIAL_MS });
    // A source without the period (the DHT rendezvous) keeps the one gossip announced.
    else Object.assign(known, { addrs, lastSeenAt: now, beatMs: beatMs ?? known.beatMs });
  }

  /**
   * Puts a peer's gossiped addresses in the peer store when there is no connection to it, so a
   * dial by peer ID finds somewhere to go (a peer restarted on another port is otherwise known
   * only by its old address, or by none).
   */
  async ensureDialable(peerId: string): Promise<void> {
    const id = parsePeerId(peerId);
    const known = this.#known.get(peerId);
    if (id === undefined || known === undefined || known.addrs.length === 0 || this.#node.getConnections(id).length > 0) return;
    await this.#node.peerStore.merge(id, { multiaddrs: known.addrs.map((a) => multiaddr(a)) });
  }

  forget(peerId: string): void {
    this.#known.delete(peerId);
  }

  readonly #tick = (): void => {
    if (!this.#running) return;
    this.#maintain();
    this.#timer = this.#clock.setTimeout(this.#tick, CONNECT_INTERVAL_MS);
  };

  #maintain(): void {
    const now = this.#clock.now();
    const connections = this.#node.getConnections().length;
    if (connections === 0 && this.#bootstrap.length > 0 && now >= this.#nextJoinAt) {
      this.#nextJoinAt = now + this.#joinBackoffMs;
      this.#joinBackoffMs = Math.min(this.#joinBackoffMs * 2, JOIN_RETRY_MAX_MS);
      for (const addr of this.#bootstrap) this.#dial(addr, () => multiaddr(addr));
    }
    if (connections > 0) this.#joinBackoffMs = JOIN_RETRY_INITIAL_MS;
    // No fixed node: alone, ask the provider where the fleet's agents are (soon, and again with
    // the join backoff); connected, now and then, for peers no gossip names.
    if (this.#discover !== undefined && now >= this.#nextDiscoverAt && !this.#discovering) {
      this.#nextDiscoverAt = now + (connections === 0 ? Math.max(this.#joinBackoffMs, DISCOVER_ALONE_MS) : DISCOVER_INTERVAL_MS);
      this.#discoverAndDial();
    }
    for (const [peerId, known] of this.#known) {
      if (now - known.lastSeenAt <= Math.max(this.#forgetAfterMs, FORGET_AFTER_BEATS * known.beatMs)) continue;
      this.#known.delete(peerId);
      this.#keptAliveCache.delete(peerId);
    }
    if (connections < MESH_TARGET_CONNECTIONS) this.#dialPreferred(now, Math.min(MAX_DIALS_PER_ROUND, MESH_TARGET_CONNECTIONS - connections));
    else if (!this.#trimming && now >= this.#nextTrimAt && (connections > MESH_MAX_IDLE_CONNECTIONS || this.#hasDuplicate())) {
      this.#trimming = true;
      this.#nextTrimAt = now + TRIM_INTERVAL_MS;
      void this.#trim()
        .catch((err: unknown) => this.#log.debug({ err }, 'trimming connections failed'))
        .finally(() => {
          this.#trimming = false;
        });
    }
  }

  /** Connections this node closed as idle and surplus since it started. */
  get pruned(): number {
    return this.#pruned;
  }

  #dialPreferred(now: number, budget: number): void {
    for (const [peerId, known] of this.#byPreference()) {
      if (budget <= 0) break;
      const id = parsePeerId(peerId);
      if (id === undefined || known.addrs.length === 0 || now < known.nextDialAt) continue;
      if (this.#node.getConnections(id).length > 0) {
        known.dialBackoffMs = JOIN_RETRY_INITIAL_MS;
        continue;
      }
      budget--;
      known.nextDialAt = now + known.dialBackoffMs;
      known.dialBackoffMs = Math.min(known.dialBackoffMs * 2, JOIN_RETRY_MAX_MS);
      this.#dial(peerId, async () => {
        await this.#node.peerStore.merge(id, { multiaddrs: known.addrs.map((a) => multiaddr(a)) });
        return id;
      });
    }
  }

  /**
   * Closes connections this node dialled and no longer needs, all idle (background streams
   * only; a request or a mux session on a connection keeps it): a second connection to a peer
   * when the peer has the smaller ID (both ends apply the rule, so exactly one survives), then,
   * above MESH_MAX_IDLE_CONNECTIONS, those to peers outside its MESH_TARGET_CONNECTIONS most
   * preferred, least preferred first. Only outbound ones: a node never undoes another's choice,
   * so two nodes never close and re-dial each other in turn.
   */
  async #trim(): Promise<void> {
    const self = this.#node.peerId.toString();
    const now = this.#clock.now();
    const connections = this.#node.getConnections();
    for (const c of connections) if (!this.#seenAt.has(c)) this.#seenAt.set(c, now);
    const byPeer = new Map<string, number>();
    for (const c of connections) byPeer.set(c.remotePeer.toString(), (byPeer.get(c.remotePeer.toString()) ?? 0) + 1);
    const idleOutbound = connections.filter((c) => c.direction === 'outbound' && c.status === 'open' && c.streams.every((st) => BACKGROUND_PROTOCOL_PREFIXES.some((p) => st.protocol?.startsWith(p) ?? true)));
    const duplicates = new Set(idleOutbound.filter((c) => (byPeer.get(c.remotePeer.toString()) ?? 0) > 1 && c.remotePeer.toString() < self));
    // A second connection goes whatever its tags: the peer stays connected, nothing re-dials.
    for (const connection of duplicates) this.#close(connection);
    let surplus = connections.length - duplicates.size - MESH_MAX_IDLE_CONNECTIONS;
    if (surplus <= 0) return;
    const order = this.#byPreference();
    const preferred = new Set(order.slice(0, MESH_TARGET_CONNECTIONS).map(([id]) => id));
    const rank = (c: Connection) => this.#known.get(c.remotePeer.toString())?.rank ?? Number.MAX_SAFE_INTEGER;
    const leastPreferredFirst = idleOutbound
      .filter((c) => !duplicates.has(c) && !preferred.has(c.remotePeer.toString()) && now - (this.#seenAt.get(c) ?? now) >= SURPLUS_MIN_AGE_MS)
      .sort((a, b) => rank(b) - rank(a));
    for (const connection of leastPreferredFirst) {
      if (surplus <= 0) break;
      // libp2p re-dials peers tagged keep-alive at once (the DHT keeps its closest peers so):
      // closing the only connection to one would only churn. Asked only of one about to close.
      if (await this.#keptAlive(connection.remotePeer)) continue;
      surplus--;
      this.#close(connection);
    }
  }

  /** Known peers, most preferred first. */
  #byPreference(): [string, KnownPeer][] {
    return [...this.#known].sort((a, b) => a[1].rank - b[1].rank);
  }

  #close(connection: Connection): void {
    this.#pruned++;
    this.#log.debug({ peerId: connection.remotePeer.toString() }, 'closing a connection this node no longer needs');
    void connection.close().catch((err: unknown) => this.#log.debug({ err }, 'closing a connection failed'));
  }

  #hasDuplicate(): boolean {
    const connections = this.#node.getConnections();
    return new Set(connections.map((c) => c.remotePeer.toString())).size < connections.length;
  }

  async #keptAlive(peer: PeerId): Promise<boolean> {
    const id = peer.toString();
    const now = this.#clock.now();
    const cached = this.#keptAliveCache.get(id);
    if (cached !== undefined && now - cached.at < SURPLUS_MIN_AGE_MS) return cached.kept;
    let kept = false;
    try {
      const record = await this.#node.peerStore.get(peer);
      kept = [...record.tags.keys()].some((tag) => tag.startsWith(KEEP_ALIVE));
    } catch {
      kept = false;
    }
    this.#keptAliveCache.set(id, { kept, at: now });
    return kept;
  }

  #discoverAndDial(): void {
    this.#discovering = true;
    const own = new Set(this.#node.getMultiaddrs().map((a) => a.decapsulateCode(421).toString()));
    const connected = new Set(this.#node.getConnections().map((c) => c.remoteAddr.decapsulateCode(421).toString()));
    this.#discover!()
      .then((addrs) => {
        let budget = MAX_DIALS_PER_ROUND;
        for (const addr of addrs) {
          const bare = addr.replace(/\/p2p\/[^/]+$/, '');
          if (own.has(bare) || connected.has(bare) || addr.endsWith(`/p2p/${this.#node.peerId.toString()}`) || budget-- <= 0) continue;
          this.#dial(addr, () => multiaddr(addr));
        }
      })
      .catch((err: unknown) => this.#log.debug({ err }, 'discovery failed; will retry'))
      .finally(() => {
        this.#discovering = false;
      });
  }

  #dial(key: string, target: () => ReturnType<typeof multiaddr> | PeerId | Promise<PeerId>): void {
    if (this.#dialing.has(key)) return;
    this.#dialing.add(key);
    void (async () => {
      try {
        await this.#node.dial(await target(), { signal: AbortSignal.timeout(DIAL_TIMEOUT_MS) });
        this.#log.debug({ target: key }, 'dialled peer');
      } catch (err) {
        this.#log.debug({ err, target: key }, 'dial failed; will retry');
      } finally {
        this.#dialing.delete(key);
      }
    })();
  }
}

/** FNV-1a over both IDs: a stable, per-node order of peers (lower is preferred). */
function preference(self: string, peer: string): number {
  let hash = 0x811c9dc5;
  for (const text of [self, peer]) {
    for (let i = 0; i < text.length; i++) {
      hash ^= text.charCodeAt(i);
      hash = Math.imul(hash, 0x01000193) >>> 0;
    }
  }
  return hash;
}

function parsePeerId(text: string): PeerId | undefined {
  try {
    return peerIdFromString(text);
  } catch {
    return undefined;
  }
}
