import type { Placement } from '@synkti/fleet';
import type { Clock, CloudProvider, Logger } from '@synkti/interface';

const HOUR_MS = 3_600_000;
/** After a failed price read, the next try comes this much later. */
const PRICE_RETRY_MS = 5 * 60_000;
/** A price read that has not answered by then has failed. */
const PRICE_TIMEOUT_MS = 10_000;

/**
 * The spot prices the replacement rule orders placements by: those in effect at the start of the
 * current hour, read once per hour. A past instant every peer can name, so every peer that reads
 * it derives the same walk order (only the hour's turn can briefly differ between two peers). A
 * failure keeps the previous hour's prices, or none: the walk is then spread only.
 */
export class SpotPriceCache {
  #prices: { hour: number; byIndex: Map<number, number> } | undefined;
  #nextTry = 0;
  #reading = false;

  private constructor(
    readonly read: (placements: readonly Placement[], at: number, signal: AbortSignal) => Promise<Map<number, number>>,
    readonly placements: readonly Placement[],
    readonly clock: Clock,
    readonly log: Logger,
  ) {}

  /** Undefined when the provider cannot tell prices. */
  static of(provider: CloudProvider, placements: readonly Placement[], clock: Clock, logger: Logger): SpotPriceCache | undefined {
    const read = provider.spotPrices?.bind(provider);
    return read === undefined ? undefined : new SpotPriceCache(read, placements, clock, logger.child({ component: 'spot-prices' }));
  }

  /** Spot price by configured placement index; undefined before the first read. */
  get current(): ReadonlyMap<number, number> | undefined {
    return this.#prices?.byIndex;
  }

  refresh(now: number): void {
    const hour = Math.floor(now / HOUR_MS) * HOUR_MS;
    if (this.#reading || now < this.#nextTry || this.#prices?.hour === hour) return;
    this.#reading = true;
    this.read(this.placements, hour, AbortSignal.timeout(PRICE_TIMEOUT_MS))
      .then((byIndex) => {
        this.#prices = { hour, byIndex };
        this.log.info({ at: new Date(hour).toISOString(), prices: Object.fromEntries(byIndex) }, 'spot prices read: cheapest pools first');
      })
      .catch((err: unknown) => {
        this.#nextTry = this.clock.now() + PRICE_RETRY_MS;
        this.log.warn({ err }, 'cannot read spot prices; placements stay spread by slot');
      })
      .finally(() => {
        this.#reading = false;
      });
  }
}
