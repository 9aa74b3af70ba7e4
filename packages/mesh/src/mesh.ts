import './polyfill.js';
import type { Clock, Logger, Startable, TimerHandle } from '@synkti/interface';
import { raceSignal, silentLogger, systemClock } from '@synkti/interface';
import { type ForwardResponse, MAX_BEAT_MS, MUX_PROTOCOL, type NodeState, PROTOCOL_VERSION, type RequestHead } from '@synkti/protocol';
import { peerIdFromString } from '@libp2p/peer-id';
import { Connector } from './connector.js';
import { MeshNotStartedError } from './errors.js';
import { type ForwardOptions, forwardRequest } from './forward/client.js';
import { type ForwardServe, handleForwardProtocol } from './forward/handler.js';
import { ForwardStreamPool } from './forward/pool.js';
import { MuxSessions, MuxUnsupportedError, serveMuxStream } from './mux/index.js';
import { loadOrCreatePeerKey } from './identity.js';
import { handleProbeRequests, HELPER_PING_TIMEOUT_MS, probeVia } from './probe.js';
import { createMeshNode, type MeshLibp2p } from './node.js';
import { DhtRendezvous, rendezvousKey } from './rendezvous.js';
import { StateGossip, type StateListener } from './state-gossip.js';
import { type GossipTraffic, gossipTrafficRegister } from './gossip-traffic.js';
import { handleSyncRequests, requestSync, type SyncedState } from './state-sync.js';

/** What the agent says about itself; the mesh stamps identity, sequence and time. */
export type StateBody = Omit<NodeState, 'v' | 'fleet' | 'peerId' | 'incarnation' | 'seq' | 'sentAt' | 'addrs' | 'leaving' | 'beatMs'>;

/** State syncs a node tries after joining (each with the next peer that connects) before it waits for gossip alone. */
const MAX_SYNC_ATTEMPTS = 3;

/** Mux streams one connection may carry each way: one per requesting peer, plus room while one is replaced. */
const MAX_MUX_STREAMS_PER_CONNECTION = 4;

export interface MeshInit {
  fleet: string;
  stateDir: string;
  swarmKey: Uint8Array;
  listen: string[];
  announce?: string[];
  bootstrap?: string[];
  heartbeatMs: number;
  /**
   * The keep-alive period in effect, read at every beat (default `heartbeatMs`): the agent
   * lengthens it as the fleet grows (see keepAlivePeriodMs), and every state announces it.
   */
  keepAliveMs?: () => number;
  /**
   * The states this node holds alive, with their ages, for a peer that joins and asks (state
   * sync). Default: only its own last state.
   */
  syncSource?: () => SyncedState[];
  /** Peers this agent knows of, itself included (default 1): stretches the DHT rendezvous period (see rendezvousIntervalMs). */
  fleetSize?: () => number;
  /** Peers silent this long are no longer dialled by the connector. */
  forgetAfterMs: number;
  ipColocationWhitelist?: string[];
  /**
   * Another source of peers to dial (multiaddrs, with or without a peer ID): the provider's
   * listing of the fleet's instances. Asked when the node has no connection and the bootstrap
   * list did not answer, and now and then to find peers no gossip names (a healed partition).
   */
  discover?: () => Promise<string[]>;
  /**
   * Forward over one multiplexed stream per peer (`/synkti/mux/1.0.0`, default) instead of one
   * stream per request (`/synkti/forward/1.0.0`, still served, and used for peers without mux).
   */
  forwardMux?: boolean;
  clock?: Clock;
  logger?: Logger;
}

/**
 * The agent's place in the swarm: its libp2p node, its join loop and the state topic. Publishes
 * the local state every heartbeat and at once when asked; listeners get every accepted state,
 * the agent's own included, so one code path feeds the membership view.
 */
export class Mesh implements Startable {
  readonly #init: MeshInit;
  readonly #clock: Clock;
  readonly #log: Logger;
  readonly #listeners = new Set<StateListener>();
  readonly #disconnectListeners = new Set<(peerId: string) => void>();
  #node: MeshLibp2p | undefined;
  #gossip: StateGossip | undefined;
  #connector: Connector | undefined;
  #rendezvous: DhtRendezvous | undefined;
  #pool: ForwardStreamPool | undefined;
  #mux: MuxSessions | undefined;
  #heartbeat: TimerHandle | undefined;
  /** Between startHeartbeat and goodbye or stop: every publish schedules the next beat. */
  #beating = false;
  #body: (() => StateBody) | undefined;
  #incarnation = 0;
  #seq = 0;
  #lastPublished: NodeState | undefined;
  #starting: Promise<void> | undefined;
  #traffic: GossipTraffic | undefined;
  /** State sync: whether one succeeded since the node was last alone, and whether one is under way. */
  #synced = false;
  #syncing = false;
  #syncAttempts = 0;

