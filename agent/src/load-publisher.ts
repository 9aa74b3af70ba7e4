import { loadPublishDue } from '@synkti/fleet';
import type { Clock } from '@synkti/interface';
import type { LoadInfo, NodeState } from '@synkti/protocol';

export interface LoadPublisherDeps {
  clock: Clock;
  heartbeatMs: number;
  /** Peers in this agent's view, itself included. */
  fleetSize: () => number;
  /** The state this agent published last (undefined before the first). */
  published: () => Pick<NodeState, 'load' | 'sentAt'> | undefined;
  /** The load as the state would carry it now. */
  load: () => LoadInfo;
  publishNow: () => void;
}

/**
 * Keep-alives are slow in a large fleet (see keepAlivePeriodMs), so a load that moved goes out
 * before the next one — no sooner than loadPublishPeriodMs after the last publish. Ticked on the
 * agent's heartbeat; the decision is the fleet core's `loadPublishDue`.
 */
export class LoadPublisher {
  readonly #deps: LoadPublisherDeps;

  constructor(deps: LoadPublisherDeps) {
    this.#deps = deps;
  }

  /** Publishes if the load moved enough and long enough after the last publish; returns whether it did. */
  tick(): boolean {
    const d = this.#deps;
    const published = d.published();
    if (published === undefined) return false;
    if (!loadPublishDue(published, d.load(), d.clock.now(), d.heartbeatMs, d.fleetSize())) return false;
    d.publishNow();
    return true;
  }
}
