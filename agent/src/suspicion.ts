import { type MembershipView, suspectsMe } from '@synkti/fleet';
import type { Clock, Logger, TimerHandle } from '@synkti/interface';
import type { NodeState } from '@synkti/protocol';

/**
 * Publishes caused by suspicion come at most this often: a burst of closed connections (a
 * whole rack lost) or many peers naming this agent at once costs one message, not one each.
 */
export const SUSPICION_PUBLISH_GAP_MS = 200;

export interface SuspicionDeps {
  view: MembershipView;
  clock: Clock;
  logger: Logger;
  self: () => string;
  /** The version of this agent's newest published state. */
  published: () => Pick<NodeState, 'incarnation' | 'seq'> | undefined;
  publishNow: () => void;
}

/**
 * The agent's part in gossiped suspicion (SWIM's rule on our (incarnation, seq) version): a
 * closed connection makes a peer suspect here and is published at once, so every view stops
 * routing to it within one gossip round; a state that names this agent as suspect is answered
 * at once with a newer state, which clears the suspicion in every view. Only silence makes a
 * peer dead, and only a confirmed death is fenced (see fence-probe.ts).
 */
export class SuspicionGossip {
  readonly #deps: SuspicionDeps;
  readonly #log: Logger;
  #lastPublishAt = Number.NEGATIVE_INFINITY;
  #pending: TimerHandle | undefined;
  #refutations = 0;

  constructor(deps: SuspicionDeps) {
    this.#deps = deps;
    this.#log = deps.logger.child({ component: 'suspicion' });
  }

  /** Times this agent answered a suspicion of itself. */
  get refutations(): number {
    return this.#refutations;
  }

  /** Evidence that `peerId` is gone (its connection closed, it failed a probe): suspect it here, and tell the fleet if that is news. */
  suspect(peerId: string): void {
    if (this.#deps.view.suspect(peerId, this.#deps.clock.now())) this.#publishSoon();
  }

  /** Every accepted state: one naming this agent as suspect is refuted at once. */
  onState(state: NodeState): void {
    const self = this.#deps.self();
    if (state.peerId === self || !suspectsMe(state, self, this.#deps.published())) return;
    this.#refutations++;
    this.#log.info({ suspectedBy: state.peerId }, 'a peer suspects this agent; refuting with a newer state');
    this.#publishSoon();
  }

  /** The gossiped list: first-hand suspicions only. */
  suspects(): NodeState['suspects'] {
    const list = this.#deps.view.suspicions(this.#deps.clock.now());
    return list.length > 0 ? list : undefined;
  }

  stop(): void {
    if (this.#pending !== undefined) this.#deps.clock.clearTimeout(this.#pending);
    this.#pending = undefined;
  }

  #publishSoon(): void {
    if (this.#pending !== undefined) return;
    const wait = this.#lastPublishAt + SUSPICION_PUBLISH_GAP_MS - this.#deps.clock.now();
    if (wait <= 0) {
      this.#publish();
      return;
    }
    this.#pending = this.#deps.clock.setTimeout(() => {
      this.#pending = undefined;
      this.#publish();
    }, wait);
  }

  #publish(): void {
    this.#lastPublishAt = this.#deps.clock.now();
    this.#deps.publishNow();
  }
}
