import { performance } from 'node:perf_hooks';
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';

/** Latency buckets in seconds: sub-millisecond hops up to multi-second generations. */
const LATENCY_BUCKETS_S = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

export interface MetricsSources {
  gossip(): { published: number; received: number; rejected: number };
  peersByStatus(): Record<string, number>;
  engineState(): string | null;
  /** The fleet's target (fixed or decided by load) and the healthy peers in view; null without a target. */
  fleetSize?(): { target: number; healthy: number } | null;
  /** The live fleet's cost per hour at the configured prices, and that of as many on-demand nodes; null without prices. */
  fleetCost?(): { costPerHour: number; onDemandPerHour: number } | null;
  /** Each live peer's engine load, by the slot it holds (null: no slot). */
  peerLoads?(): { slot: string | null; sequences: number; capacity: number; kvCacheUsage: number | null }[];
  /** The local engine's counters as last scraped from its /metrics; null where unknown. */
  engineCounters?(): { preemptions: number | null; prefixCacheQueries: number | null; prefixCacheHits: number | null } | null;
}

/**
 * Per-peer series are labelled by slot, not peer ID: peer IDs churn with every spot replacement
 * and would grow the series without bound, slots are reused (0..target-1, plus a few during a
 * hand-over). Peers without a slot add up under `none`; beyond this many slots the rest are left out.
 */
export const MAX_PEER_SERIES = 256;

/**
 * prom-client's event-loop-delay histogram samples on a timer, every 10 ms by default: in an idle
 * agent that timer was three wake-ups in four (docs/benchmarks.md). Its gauges also count the
 * sampling interval itself (10 ms idle at 10 ms, 1 s at 1 s), so a slower timer is no cure. The
 * timer is set to fire once an hour and its seven gauges are dropped; what is left says the same
 * without a timer: `nodejs_eventloop_lag_seconds` (a setImmediate timed at each scrape) and
 * `synkti_process_event_loop_utilization` (the loop's busy share between scrapes).
 */
const EVENT_LOOP_HISTOGRAM_RESOLUTION_MS = 3_600_000;
/** The agent process's own series (prom-client's defaults and the utilization gauge). */
const PROCESS_PREFIX = 'synkti_process_';
const EVENT_LOOP_HISTOGRAM_GAUGES = ['min', 'max', 'mean', 'stddev', 'p50', 'p90', 'p99'].map((s) => `${PROCESS_PREFIX}nodejs_eventloop_lag_${s}_seconds`);

function registerProcessMetrics(registry: Registry): void {
  collectDefaultMetrics({ register: registry, prefix: PROCESS_PREFIX, eventLoopMonitoringPrecision: EVENT_LOOP_HISTOGRAM_RESOLUTION_MS });
  for (const name of EVENT_LOOP_HISTOGRAM_GAUGES) registry.removeSingleMetric(name);
  let last = performance.eventLoopUtilization();
  new Gauge({
    name: `${PROCESS_PREFIX}event_loop_utilization`,
    help: "Share of the time since the previous scrape that this agent's event loop was busy (0 to 1): near 1, it is saturated.",
    registers: [registry],
    collect() {
      const now = performance.eventLoopUtilization();
      this.set(performance.eventLoopUtilization(now, last).utilization);
      last = now;
    },
  });
}

/**
 * The agent's Prometheus metrics. Counters the agent owns are incremented where things happen;
 * values that live elsewhere (gossip counters, the view, the engine) are read at scrape time.
 */
export class AgentMetrics {
  readonly registry = new Registry();
  readonly requests: Counter<'route' | 'status' | 'peer'>;
  readonly forwardSeconds: Histogram<'route' | 'target'>;
  readonly firstByteSeconds: Histogram<'route'>;
  readonly retries: Counter;
  readonly interruptions: Counter<'kind'>;
  readonly launches: Counter<'outcome'>;
  readonly migrations: Counter<'reason' | 'outcome'>;
  readonly admissionRejected: Counter;
  readonly migrationGapSeconds: Histogram;
  readonly scaleDecisions: Counter<'direction' | 'reason'>;

