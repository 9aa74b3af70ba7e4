import { type FleetEvent, type MembershipView, type PeerDigest, diffFleet, digest } from '@synkti/fleet';
import type { Clock, Logger, TimerHandle } from '@synkti/interface';

/** Recent fleet events kept for the dashboard and /fleet. */
export const MAX_RECENT_EVENTS = 200;

export interface FleetEventLogInit {
  view: MembershipView;
  clock: Clock;
  logger: Logger;
  heartbeatMs: number;
  /** A peer went dead: requests waiting on it would otherwise wait out their own deadlines. */
  onDead: (peerId: string) => void;
}

/**
 * The fleet's recent events (joined, suspect, dead, left, engine changes), found by comparing
 * successive looks at the membership view: a few times per heartbeat, so "dead" shows within
 * deadAfter + a beat, and at once when gossip brings a new peer, a restart or a goodbye.
 */
export class FleetEventLog {
  readonly #init: FleetEventLogInit;
  readonly #events: FleetEvent[] = [];
  #digests = new Map<string, PeerDigest>();
  #queued = false;
  #timer: TimerHandle | undefined;
  #stopped = false;

  constructor(init: FleetEventLogInit) {
    this.#init = init;
  }

  get events(): readonly FleetEvent[] {
    return this.#events;
  }

  start(): void {
    this.#stopped = false;
    this.#schedule();
  }

  stop(): void {
    this.#stopped = true;
    if (this.#timer !== undefined) this.#init.clock.clearTimeout(this.#timer);
  }

  /** One refresh after the current task: a state sync delivers a whole fleet in one go. */
  refreshSoon(): void {
    if (this.#queued) return;
    this.#queued = true;
    queueMicrotask(() => {
      this.#queued = false;
      if (!this.#stopped) this.refresh();
    });
  }

  refresh(): void {
    const { view, clock, logger } = this.#init;
    const now = clock.now();
    view.prune(now);
    const snapshot = view.snapshot(now);
    const events = diffFleet(this.#digests, snapshot, now);
    this.#digests = new Map(snapshot.map((p) => [p.peerId, digest(p)]));
    for (const event of events) {
      logger.info({ event: event.kind, peer: event.peerId, detail: event.detail }, 'fleet event');
      if (event.kind === 'dead') this.#init.onDead(event.peerId);
      this.#events.push(event);
    }
    if (this.#events.length > MAX_RECENT_EVENTS) this.#events.splice(0, this.#events.length - MAX_RECENT_EVENTS);
  }

  #schedule(): void {
    this.#timer = this.#init.clock.setTimeout(() => {
      this.refresh();
      this.#schedule();
    }, Math.max(50, Math.floor(this.#init.heartbeatMs / 4)));
  }
}
