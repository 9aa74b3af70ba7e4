import type { ImdsNotice } from '@synkti/cloud';
import type { Clock, Logger, TimerHandle } from '@synkti/interface';
import type { Interruption } from '@synkti/protocol';

/** This agent's own clients' streams end this long before the instance is reclaimed. */
const RELAY_MARGIN_MS = 1_000;

export interface InterruptionInit {
  /** Drains the node: served work finishes until `serveForMs`, then is handed over; own clients' streams get until `relayForMs`. */
  drain: (serveForMs: number, relayForMs: number, reason: string) => Promise<void>;
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
 * margin, hand the streams still running over to other peers, stop the engine, leave. A rebalance recommendation: gossip it (the fleet starts a
 * replacement at once) and keep serving until the surplus rule says this node should go.
 */
export class InterruptionHandler {
  readonly #init: InterruptionInit;
  readonly #log: Logger;
  #notice: Interruption | null = null;
  #draining = false;
  #spotReturn: TimerHandle | undefined;

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

  /** New requests are refused (retryable) once a stop/terminate notice arrived or the node drains; a rebalance keeps serving. */
  get accepting(): boolean {
    return (this.#notice === null || this.#notice.kind === 'rebalance') && !this.#draining;
  }

  /**
   * An on-demand fallback (launched by the fleet when spot had no capacity) asks, `afterMs`
   * after start, to be replaced by spot: it gossips a rebalance with cause `spot-return`, the
   * launcher walks the slot's spot placements only (retrying while spot has no capacity), and
   * once the spot replacement is warm the surplus rule drains this node like any at-risk one.
   * A cloud notice that arrives first wins.
   */
  scheduleSpotReturn(afterMs: number): void {
    this.#spotReturn = this.#init.clock.setTimeout(() => {
      if (this.#notice !== null || this.#draining) return;
      this.#notice = { kind: 'rebalance', deadline: null, noticedAt: this.#init.clock.now(), cause: 'spot-return' };
      this.#log.info({ afterMs }, 'on-demand fallback: asking the fleet for a spot replacement');
      this.#init.publishNow();
    }, afterMs);
  }

  stop(): void {
    if (this.#spotReturn !== undefined) this.#init.clock.clearTimeout(this.#spotReturn);
    this.#spotReturn = undefined;
  }

  notice(n: ImdsNotice): void {
    // A stop/terminate notice overrides a rebalance; nothing overrides a stop/terminate.
    if (this.#notice !== null && (this.#notice.kind !== 'rebalance' || n.kind === 'rebalance')) return;
    this.#notice = { kind: n.kind, deadline: n.deadline, noticedAt: n.noticedAt };
    this.#log.warn({ kind: n.kind, deadline: n.deadline === null ? null : new Date(n.deadline).toISOString() }, 'spot interruption notice');
    this.#init.onNotice?.(n.kind);
    this.#init.publishNow();
    if (n.kind !== 'rebalance') {
      const left = n.deadline === null ? 0 : n.deadline - this.#init.clock.now();
      // Streams served here are handed over a margin before the deadline; this agent's own clients
      // keep their streams (now served by peers) until just before the instance goes.
      const serveFor = Math.max(0, left - this.#init.drainMarginMs);
      void this.#drainAndLeave(serveFor, Math.max(serveFor, left - RELAY_MARGIN_MS), `interruption notice (${n.kind})`);
    }
  }

  /** The fleet core's surplus rule named this node: it drains and leaves, giving its work the rebalance window to finish. */
  drainAsSurplus(reason: string): void {
    if (this.#draining) return;
    void this.#drainAndLeave(this.#init.rebalanceWindowMs, 2 * this.#init.rebalanceWindowMs, `surplus (${reason})`);
  }

  async #drainAndLeave(serveForMs: number, relayForMs: number, reason: string): Promise<void> {
    if (this.#draining) return;
    this.#draining = true;
    this.#init.publishNow();
    try {
      await this.#init.drain(serveForMs, relayForMs, reason);
    } catch (err) {
      this.#log.error({ err }, 'drain failed; leaving anyway');
    }
    this.#init.leave(reason);
  }
}