  constructor(sources: MetricsSources, labels: Record<string, string> = {}) {
    const registers = [this.registry];
    this.registry.setDefaultLabels(labels);
    registerProcessMetrics(this.registry);
    this.requests = new Counter({ name: 'synkti_requests_total', help: 'API requests by route, status and the peer that served them.', labelNames: ['route', 'status', 'peer'], registers });
    this.forwardSeconds = new Histogram({ name: 'synkti_forward_seconds', help: 'Time from request until its response could start (a stream: its head and first token; otherwise its head and first byte), by route and target (local engine or remote peer).', labelNames: ['route', 'target'], buckets: LATENCY_BUCKETS_S, registers });
    this.firstByteSeconds = new Histogram({ name: 'synkti_time_to_first_byte_seconds', help: 'Time from request to the first body byte (the first token of a stream).', labelNames: ['route'], buckets: LATENCY_BUCKETS_S, registers });
    this.retries = new Counter({ name: 'synkti_forward_retries_total', help: 'Requests retried on another peer after a failure before the first byte.', registers });
    this.interruptions = new Counter({ name: 'synkti_interruptions_total', help: 'Spot interruption notices and rebalance recommendations this agent received.', labelNames: ['kind'], registers });
    this.launches = new Counter({ name: 'synkti_launches_total', help: 'Replacement launches this agent made, by outcome.', labelNames: ['outcome'], registers });
    this.admissionRejected = new Counter({ name: 'synkti_admission_rejected_total', help: 'Client requests refused with 503 because this agent already served maxInFlight requests.', registers });
    this.migrations = new Counter({ name: 'synkti_migrations_total', help: 'Streams this entry agent continued on another peer (or retried before their first token), by why the upstream broke and how it ended: continued, retried (that attempt failed too) or failed (the client got an error event).', labelNames: ['reason', 'outcome'], registers });
    this.migrationGapSeconds = new Histogram({ name: 'synkti_migration_gap_seconds', help: 'The gap a client saw in a migrated stream: from the last token before the loss to the first token after it.', buckets: [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120], registers });
    new Counter({
      name: 'synkti_gossip_messages_total',
      help: 'State messages on the gossip topic: published (out), received (in) and rejected by validation.',
      labelNames: ['direction'],
      registers,
      collect() {
        const g = sources.gossip();
        this.reset();
        this.inc({ direction: 'out' }, g.published);
        this.inc({ direction: 'in' }, g.received);
        this.inc({ direction: 'rejected' }, g.rejected);
      },
    });
    new Gauge({
      name: 'synkti_peers',
      help: "Peers in this agent's view, by status.",
      labelNames: ['status'],
      registers,
      collect() {
        const counts = sources.peersByStatus();
        for (const status of ['alive', 'suspect', 'dead', 'healthy']) this.set({ status }, counts[status] ?? 0);
      },
    });
    new Gauge({
      name: 'synkti_engine_state',
      help: 'The local engine state: 1 for the current state, 0 for the others.',
      labelNames: ['state'],
      registers,
      collect() {
        const current = sources.engineState();
        for (const state of ['stopped', 'pulling', 'starting', 'loading', 'warm', 'draining', 'failed']) this.set({ state }, state === current ? 1 : 0);
      },
    });
    this.#engineCounterGauges(sources);
    this.#fleetGauges(sources);
    this.scaleDecisions = new Counter({ name: 'synkti_scale_decisions_total', help: 'Fleet-size decisions this agent made as the launcher, by direction (out, in) and reason (load-high, kv-cache-full, load-low, below-min, above-max).', labelNames: ['direction', 'reason'], registers });
    new Gauge({
      name: 'synkti_fleet_size',
      help: "The fleet's size as this agent sees it: `desired` is the target in force (fixed, or decided by load), `healthy` the healthy peers in view.",
      labelNames: ['kind'],
      registers,
      collect() {
        const size = sources.fleetSize?.() ?? null;
        this.reset();
        if (size === null) return;
        this.set({ kind: 'desired' }, size.target);
        this.set({ kind: 'healthy' }, size.healthy);
      },
    });
  }

