import { MAX_SUSPECTS_PER_NODE, type NodeState, type Suspicion } from '@synkti/protocol';
import { DEAD_AFTER_BEATS, DEAD_AFTER_MS, DEPARTURE_MEMORY_MS, FORGET_AFTER_MS, KEEPALIVE_STATES_PER_HEARTBEAT, LOAD_STATES_PER_HEARTBEAT, MAX_PEERS_IN_VIEW, SUSPECT_AFTER_BEATS, SUSPECT_AFTER_MS } from './constants.js';

export type PeerStatus = 'alive' | 'suspect' | 'dead';

export interface MembershipTimings {
  suspectAfterMs: number;
  deadAfterMs: number;
  forgetAfterMs: number;
}

export const defaultMembershipTimings: MembershipTimings = {
  suspectAfterMs: SUSPECT_AFTER_MS,
  deadAfterMs: DEAD_AFTER_MS,
  forgetAfterMs: FORGET_AFTER_MS,
};

/** Why a state was or was not taken into the view; the shell logs and counts these. */
export type ObserveOutcome =
  | 'new-peer'
  | 'updated'
  | 'restarted'
  | 'left'
  | 'fenced'
  | 'stale'
  | 'duplicate'
  | 'wrong-fleet';

export interface PeerEntry {
  readonly state: NodeState;
  /** Local time the last accepted state arrived; ages are measured from here, never from `sentAt`. */
  readonly lastSeenAt: number;
  /** Local time the peer was first seen in its current incarnation. */
  readonly firstSeenAt: number;
  /** Set when another signal (a closed connection) hints the peer is gone; cleared by fresh state. */
  readonly suspectedAt: number | null;
  /**
   * Set when another peer gossiped that it suspects this one at the version held here (or a
   * newer one); cleared by any newer state, which is how the suspect refutes it.
   */
  readonly rumouredAt: number | null;
}

/** A peer that said goodbye: it drained and terminates its own instance. */
export interface Departure {
  readonly peerId: string;
  readonly instanceId: string | null;
  readonly slot: string | null;
  /** Local time the goodbye arrived. */
  readonly leftAt: number;
  readonly state: NodeState;
}

export interface PeerSnapshot {
  readonly peerId: string;
  readonly status: PeerStatus;
  readonly healthy: boolean;
  readonly ageMs: number;
  /** Local time this peer was first heard in its current incarnation (this agent's clock, unlike the incarnation). */
  readonly firstSeenAt: number;
  readonly state: NodeState;
}

/**
 * How often an agent sends its state when nothing changed: its heartbeat, or longer in a fleet
 * so large that every node would otherwise receive more than KEEPALIVE_STATES_PER_HEARTBEAT
 * states a heartbeat.
 */
export function keepAlivePeriodMs(heartbeatMs: number, fleetSize: number): number {
  return spacedPeriodMs(heartbeatMs, fleetSize, KEEPALIVE_STATES_PER_HEARTBEAT);
}

/** The shortest time between two of an agent's load-driven publishes (see loadMoved) in a fleet of `fleetSize`. */
export function loadPublishPeriodMs(heartbeatMs: number, fleetSize: number): number {
  return spacedPeriodMs(heartbeatMs, fleetSize, LOAD_STATES_PER_HEARTBEAT);
}

/** Each of `fleetSize` agents sends once per this period, so every node receives `perHeartbeat` states a heartbeat at most. */
function spacedPeriodMs(heartbeatMs: number, fleetSize: number, perHeartbeat: number): number {
  return Math.ceil(heartbeatMs * Math.max(1, fleetSize / perHeartbeat));
}

/** How long a peer may stay silent before it is suspect, dead and forgotten (each counted from the last state heard). */
export interface SilenceLimits {
  suspectAfterMs: number;
  deadAfterMs: number;
  forgetAfterMs: number;
}

/**
 * The silence limits for a peer announcing keep-alive period `beatMs`: the configured timings,
 * or as many of its periods if that is longer (a large fleet's agents beat slowly). Forgotten
 * `forgetAfterMs` after it is dead. The simulator schedules silence with these very limits.
 */
