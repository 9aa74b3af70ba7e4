import type { PeerSnapshot } from '@synkti/fleet';
import { FleetHistory, fleetCostPerHour, type FleetSource, HISTORY_INTERVAL_MS, type MetricsSources } from '@synkti/gateway';
import type { Clock, TimerHandle } from '@synkti/interface';

export interface HistorySamplerInit {
  clock: Clock;
  fleet: FleetSource;
  /** The fleet size in force (autoscaled or configured); null without replacement. */
  target: () => number | null;
  /** Hourly prices from config; 0 means unknown. */
  spotPricePerHour: number;
  onDemandPricePerHour: number;
}

/**
 * Feeds the agent's history ring buffer (the dashboard's charts) from its view every
 * HISTORY_INTERVAL_MS on the injected clock, and gives the metrics their fleet sources
 * (cost per hour, load per slot) from the same view.
 */
export class HistorySampler {
  readonly history: FleetHistory;
  readonly #init: HistorySamplerInit;
  #timer: TimerHandle | undefined;

  constructor(init: HistorySamplerInit) {
    this.#init = init;
    this.history = new FleetHistory({
      spotPerHour: init.spotPricePerHour > 0 ? init.spotPricePerHour : null,
      onDemandPerHour: init.onDemandPricePerHour > 0 ? init.onDemandPricePerHour : null,
    });
  }

  start(): void {
    const next = () => {
      this.#timer = this.#init.clock.setTimeout(() => {
        this.sampleNow();
        next();
      }, HISTORY_INTERVAL_MS);
    };
    next();
  }

  stop(): void {
    if (this.#timer !== undefined) this.#init.clock.clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  sampleNow(): void {
    const f = this.#init.fleet;
    this.history.sample(this.#init.clock.now(), f.peers(), this.#init.target(), f.events());
  }

  /** The metrics' fleet sources, read at scrape time. */
  metricsSources(): Pick<MetricsSources, 'fleetCost' | 'peerLoads'> {
    return {
      fleetCost: () => fleetCostPerHour(this.#live(), this.history.prices),
      peerLoads: () => this.#live().map(peerLoad),
    };
  }

  #live(): PeerSnapshot[] {
    return this.#init.fleet.peers().filter((p) => p.status !== 'dead');
  }
}

function peerLoad(p: PeerSnapshot) {
  const l = p.state.load;
  return { slot: p.state.provider.slot, sequences: (l.running ?? l.inFlight) + (l.waiting ?? 0), capacity: l.capacity, kvCacheUsage: l.kvCacheUsage };
}