  /**
   * The engine's own counters, re-exported so one scrape of the agent shows why a node is slow
   * (preemptions: its KV cache overflowed and requests were recomputed) or fast (prefix-cache
   * hits). Gauges, not counters: they restart from 0 with the engine.
   */
  #engineCounterGauges(sources: MetricsSources): void {
    const registers = [this.registry];
    const gauge = (name: string, help: string, pick: (c: NonNullable<ReturnType<NonNullable<MetricsSources['engineCounters']>>>) => number | null): void => {
      // Labelled so that an unknown value is no series at all (a reset label-less gauge prints NaN).
      new Gauge({
        name,
        help,
        labelNames: ['engine'],
        registers,
        collect() {
          const c = sources.engineCounters?.() ?? null;
          const v = c === null ? null : pick(c);
          this.reset();
          if (v !== null) this.set({ engine: 'local' }, v);
        },
      });
    };
    gauge('synkti_engine_preemptions', "Requests the local engine preempted (vLLM's num_preemptions_total) since it started.", (c) => c.preemptions);
    gauge('synkti_engine_prefix_cache_queries_tokens', 'Prompt tokens the local engine looked up in its prefix cache since it started.', (c) => c.prefixCacheQueries);
    gauge('synkti_engine_prefix_cache_hits_tokens', 'Prompt tokens the local engine found in its prefix cache since it started.', (c) => c.prefixCacheHits);
  }

  /** Cost per hour, and engine load and KV-cache usage per slot. */
  #fleetGauges(sources: MetricsSources): void {
    const registers = [this.registry];
    new Gauge({
      name: 'synkti_fleet_cost_per_hour',
      help: "What the live peers in this agent's view cost per hour at the configured prices (`actual`), and as many on-demand nodes (`on_demand`); the savings are 1 - actual / on_demand. Absent without prices.",
      labelNames: ['kind'],
      registers,
      collect() {
        const cost = sources.fleetCost?.() ?? null;
        this.reset();
        if (cost === null) return;
        this.set({ kind: 'actual' }, cost.costPerHour);
        this.set({ kind: 'on_demand' }, cost.onDemandPerHour);
      },
    });
    const bySlot = () => {
      const out = new Map<string, { sequences: number; capacity: number; kv: number | null }>();
      for (const p of sources.peerLoads?.() ?? []) {
        const slot = p.slot ?? 'none';
        const known = out.get(slot);
        if (known === undefined && out.size >= MAX_PEER_SERIES) continue;
        const kv = p.kvCacheUsage === null ? (known?.kv ?? null) : Math.max(known?.kv ?? 0, p.kvCacheUsage);
        out.set(slot, { sequences: (known?.sequences ?? 0) + p.sequences, capacity: (known?.capacity ?? 0) + p.capacity, kv });
      }
      return out;
    };
    new Gauge({
      name: 'synkti_peer_engine_sequences',
      help: "Sequences running and waiting on each live peer's engine, by the slot the peer holds, as gossiped.",
      labelNames: ['slot'],
      registers,
      collect() {
        this.reset();
        for (const [slot, l] of bySlot()) this.set({ slot }, l.sequences);
      },
    });
    new Gauge({
      name: 'synkti_peer_engine_kv_cache_usage',
      help: "KV-cache usage (0..1) of each live peer's engine, by slot, where the engine reports it.",
      labelNames: ['slot'],
      registers,
      collect() {
        this.reset();
        for (const [slot, l] of bySlot()) if (l.kv !== null) this.set({ slot }, l.kv);
      },
    });
  }

  async render(): Promise<{ contentType: string; body: string }> {
    return { contentType: this.registry.contentType, body: await this.registry.metrics() };
  }
}