export function silenceLimits(timings: MembershipTimings, beatMs?: number): SilenceLimits {
  const suspectAfterMs = beatMs === undefined ? timings.suspectAfterMs : Math.max(timings.suspectAfterMs, SUSPECT_AFTER_BEATS * beatMs);
  const deadAfterMs = beatMs === undefined ? timings.deadAfterMs : Math.max(timings.deadAfterMs, DEAD_AFTER_BEATS * beatMs);
  return { suspectAfterMs, deadAfterMs, forgetAfterMs: deadAfterMs + timings.forgetAfterMs };
}

/**
 * Whether `state` names `self` as suspect at the version `self` last published, or a newer one
 * (a peer that restarted on the same key): then `self` should publish at once, and its newer
 * state clears the suspicion in every view.
 */
export function suspectsMe(state: NodeState, self: string, published: Pick<NodeState, 'incarnation' | 'seq'> | undefined): boolean {
  const mine = state.suspects?.find((s) => s.peerId === self);
  if (mine === undefined) return false;
  return published === undefined || compareVersions(mine, published) >= 0;
}

/**
 * One agent's view of the fleet, built only from gossiped states and the time it is told.
 * It never reads a clock: every method takes `now`, so a whole fleet can run on simulated time.
 */
export class MembershipView {
  readonly fleet: string;
  readonly timings: MembershipTimings;
  readonly #peers = new Map<string, PeerEntry>();
  /** Peers that said goodbye, for DEPARTURE_MEMORY_MS (or `forgetAfterMs` if longer): late copies of their states must not bring them back. */
  readonly #departed = new Map<string, Departure>();
  /** Instances terminated as dead (by this agent or, as gossiped, by a peer): instance ID → when learnt. */
  readonly #fenced = new Map<string, number>();
  #self: string | null = null;

  constructor(fleet: string, timings: Partial<MembershipTimings> = {}) {
    this.fleet = fleet;
    this.timings = { ...defaultMembershipTimings, ...timings };
    if (!(this.timings.suspectAfterMs < this.timings.deadAfterMs)) {
      throw new RangeError('suspectAfterMs must be smaller than deadAfterMs');
    }
  }

