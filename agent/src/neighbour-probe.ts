import { compareIds, indirectProbeHelpers, type MembershipView, NEIGHBOUR_INDIRECT_TIMEOUT_MS, NEIGHBOUR_PROBE_HELPERS, NEIGHBOUR_PROBE_INTERVAL_MS, NEIGHBOUR_PROBE_TIMEOUT_MS } from '@synkti/fleet';
import type { Clock, Logger, TimerHandle } from '@synkti/interface';
import type { ProbeMesh } from './fence-probe.js';

export interface NeighbourProbeDeps {
  mesh: ProbeMesh & { connectedPeers(): string[] };
  view: MembershipView;
  clock: Clock;
  logger: Logger;
  self: () => string;
  /** A neighbour answered neither this node nor any helper: suspect it (and tell the fleet). */
  suspect: (peerId: string) => void;
}

/**
 * SWIM's failure detector on the connections a node keeps: each interval it pings the next
 * connected peer that it sees alive (round robin), and when the ping fails asks a couple of other
 * peers to try; a peer nobody reaches becomes suspect, gossiped at once. A frozen process or a
 * host gone without closing its sockets is thus suspect within a few seconds, whatever the
 * keep-alive period, and dead after deadAfter unless it refutes. One probe at a time.
 */
export class NeighbourProbe {
  readonly #deps: NeighbourProbeDeps;
  readonly #log: Logger;
  #timer: TimerHandle | undefined;
  #cursor = 0;
  #running = false;

  constructor(deps: NeighbourProbeDeps) {
    this.#deps = deps;
    this.#log = deps.logger.child({ component: 'neighbour-probe' });
  }

  start(): void {
    if (this.#running) return;
    this.#running = true;
    this.#schedule();
  }

  stop(): void {
    this.#running = false;
    if (this.#timer !== undefined) this.#deps.clock.clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  /** One round: exported for tests, which drive it without the timer. */
  async probeOnce(): Promise<void> {
    const { view, clock, mesh } = this.#deps;
    const now = clock.now();
    const self = this.#deps.self();
    const candidates = mesh.connectedPeers().filter((p) => p !== self && view.status(p, now) === 'alive').sort(compareIds);
    if (candidates.length === 0) return;
    const target = candidates[this.#cursor++ % candidates.length]!;
    if (await mesh.reachable(target, NEIGHBOUR_PROBE_TIMEOUT_MS)) return;
    const helpers = indirectProbeHelpers(view.snapshot(clock.now()), target, self, NEIGHBOUR_PROBE_HELPERS);
    const answers = await Promise.all(helpers.map((h) => mesh.reachableVia(h, target, NEIGHBOUR_INDIRECT_TIMEOUT_MS)));
    if (answers.some(Boolean)) {
      this.#log.info({ peer: target, helpers }, 'a neighbour did not answer this node but answers others; not suspecting it');
      return;
    }
    this.#log.warn({ peer: target, helpers }, 'a neighbour answers neither this node nor others; suspecting it');
    this.#deps.suspect(target);
  }

  #schedule(): void {
    if (!this.#running) return;
    this.#timer = this.#deps.clock.setTimeout(() => {
      this.#timer = undefined;
      this.probeOnce()
        .catch((err: unknown) => this.#log.warn({ err }, 'neighbour probe failed'))
        .finally(() => this.#schedule());
    }, NEIGHBOUR_PROBE_INTERVAL_MS);
  }
}
