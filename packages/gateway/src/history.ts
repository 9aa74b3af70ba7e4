import type { FleetEvent, PeerSnapshot } from '@synkti/fleet';

/** One sample every HISTORY_INTERVAL_MS ... */
export const HISTORY_INTERVAL_MS = 5_000;
/** ... kept for 15 minutes: what the dashboard's charts span. */
export const HISTORY_MAX_SAMPLES = 180;
/** Marked events (scale moves, interruptions, joins, deaths) kept. */
export const HISTORY_MAX_EVENTS = 200;
/** First-token times kept per interval for its percentiles; beyond it, the oldest are overwritten. */
export const HISTORY_MAX_TTFT_PER_INTERVAL = 4_096;

/** Hourly prices the fleet's cost is reckoned at; null: unknown (no cost chart). */
export interface FleetPrices {
  spotPerHour: number | null;
  onDemandPerHour: number | null;
}

/** One interval, as this agent saw it. Rates and times are of requests that entered the fleet here. */
export interface HistorySample {
  at: number;
  requestsPerS: number;
  failedPerS: number;
  ttftP50Ms: number | null;
  ttftP99Ms: number | null;
  /** Streamed completion tokens relayed to this agent's clients. */
  tokensPerS: number;
  /** Peers alive or suspect in this agent's view, and those healthy (warm and routable). */
  peers: number;
  warm: number;
  /** The fleet size in force (autoscaled or configured); null without replacement. */
  target: number | null;
  /** What the live peers cost per hour at the configured prices, and what as many on-demand nodes would. */
  costPerHour: number | null;
  onDemandPerHour: number | null;
}

export interface HistoryEvent {
  at: number;
  kind: 'scale-out' | 'scale-in' | 'interrupted' | 'dead' | 'joined' | 'left';
  peerId: string | null;
  detail: string;
}

export interface HistoryJson {
  intervalMs: number;
  now: number;
  samples: HistorySample[];
  events: HistoryEvent[];
}

const MARKED = new Set(['interrupted', 'dead', 'joined', 'left']);

/**
 * The agent's own ring buffer of fleet figures over the last minutes: requests, first-token
 * times and tokens as they pass this agent's gateway, and the fleet's size, warmth, target and
 * cost from its view. The agent calls `sample` every HISTORY_INTERVAL_MS with its clock; no
 * timers here. Bounded throughout: samples, events and first-token times per interval.
 */
export class FleetHistory {
  readonly #samples: HistorySample[] = [];
  readonly #events: HistoryEvent[] = [];
  #requests = 0;
  #failed = 0;
  #tokens = 0;
  #ttfts: number[] = [];
  #ttftOverflow = 0;
  #lastAt: number | null = null;
  #lastTarget: number | null = null;
  #lastEventAt = Number.NEGATIVE_INFINITY;

  constructor(readonly prices: FleetPrices) {}

  /** A request this agent's gateway answered: its time to the first byte, or null when it failed. */
  recordRequest(ttftMs: number | null): void {
    if (ttftMs === null) {
      this.#failed++;
      return;
    }
    this.#requests++;
    if (this.#ttfts.length < HISTORY_MAX_TTFT_PER_INTERVAL) this.#ttfts.push(ttftMs);
    else this.#ttfts[this.#ttftOverflow++ % HISTORY_MAX_TTFT_PER_INTERVAL] = ttftMs;
  }

  /** A stream relayed to a client ended after `tokens` completion tokens. */
  recordTokens(tokens: number): void {
    if (Number.isFinite(tokens) && tokens > 0) this.#tokens += tokens;
  }

  /** Closes the interval ending at `now`: one sample, and the fleet events since the last one. */
  sample(now: number, peers: readonly PeerSnapshot[], target: number | null, events: readonly FleetEvent[]): HistorySample {
    const seconds = this.#lastAt === null ? HISTORY_INTERVAL_MS / 1_000 : Math.max(0.001, (now - this.#lastAt) / 1_000);
    const live = peers.filter((p) => p.status !== 'dead');
    const sorted = this.#ttfts.sort((a, b) => a - b);
    const s: HistorySample = {
      at: now,
      requestsPerS: round(this.#requests / seconds),
      failedPerS: round(this.#failed / seconds),
      ttftP50Ms: percentile(sorted, 0.5),
      ttftP99Ms: percentile(sorted, 0.99),
      tokensPerS: round(this.#tokens / seconds),
      peers: live.length,
      warm: peers.filter((p) => p.healthy).length,
      target,
      ...this.#cost(live),
    };
    push(this.#samples, s, HISTORY_MAX_SAMPLES);
    this.#requests = 0;
    this.#failed = 0;
    this.#tokens = 0;
    this.#ttfts = [];
    this.#ttftOverflow = 0;
    this.#lastAt = now;
    this.#markEvents(now, target, events);
    return s;
  }

  toJSON(now: number): HistoryJson {
    return { intervalMs: HISTORY_INTERVAL_MS, now, samples: [...this.#samples], events: [...this.#events] };
  }

  #cost(live: readonly PeerSnapshot[]): Pick<HistorySample, 'costPerHour' | 'onDemandPerHour'> {
    const cost = fleetCostPerHour(live, this.prices);
    return cost === null ? { costPerHour: null, onDemandPerHour: null } : { costPerHour: round(cost.costPerHour), onDemandPerHour: round(cost.onDemandPerHour) };
  }

  #markEvents(now: number, target: number | null, events: readonly FleetEvent[]): void {
    if (target !== null && this.#lastTarget !== null && target !== this.#lastTarget) {
      push(this.#events, { at: now, kind: target > this.#lastTarget ? 'scale-out' : 'scale-in', peerId: null, detail: `${this.#lastTarget} → ${target}` }, HISTORY_MAX_EVENTS);
    }
    this.#lastTarget = target;
    let newest = this.#lastEventAt;
    for (const e of events) {
      if (e.at <= this.#lastEventAt || !MARKED.has(e.kind)) continue;
      push(this.#events, { at: e.at, kind: e.kind as HistoryEvent['kind'], peerId: e.peerId, detail: e.detail }, HISTORY_MAX_EVENTS);
      newest = Math.max(newest, e.at);
    }
    this.#lastEventAt = newest;
    this.#events.sort((a, b) => a.at - b.at);
  }
}

/**
 * What `live` peers cost per hour at `prices`, and what as many on-demand nodes would; null
 * without an on-demand price. A node whose lifecycle is unknown is billed as on-demand, so the
 * cost is never understated.
 */
export function fleetCostPerHour(live: readonly PeerSnapshot[], prices: FleetPrices): { costPerHour: number; onDemandPerHour: number } | null {
  const { spotPerHour, onDemandPerHour } = prices;
  if (onDemandPerHour === null) return null;
  const cost = live.reduce((sum, p) => sum + (p.state.provider.lifecycle === 'spot' && spotPerHour !== null ? spotPerHour : onDemandPerHour), 0);
  return { costPerHour: cost, onDemandPerHour: live.length * onDemandPerHour };
}

function push<T>(ring: T[], item: T, max: number): void {
  ring.push(item);
  if (ring.length > max) ring.splice(0, ring.length - max);
}

function percentile(sorted: readonly number[], q: number): number | null {
  if (sorted.length === 0) return null;
  return round(sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!);
}

const round = (x: number): number => Math.round(x * 100) / 100;