  /**
   * Takes a state into the view. Newer incarnations replace older ones whatever their
   * sequence; within one incarnation only a higher sequence number is accepted. `arrivedAt`
   * (default `now`) is when the state first arrived in the fleet as far as this view knows — for
   * a state relayed by a state sync, when it reached the helper: silence counts from then, while
   * rumours, fences and departures it carries are taken as heard now.
   */
  observe(state: NodeState, now: number, arrivedAt: number = now): ObserveOutcome {
    if (state.fleet !== this.fleet) return 'wrong-fleet';
    for (const instanceId of state.fenced ?? []) this.fence(instanceId, now);
    const instanceId = state.provider.instanceId;
    if (instanceId !== null && this.#fenced.has(instanceId)) return 'fenced';
    const known = this.#peers.get(state.peerId);
    if (known !== undefined) {
      const order = compareVersions(state, known.state);
      if (order < 0) return 'stale';
      if (order === 0) return 'duplicate';
    }
    const gone = this.#departed.get(state.peerId);
    if (gone !== undefined && compareVersions(state, gone.state) <= 0) return 'stale';
    if (state.leaving) {
      this.#peers.delete(state.peerId);
      this.#rememberDeparture(state, now);
      return 'left';
    }
    if (gone !== undefined) this.#departed.delete(state.peerId);
    const restarted = known !== undefined && state.incarnation > known.state.incarnation;
    const seenAt = Math.min(now, arrivedAt);
    const firstSeenAt = known === undefined || restarted ? seenAt : known.firstSeenAt;
    this.#peers.set(state.peerId, { state, lastSeenAt: seenAt, firstSeenAt, suspectedAt: null, rumouredAt: null });
    for (const suspicion of state.suspects ?? []) this.#hearSuspicion(suspicion, now);
    this.#enforceLimit();
    if (known === undefined) return 'new-peer';
    return restarted ? 'restarted' : 'updated';
  }

  /**
   * The instance was terminated as dead (fenced): its peer leaves the view, and no state from
   * it is taken again — a terminated instance never comes back, and its last messages may still
   * be in flight. Returns the peers dropped.
   */
  fence(instanceId: string, now: number): string[] {
    // Known already: its peer was dropped then, and observe() refuses it since.
    if (this.#fenced.has(instanceId)) return [];
    this.#fenced.set(instanceId, now);
    if (this.#fenced.size > MAX_PEERS_IN_VIEW) this.#fenced.delete(this.#fenced.keys().next().value as string);
    const dropped: string[] = [];
    for (const [peerId, entry] of this.#peers) {
      if (entry.state.provider.instanceId === instanceId) {
        this.#peers.delete(peerId);
        dropped.push(peerId);
      }
    }
    return dropped;
  }

  /**
   * Another signal (a closed connection, a failed probe) says the peer may be gone: suspect now,
   * dead unless a newer state refutes it within `deadAfterMs`. Returns whether this is news.
   */
  suspect(peerId: string, now: number): boolean {
    const entry = this.#peers.get(peerId);
    if (entry === undefined || entry.suspectedAt !== null || peerId === this.#self) return false;
    this.#peers.set(peerId, { ...entry, suspectedAt: now });
    return true;
  }

  /**
   * What this view suspects first-hand (silent past suspectAfter, or its connection closed) and
   * not yet dead, with the version held of each, sorted by peer ID and bounded: gossiped so every
   * view stops routing to it. Rumours heard from others are not repeated, so a suspicion spreads
   * once, from those with evidence.
   */
  suspicions(now: number): Suspicion[] {
    const out: Suspicion[] = [];
    for (const [peerId, entry] of this.#peers) {
      if (peerId === this.#self || this.#statusOf(entry, now) !== 'suspect') continue;
      if (entry.suspectedAt === null && now - entry.lastSeenAt <= this.#silenceLimits(entry).suspectAfterMs) continue;
      out.push({ peerId, incarnation: entry.state.incarnation, seq: entry.state.seq });
    }
    return out.sort((a, b) => compareIds(a.peerId, b.peerId)).slice(0, MAX_SUSPECTS_PER_NODE);
  }

  /** Another peer suspects this one: taken only if this view holds no newer state of it (the refutation). */
  #hearSuspicion(suspicion: Suspicion, now: number): void {
    if (suspicion.peerId === this.#self) return;
    const entry = this.#peers.get(suspicion.peerId);
    if (entry === undefined || entry.rumouredAt !== null) return;
    if (compareVersions(entry.state, suspicion) > 0) return;
    this.#peers.set(suspicion.peerId, { ...entry, rumouredAt: now });
  }

  /** Drops peers dead for longer than `forgetAfterMs`; returns their IDs. */
  prune(now: number): string[] {
    const keepDepartures = Math.max(this.timings.forgetAfterMs, DEPARTURE_MEMORY_MS);
    for (const [peerId, gone] of this.#departed) if (now - gone.leftAt > keepDepartures) this.#departed.delete(peerId);
    for (const [instanceId, at] of this.#fenced) if (now - at > keepDepartures) this.#fenced.delete(instanceId);
    const forgotten: string[] = [];
    for (const [peerId, entry] of this.#peers) {
      if (now - entry.lastSeenAt > this.#silenceLimits(entry).forgetAfterMs) {
        this.#peers.delete(peerId);
        forgotten.push(peerId);
      }
    }
    return forgotten;
  }

  status(peerId: string, now: number): PeerStatus | undefined {
    const entry = this.#peers.get(peerId);
    return entry === undefined ? undefined : this.#statusOf(entry, now);
  }

  get(peerId: string): PeerEntry | undefined {
    return this.#peers.get(peerId);
  }

  get size(): number {
    return this.#peers.size;
  }

  /** Every known peer with its status, sorted by peer ID so all agents list them alike. */
  snapshot(now: number): PeerSnapshot[] {
    const out: PeerSnapshot[] = [];
    for (const [peerId, entry] of this.#peers) {
      const status = this.#statusOf(entry, now);
      out.push({ peerId, status, healthy: isHealthy(status, entry.state), ageMs: now - entry.lastSeenAt, firstSeenAt: entry.firstSeenAt, state: entry.state });
    }
    return out.sort((a, b) => compareIds(a.peerId, b.peerId));
  }

  alive(now: number): PeerSnapshot[] {
    return this.snapshot(now).filter((p) => p.status === 'alive');
  }

  healthy(now: number): PeerSnapshot[] {
    return this.snapshot(now).filter((p) => p.healthy);
  }

  /**
   * Names this agent's own peer: it is alive in its own view whatever the age of its last state.
   * An event loop lagging under load delays its own heartbeats too, and a gateway that found
   * itself suspect would refuse requests its own warm engine could serve.
   */
  setSelf(peerId: string): void {
    this.#self = peerId;
  }

  /**
   * Silent this long, a peer is suspect, then dead: the configured timings, or as many of the
   * peer's announced keep-alive periods if that is longer (a large fleet's agents beat slowly).
   */
  #silenceLimits(entry: PeerEntry): SilenceLimits {
    return silenceLimits(this.timings, entry.state.beatMs);
  }

  /**
   * Dead after silence (see #silenceLimits), or after a suspicion — first-hand or gossiped — that
   * no newer state refuted for `deadAfterMs`: how a large fleet, whose agents beat slowly, still
   * declares a lost node dead within seconds of the first suspicion (SWIM's rule).
   */
  #statusOf(entry: PeerEntry, now: number): PeerStatus {
    if (entry.state.peerId === this.#self) return 'alive';
    const age = now - entry.lastSeenAt;
    const limits = this.#silenceLimits(entry);
    if (age > limits.deadAfterMs) return 'dead';
    const suspectedSince = Math.min(entry.suspectedAt ?? Number.POSITIVE_INFINITY, entry.rumouredAt ?? Number.POSITIVE_INFINITY);
    if (now - suspectedSince > this.timings.deadAfterMs) return 'dead';
    if (age > limits.suspectAfterMs || suspectedSince !== Number.POSITIVE_INFINITY) return 'suspect';
    return 'alive';
  }

  /** Peers that left on purpose (goodbye) within DEPARTURE_MEMORY_MS, oldest first: they terminate their own instances. */
  departures(): Departure[] {
    return [...this.#departed.values()];
  }

  #rememberDeparture(state: NodeState, now: number): void {
    this.#departed.delete(state.peerId);
    this.#departed.set(state.peerId, { peerId: state.peerId, instanceId: state.provider.instanceId, slot: state.provider.slot, leftAt: now, state });
    // Insertion order is departure order: the oldest goes first when the bound is hit.
    if (this.#departed.size > MAX_PEERS_IN_VIEW) this.#departed.delete(this.#departed.keys().next().value as string);
  }

  #enforceLimit(): void {
    if (this.#peers.size <= MAX_PEERS_IN_VIEW) return;
    const stalest = [...this.#peers].sort((a, b) => a[1].lastSeenAt - b[1].lastSeenAt)[0];
    if (stalest !== undefined) this.#peers.delete(stalest[0]);
  }
}

/**
 * A peer can take requests: alive, engine warm, no stop/terminate notice, not draining. A
 * rebalance recommendation is not a notice: the at-risk node keeps serving until its replacement
 * is warm and the surplus rule drains it (its capacity is already counted as lost for replacement).
 */
export function isHealthy(status: PeerStatus, state: NodeState): boolean {
  const noticed = state.interruption !== null && state.interruption.kind !== 'rebalance';
  return status === 'alive' && state.engine.state === 'warm' && !noticed && !state.draining;
}

/** Orders two states of one peer: by incarnation, then by sequence number. */
export function compareVersions(a: Pick<NodeState, 'incarnation' | 'seq'>, b: Pick<NodeState, 'incarnation' | 'seq'>): number {
  if (a.incarnation !== b.incarnation) return a.incarnation < b.incarnation ? -1 : 1;
  if (a.seq !== b.seq) return a.seq < b.seq ? -1 : 1;
  return 0;
}

/** The one total order on peer IDs every agent uses (plain code-unit order, locale-free). */
export function compareIds(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
