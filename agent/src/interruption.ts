import type { ImdsNotice } from '@synkti/cloud';
import type { EngineSupervisor } from '@synkti/engine';
import { planSurplus, type MembershipView } from '@synkti/fleet';
import type { Clock, Logger } from '@synkti/interface';
import type { Interruption } from '@synkti/protocol';

export interface InterruptionInit {
  self: () => string;
  target: number;
  view: MembershipView;
  engine: () => EngineSupervisor | undefined;
  clock: Clock;
  logger: Logger;
  drainMarginMs: number;
  rebalanceWindowMs: number;
  /** Gossip the change at once. */
  publishNow: () => void;
  /** Called once the node has drained and should leave (stop the agent, exit 0). */
  leave: (reason: string) => void;
  onNotice?: (kind: string) => void;
}

/**
 * What the agent does about spot interruptions. A stop/terminate notice: gossip it at once (peers
 * stop routing here), refuse new requests, let in-flight ones run until the deadline minus a
 * margin, stop the engine, leave. A rebalance recommendation: gossip it (the fleet starts a
 * replacement at once) and keep serving until the surplus rule says this node should go.
 */
export class InterruptionHandler {
  readonly #init: InterruptionInit;
  readonly #log: Logger;
  #notice: Interruption | null = null;
  #draining = false;

  constructor(init: InterruptionInit) {
    this.#init = init;
    this.#log = init.logger.child({ component: 'interruption' });
  }

  get interruption(): Interruption | null {
    return this.#notice;
  }

  get draining(): boolean {
    return this.#draining;
  }

  /** New requests are refused (retryable) once a notice arrived or the node drains. */
  get accepting(): boolean {
    return this.#notice === null && !this.#draining;
  }

  notice(n: ImdsNotice): void {
    // A stop/terminate notice overrides a rebalance; nothing overrides a stop/terminate.
    if (this.#notice !== null && (this.#notice.kind !== 'rebalance' || n.kind === 'rebalance')) return;
    this.#notice = { kind: n.kind, deadline: n.deadline, noticedAt: n.noticedAt };
    this.#log.warn({ kind: n.kind, deadline: n.deadline === null ? null : new Date(n.deadline).toISOString() }, 'spot interruption notice');
    this.#init.onNotice?.(n.kind);
    this.#init.publishNow();
    if (n.kind !== 'rebalance') {
      const budget = n.deadline === null ? 0 : n.deadline - this.#init.drainMarginMs - this.#init.clock.now();
      void this.#drainAndLeave(Math.max(0, budget), `interruption notice (${n.kind})`);
    }
  }

  /** Evaluated every heartbeat: does the surplus rule name this node to drain? */
  tick(): void {
    if (this.#draining || this.#init.target <= 0) return;
    const now = this.#init.clock.now();
    const decision = planSurplus({
      target: this.#init.target,
      now,
      rebalanceWindowMs: this.#init.rebalanceWindowMs,
      peers: this.#init.view.snapshot(now).map((p) => ({
        peerId: p.peerId,
        alive: p.status === 'alive',
        interrupted: p.state.interruption?.kind ?? null,
        noticedAt: p.state.interruption?.noticedAt ?? 0,
        draining: p.state.draining,
        warm: p.state.engine.state === 'warm',
      })),
    });
    if (decision.kind === 'drain' && decision.peerId === this.#init.self()) {
      void this.#drainAndLeave(this.#init.rebalanceWindowMs, `surplus (${decision.reason})`);
    }
  }

  async #drainAndLeave(budgetMs: number, reason: string): Promise<void> {
    if (this.#draining) return;
    this.#draining = true;
    this.#init.publishNow();
    this.#log.warn({ reason, budgetMs }, 'draining: no new requests; in-flight ones finish, then the engine stops');
    try {
      await this.#init.engine()?.drain(budgetMs);
    } catch (err) {
      this.#log.error({ err }, 'engine drain failed; leaving anyway');
    }
    this.#init.leave(reason);
  }
}