  constructor(init: MeshInit) {
    this.#init = init;
    this.#clock = init.clock ?? systemClock;
    this.#log = (init.logger ?? silentLogger).child({ component: 'mesh' });
  }

  get peerId(): string {
    return this.#started().node.peerId.toString();
  }

  get libp2p(): MeshLibp2p {
    return this.#started().node;
  }

  get gossip(): StateGossip {
    return this.#started().gossip;
  }

  get lastPublished(): NodeState | undefined {
    return this.#lastPublished;
  }

  /** Gossipsub's wire traffic on this node so far (undefined before start). */
  get gossipTraffic(): Readonly<GossipTraffic> | undefined {
    return this.#traffic;
  }

  /** Idle surplus connections the connector closed (see MESH_MAX_IDLE_CONNECTIONS). */
  get prunedConnections(): number {
    return this.#connector?.pruned ?? 0;
  }

  multiaddrs(): string[] {
    return this.#started().node.getMultiaddrs().map((ma) => ma.toString());
  }

  connectedPeers(): string[] {
    return this.#started().node.getPeers().map((p) => p.toString());
  }

  start(): Promise<void> {
    this.#starting ??= this.#start();
    return this.#starting;
  }

  async #start(): Promise<void> {
    const init = this.#init;
    const privateKey = await loadOrCreatePeerKey(init.stateDir);
    const metrics = gossipTrafficRegister();
    this.#traffic = metrics.traffic;
    const node = await createMeshNode({
      gossipMetrics: metrics.register,
      privateKey,
      swarmKey: init.swarmKey,
      listen: init.listen,
      ...(init.announce !== undefined ? { announce: init.announce } : {}),
      ...(init.ipColocationWhitelist !== undefined ? { ipColocationWhitelist: init.ipColocationWhitelist } : {}),
    });
    const gossip = new StateGossip(node.services.pubsub, init.fleet, this.#log.child({ component: 'mesh:gossip' }));
    const connector = new Connector(node, init.bootstrap ?? [], this.#clock, this.#log.child({ component: 'mesh:connector' }), init.forgetAfterMs, init.discover);
    gossip.onState((state, from) => {
      if (state.leaving) connector.forget(state.peerId);
      else connector.learn(state.peerId, state.addrs, state.beatMs);
      this.#emit(state, from);
    });
    // No fixed node: any one live peer leads to the rest through the fleet's key on the DHT.
    const rendezvous = new DhtRendezvous(node, await rendezvousKey(init.fleet, init.swarmKey), this.#clock, this.#log.child({ component: 'mesh:rendezvous' }), (peers) => {
      for (const p of peers) connector.learn(p.peerId, p.addrs);
    }, init.fleetSize);
    node.addEventListener('peer:connect', (evt) => this.#syncOnConnect(evt.detail.toString()));
    node.addEventListener('peer:disconnect', (evt) => {
      // Alone again: the next connection syncs afresh.
      if (node.getPeers().length === 0) this.#forgetSync();
      const peerId = evt.detail.toString();
      for (const listener of this.#disconnectListeners) listener(peerId);
    });
    await node.start();
    // Every agent answers indirect probes: the fence check before a silent peer is terminated.
    await handleProbeRequests(node, (peerId, timeoutMs) => this.reachable(peerId, timeoutMs), HELPER_PING_TIMEOUT_MS, this.#log.child({ component: 'mesh:probe' }));
    await handleSyncRequests(node, () => this.#syncSource(), this.#log.child({ component: 'mesh:sync' }));
    gossip.start();
    connector.start();
    rendezvous.start();
    this.#incarnation = this.#clock.now();
    this.#node = node;
    this.#gossip = gossip;
    this.#connector = connector;
    this.#rendezvous = rendezvous;
    this.#log.info({ peerId: node.peerId.toString(), addrs: this.multiaddrs() }, 'mesh started');
  }

  /** Starts the heartbeat: `body` is read at every beat and on every `publishNow`. */
  startHeartbeat(body: () => StateBody): void {
    this.#body = body;
    if (this.#beating) return;
    this.#beating = true;
    void this.publishNow();
  }

  /**
   * Publishes the current state at once (a change of engine state or an interruption). The next
   * keep-alive beat comes a full period after it: a beat right behind a change would only repeat
   * it, and every state costs each peer a decrypt, a frame and a signature check. Never rejects:
   * a failure is logged here, so every caller (the beat's timer too) may fire and forget.
   */
  async publishNow(): Promise<void> {
    if (this.#body === undefined || this.#node === undefined) return;
    if (this.#heartbeat !== undefined) this.#clock.clearTimeout(this.#heartbeat);
    if (this.#beating) this.#heartbeat = this.#clock.setTimeout(() => void this.publishNow(), this.#keepAliveMs());
    try {
      await this.#publish(this.#stamp(this.#body(), false));
    } catch (err) {
      this.#log.warn({ err }, 'publish failed');
    }
  }

  /** The last message of a clean stop: peers drop this agent from their views at once. */
  async goodbye(): Promise<void> {
    if (this.#body === undefined || this.#node === undefined) return;
    if (this.#heartbeat !== undefined) this.#clock.clearTimeout(this.#heartbeat);
    this.#heartbeat = undefined;
    this.#beating = false;
    await this.#publish(this.#stamp(this.#body(), true));
  }

  /**
   * Whether the peer answers a ping within `timeoutMs`: the neighbour probe and the check before a
   * silent peer's instance is terminated. Over an open connection it is yamux's own ping frame,
   * answered by the peer's event loop like any stream; only without one does it dial and use
   * libp2p's ping protocol. Any failure reads as false.
   */
  async reachable(peerId: string, timeoutMs: number): Promise<boolean> {
    const node = this.#started().node;
    const signal = AbortSignal.timeout(timeoutMs);
    try {
      const muxer = openMuxerOf(node, peerId);
      // Never hand yamux the signal: a ping it gives up on leaves no ping pending, and the pong
      // arriving later then reads as unrequested and aborts the whole connection. Unsignalled,
      // a late pong settles it, and probes meanwhile share it (yamux keeps one in flight).
      if (muxer !== undefined) {
        // A ping answered a moment ago stays "in flight" until yamux's own continuation runs;
        // sharing it would take an old answer for a new one.
        await new Promise((resolve) => setImmediate(resolve));
        await raceSignal(muxer.ping({}), signal);
      }
      else await node.services.ping.ping(peerIdFromString(peerId), { signal });
      return true;
    } catch {
      return false;
    }
  }

  /**
   * Whether `helper` reaches `target` (it pings `target` itself and answers): an indirect probe,
   * for when this node's own link to `target` may be the broken one. Any failure reads as false.
   */
  reachableVia(helper: string, target: string, timeoutMs: number): Promise<boolean> {
    return probeVia(this.#started().node, helper, target, timeoutMs);
  }

  /**
   * Sends one request to a peer: over the peer's mux stream (see MuxClientSession), or, for a
   * peer that does not speak mux (or with `forwardMux` off), over a stream of its own (see
   * forwardRequest). Either way the response body streams, and failures are UpstreamErrors.
   */
  async forward(peerId: string, head: RequestHead, body: Uint8Array, options?: ForwardOptions): Promise<ForwardResponse> {
    const { node } = this.#started();
    if (this.#init.forwardMux !== false) {
      this.#mux ??= new MuxSessions(node, () => this.#clock.now(), (peerId) => this.#connector?.ensureDialable(peerId) ?? Promise.resolve());
      if (this.#mux.speaksMux(peerId)) {
        try {
          return await this.#mux.forward(peerId, head, body, options?.signal);
        } catch (err) {
          if (!(err instanceof MuxUnsupportedError)) throw err;
          this.#log.info({ peerId }, 'peer does not speak the mux protocol; forwarding over a stream per request');
        }
      }
    }
    this.#pool ??= new ForwardStreamPool(node, this.#clock);
    return forwardRequest(this.#pool, peerId, head, body, options);
  }

  /**
   * Serves forwarded requests from peers, over both protocols: at most `maxInboundStreams` at
   * once per connection on streams of their own, and as many per mux stream.
   */
  async serveForwards(serve: ForwardServe, maxInboundStreams: number): Promise<void> {
    const { node } = this.#started();
    await handleForwardProtocol(node, serve, { maxInboundStreams, logger: this.#log });
    const log = this.#log.child({ component: 'mesh:mux' });
    await node.handle(MUX_PROTOCOL, (stream, connection) => serveMuxStream(stream, connection.remotePeer.toString(), serve, { maxRequests: maxInboundStreams, log }), {
      // One mux stream per requesting peer is the norm; a few more cover a session being replaced.
      maxInboundStreams: MAX_MUX_STREAMS_PER_CONNECTION,
      maxOutboundStreams: MAX_MUX_STREAMS_PER_CONNECTION,
      runOnLimitedConnection: false,
    });
  }

  onState(listener: StateListener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  onPeerDisconnect(listener: (peerId: string) => void): () => void {
    this.#disconnectListeners.add(listener);
    return () => this.#disconnectListeners.delete(listener);
  }

  async stop(): Promise<void> {
    if (this.#starting === undefined) return;
    await this.#starting.catch(() => undefined);
    if (this.#heartbeat !== undefined) this.#clock.clearTimeout(this.#heartbeat);
    this.#heartbeat = undefined;
    this.#beating = false;
    this.#connector?.stop();
    this.#rendezvous?.stop();
    this.#rendezvous = undefined;
    this.#pool?.close();
    this.#pool = undefined;
    this.#mux?.close();
    this.#mux = undefined;
    this.#gossip?.stop();
    await this.#node?.stop();
    this.#node = undefined;
    this.#gossip = undefined;
    this.#connector = undefined;
    this.#starting = undefined;
  }

  #keepAliveMs(): number {
    return Math.min(MAX_BEAT_MS, Math.max(this.#init.heartbeatMs, this.#init.keepAliveMs?.() ?? this.#init.heartbeatMs));
  }

  #stamp(body: StateBody, leaving: boolean): NodeState {
    const node = this.#started().node;
    const beatMs = this.#keepAliveMs();
    return {
      ...body,
      // Announced only when slower than the heartbeat, so small fleets' states stay as they were.
      ...(beatMs > this.#init.heartbeatMs ? { beatMs } : {}),
      v: PROTOCOL_VERSION,
      fleet: this.#init.fleet,
      peerId: node.peerId.toString(),
      incarnation: this.#incarnation,
      seq: ++this.#seq,
      sentAt: this.#clock.now(),
      addrs: this.multiaddrs().slice(0, 16),
      leaving,
    };
  }

  async #publish(state: NodeState): Promise<void> {
    this.#lastPublished = state;
    this.#emit(state, state.peerId);
    await this.#started().gossip.publish(state);
  }

  #syncSource(): SyncedState[] {
    if (this.#init.syncSource !== undefined) return this.#init.syncSource();
    return this.#lastPublished === undefined ? [] : [{ state: this.#lastPublished, ageMs: 0 }];
  }

  /**
   * A node that joins (or comes back from being alone) asks the first peer it connects to for
   * the fleet's states, retrying on the next connection if that fails; MAX_SYNC_ATTEMPTS in all
   * until it is alone again.
   */
  #syncOnConnect(peerId: string): void {
    const node = this.#node;
    if (node === undefined) return;
    if (node.getPeers().length <= 1) this.#forgetSync();
    if (this.#synced || this.#syncing || this.#syncAttempts >= MAX_SYNC_ATTEMPTS) return;
    this.#syncing = true;
    this.#syncAttempts++;
    void requestSync(node, peerId, this.#init.fleet)
      .then(({ states, rejected, error }) => {
        const self = node.peerId.toString();
        for (const { state, ageMs } of states) {
          if (state.peerId === self) continue;
          if (state.leaving) this.#connector?.forget(state.peerId);
          else this.#connector?.learn(state.peerId, state.addrs, state.beatMs);
          this.#emit(state, peerId, ageMs);
        }
        // A helper that knew nobody (a fleet restarting together) taught nothing: ask the next one.
        if (error === undefined && states.length > 0) this.#synced = true;
        const log = error === undefined ? this.#log.info.bind(this.#log) : this.#log.warn.bind(this.#log);
        log({ from: peerId, states: states.length, rejected, err: error }, error === undefined ? 'state sync' : 'state sync failed; will ask the next peer that connects');
      })
      .finally(() => {
        this.#syncing = false;
      });
  }

  #forgetSync(): void {
    this.#synced = false;
    this.#syncAttempts = 0;
  }

  #emit(state: NodeState, from: string, ageMs?: number): void {
    for (const listener of this.#listeners) {
      try {
        listener(state, from, ageMs);
      } catch (err) {
        this.#log.error({ err, peerId: state.peerId }, 'state listener threw');
      }
    }
  }

  #started(): { node: MeshLibp2p; gossip: StateGossip } {
    if (this.#node === undefined || this.#gossip === undefined) throw new MeshNotStartedError();
    return { node: this.#node, gossip: this.#gossip };
  }
}

/** The part of a stream muxer the probe uses: yamux answers a ping frame without opening a stream. */
interface PingingMuxer {
  ping(options: { signal?: AbortSignal }): Promise<number>;
}

/**
 * The muxer of an open connection to `peerId`, if it can ping. A libp2p ping opens a stream per
 * probe (multistream negotiation, a peer-store write, ~10 encrypted frames); yamux's ping is one
 * 12-byte frame each way. libp2p 3.3 keeps the muxer on the connection without typing it, and
 * @libp2p/yamux 8.0.3 (pinned) has `ping`; anything else falls back to the ping protocol.
 */
function openMuxerOf(node: MeshLibp2p, peerId: string): PingingMuxer | undefined {
  for (const connection of node.getConnections(peerIdFromString(peerId))) {
    if (connection.status !== 'open') continue;
    const muxer = (connection as unknown as { muxer?: Partial<PingingMuxer> }).muxer;
    if (typeof muxer?.ping === 'function') return muxer as PingingMuxer;
  }
  return undefined;
}
