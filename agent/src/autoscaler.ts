import { addSample, agreedScale, type AutoscaleConfig, decideScale, effectiveTarget, type LoadSample, loadSample, type MembershipView, supersedes } from '@synkti/fleet';
import type { Clock, Logger } from '@synkti/interface';
import type { ScaleDecision } from '@synkti/protocol';

export interface AutoscalerInit {
  /** The pure rule's settings; `targetLoadPerNode` 0 means `targetUtilization` × the nodes' mean capacity. */
  config: AutoscaleConfig & { targetUtilization: number };
  /** The configured size: the target until somebody decides otherwise. */
  configured: number;
  view: MembershipView;
  clock: Clock;
  logger: Logger;
  /** Whether this agent is the launcher now (the replacement rule's lowest healthy peer with quorum). */
  isLauncher: () => boolean;
  /** A replacement launch is in flight, or the fleet is below its target: no scale-in. */
  replacing: () => boolean;
  /** Gossip a new decision at once. */
  publishNow: () => void;
  /** Told of each decision this agent makes, with the target it moves from (metrics). */
  onDecision?: (from: number, decision: ScaleDecision) => void;
}

/**
 * The shell around the pure autoscaling rule: samples the view's load every tick, and, while
 * this agent is the launcher, asks the rule whether the target moves. Every agent gossips the
 * highest decision it knows, so the decision outlives its launcher and a new launcher starts
 * from it (and from its cooldown).
 */
export class Autoscaler {
  readonly #init: AutoscalerInit;
  readonly #log: Logger;
  #samples: LoadSample[] = [];
  #known: ScaleDecision | null = null;
  #lastHold: string | null = null;

  constructor(init: AutoscalerInit) {
    this.#init = init;
    this.#log = init.logger.child({ component: 'autoscaler' });
  }

  /**
   * The decision this agent gossips and follows: the newest it has made or seen. Remembered, not
   * only read from the view: the peer that decided may leave (scale-in drains the launcher too)
   * and its state with it, and the fleet must not fall back to an older target.
   */
  decision(): ScaleDecision | undefined {
    const seen = agreedScale(this.#init.view.snapshot(this.#init.clock.now()));
    if (seen !== null && supersedes(seen, this.#known)) this.#known = seen;
    return this.#known ?? undefined;
  }

  /**
   * Takes a decision from a received state message, whoever sent it and whatever the view then
   * does with the sender: the peer that decided a scale-in may be the one the surplus rule
   * drains, and its leaving message removes it from the view at once.
   */
  adopt(seen: ScaleDecision): void {
    if (supersedes(seen, this.#known)) this.#known = seen;
  }

  /** The target the replacement and surplus rules use now. */
  target(): number {
    return effectiveTarget(this.decision() ?? null, this.#init.configured, this.#init.config);
  }

  tick(): void {
    const now = this.#init.clock.now();
    const peers = this.#init.view.snapshot(now);
    const c = this.#init.config;
    this.#samples = addSample(this.#samples, loadSample(peers, now), Math.max(c.scaleOutWindowMs, c.scaleInWindowMs) + 1_000);
    if (!this.#init.isLauncher()) return;
    const capacities = peers.filter((p) => p.healthy).map((p) => p.state.load.capacity);
    const meanCapacity = capacities.length === 0 ? 1 : capacities.reduce((a, b) => a + b, 0) / capacities.length;
    const targetLoadPerNode = c.targetLoadPerNode > 0 ? c.targetLoadPerNode : Math.max(1, c.targetUtilization * meanCapacity);
    const agreed = this.decision() ?? null;
    const verdict = decideScale({
      config: { ...c, targetLoadPerNode },
      target: effectiveTarget(agreed, this.#init.configured, c),
      agreed,
      samples: this.#samples,
      replacing: this.#init.replacing(),
      now,
    });
    if (verdict.kind === 'hold') {
      if (verdict.reason !== this.#lastHold && verdict.reason !== 'steady' && verdict.reason !== 'window-not-full') this.#log.debug({ reason: verdict.reason }, 'fleet size held');
      this.#lastHold = verdict.reason;
      return;
    }
    const latest = this.#samples.at(-1);
    this.#log.info({ from: agreed?.target ?? this.#init.configured, to: verdict.decision.target, generation: verdict.decision.generation, reason: verdict.decision.reason, demand: latest?.demand, nodes: latest?.nodes, targetLoadPerNode }, 'fleet size decided');
    const from = effectiveTarget(agreed, this.#init.configured, c);
    this.#known = verdict.decision;
    this.#lastHold = null;
    this.#init.onDecision?.(from, verdict.decision);
    this.#init.publishNow();
  }
}

