import type { Rng } from '@synkti/interface';
import { type CoreState, initialCoreState, type LaunchRecord, type LoadSample, type PeerFacts, type ProviderInstance, type SurplusPeer } from '@synkti/fleet';
import type { InterruptionKind, ScaleDecision } from '@synkti/protocol';
import type { SimConfig } from './config.js';
import { EventHeap } from './heap.js';
import type { Market } from './market.js';
import type { Policy } from './policies/index.js';
import type { SimInstance, SimProvider } from './provider.js';
import type { TrafficState } from './traffic/model.js';
import type { ViewIndex } from './view.js';

/** A simulated agent on one instance. */
export interface SimNode {
  peerId: string;
  inst: SimInstance;
  slot: string;
  side: number;
  incarnation: number;
  state: 'starting' | 'warm' | 'gone';
  interrupted: InterruptionKind | null;
  /** An on-demand fallback that asked to be replaced by spot (its rebalance is not a loss). */
  spotReturn: boolean;
  noticedAt: number;
  draining: boolean;
  records: LaunchRecord[];
  seq: number;
  /** This node's clock minus the simulator's (NTP-disciplined clocks still differ a little). */
  skewMs: number;
  /** Scheduled reclaim time (Infinity for on-demand); events carrying another time are stale. */
  preemptAt: number;
  serving: boolean;
  /** Index in World.servingList while serving. */
  servingIndex: number;
  /** Request-mode load: running and queued requests. */
  active: number;
  queue: SimRequest[];
}

export interface SimRequest {
  arrivedAt: number;
  serviceMs: number;
}

/** What one side's gossip has told its agents about one peer. */
export interface ViewEntry {
  facts: PeerFacts;
  /** The same peer as planSurplus sees it, built once per message. */
  surplus: SurplusPeer;
  warm: boolean;
  noticedAt: number;
  records: LaunchRecord[];
  seq: number;
}

/** The view shared by every agent on one side of a partition (one group, evaluated once). */
export interface SideView {
  peers: Map<string, ViewEntry>;
  /**
   * The fleet core's state every agent on this side shares (slot memory, listing, last plan);
   * each agent's own launch records live on its SimNode and join it when that agent ticks.
   */
  core: CoreState;
  evalAt: number;
  /** At-risk (rebalance) peers seen by the last evaluation: only then does a warm-only change matter. */
  lastAtRisk: number;
  /** The rule's inputs derived from `peers`, kept until `peers` changes (null: changed since; see view.ts). */
  derived: DerivedView | null;
  /** What the next derivation updates by delta (null: derive afresh). */
  index: ViewIndex | null;
  /** Peers set since the last derivation. */
  changed: Set<string>;
  /**
   * The target this side follows when cut off: the decision it knew at the cut (gossip from the
   * deciding side no longer reaches it). Null: the fleet's current target (`World.target`).
   */
  target: number | null;
}

export interface DerivedView {
  peers: PeerFacts[];
  surplusPeers: SurplusPeer[];
  launches: LaunchRecord[];
  lowest: string | null;
  second: string | null;
  atRisk: number;
}

export interface Snapshot {
  peerId: string;
  seq: number;
  leaving: boolean;
  entry: ViewEntry;
}

export type SimEvent =
  | { k: 'deliver'; side: number; snap: Snapshot }
  | { k: 'silent'; side: number; peerId: string; seq: number; deadAt: number; forgetAt: number }
  | { k: 'dead'; side: number; peerId: string; seq: number }
  | { k: 'forget'; side: number; peerId: string; seq: number }
  | { k: 'eval'; side: number; at: number }
  | { k: 'listed'; side: number }
  | { k: 'join'; inst: SimInstance; fails: boolean }
  | { k: 'warm'; node: SimNode }
  | { k: 'rebalance'; node: SimNode; at: number }
  | { k: 'spot-return'; node: SimNode }
  | { k: 'notice'; node: SimNode; at: number }
  | { k: 'gone'; node: SimNode; at: number }
  | { k: 'wave'; market: number }
  | { k: 'partition-start' }
  | { k: 'partition-end' }
  | { k: 'poll' }
  | { k: 'sample' }
  | { k: 'scale' }
  | { k: 'fluid' }
  | { k: 'arrive' }
  | { k: 'complete'; node: SimNode; req: SimRequest };

export interface Counters {
  preemptions: number;
  rebalances: number;
  falseRebalances: number;
  replacements: number;
  bootFailures: number;
  surplusDrains: number;
  evaluations: number;
  events: number;
  partitions: number;
  waves: number;
  launchesWithoutQuorum: number;
  minorityLaunches: number;
  /**
   * Launches by a side that is really a minority, after it had time to notice the partition,
   * into a slot a live agent on the other side holds, without the provider's word: must stay 0.
   */
  minorityLaunchesWithoutWitness: number;
  /** Instances terminated by a launcher before replacing them (dead in a view with quorum). */
  fenced: number;
  /** Fencings of a healthy agent on the fencing side of any partition (reachable, not gone): must stay 0. */
  falseFencings: number;
  /** On-demand fallbacks that asked to go back to spot. */
  spotReturns: number;
}

export interface World {
  config: SimConfig;
  policy: Policy;
  rng: Rng;
  trafficRng: Rng;
  heap: EventHeap<SimEvent>;
  now: number;
  endAt: number;
  markets: Market[];
  provider: SimProvider;
  nodes: Map<string, SimNode>;
  views: SideView[];
  partitioned: boolean;
  /** When the current partition began (its sides need CUT_OFF_NOTICED_WITHIN_MS + a heartbeat to notice). */
  partitionedAt: number;
  /** The provider's listing (pending + running instances) as last polled, and when. */
  polled: { count: number; instances: readonly ProviderInstance[]; at: number };
  servingList: SimNode[];
  /** Provisioned capacity: live instances without a notice and not draining (booting included). */
  provisioned: number;
  counters: Counters;
  restore: { belowSince: number | null; reference: number; maxRestoreMs: number; belowMs: number; lastChange: number };
  servingBelowMs: number;
  servingLastChange: number;
  traffic: TrafficState;
  /** Market index of each of the policy's configured placements (-1: on-demand). */
  placementMarkets: number[];
  /** Spot prices by placement index, read at the start of `hour` (see placement.ts). */
  prices: { hour: number; byIndex: Map<number, number> } | null;
  /** The fleet's size in force: `config.nodes`, or the autoscaler's agreed target. */
  target: number;
  scale: ScaleState;
  /** Chart samples: time (h), serving agents, live instances, target. */
  series: { t: number[]; serving: number[]; instances: number[]; target: number[]; demand: number[] };
}

/** The autoscaler's memory: the agreed decision, the launcher's load window, and every move (for the report). */
export interface ScaleState {
  decision: ScaleDecision | null;
  samples: LoadSample[];
  events: ScaleEvent[];
}

export interface ScaleEvent {
  at: number;
  from: number;
  to: number;
  reason: string;
  /** A scale-out: when as many agents served as it decided (null until then, or never). */
  warmAt: number | null;
}

export function newWorld(parts: Omit<World, 'heap' | 'now' | 'nodes' | 'views' | 'partitioned' | 'partitionedAt' | 'polled' | 'servingList' | 'provisioned' | 'counters' | 'restore' | 'servingBelowMs' | 'servingLastChange' | 'series' | 'prices' | 'scale'>): World {
  return {
    ...parts,
    heap: new EventHeap<SimEvent>(),
    now: 0,
    nodes: new Map(),
    views: [emptyView(), emptyView()],
    partitioned: false,
    partitionedAt: 0,
    polled: { count: 0, instances: [], at: 0 },
    servingList: [],
    provisioned: 0,
    counters: {
      preemptions: 0,
      rebalances: 0,
      falseRebalances: 0,
      replacements: 0,
      bootFailures: 0,
      surplusDrains: 0,
      evaluations: 0,
      events: 0,
      partitions: 0,
      waves: 0,
      launchesWithoutQuorum: 0,
      minorityLaunches: 0,
      minorityLaunchesWithoutWitness: 0,
      fenced: 0,
      falseFencings: 0,
      spotReturns: 0,
    },
    restore: { belowSince: null, reference: 0, maxRestoreMs: 0, belowMs: 0, lastChange: 0 },
    servingBelowMs: 0,
    servingLastChange: 0,
    series: { t: [], serving: [], instances: [], target: [], demand: [] },
    prices: null,
    scale: { decision: null, samples: [], events: [] },
  };
}

export function emptyView(): SideView {
  // Agents of the side take their own ID and start time into this state when they tick.
  return { peers: new Map(), core: initialCoreState('', Number.NEGATIVE_INFINITY, 0.5), evalAt: -1, lastAtRisk: 0, derived: null, index: null, changed: new Set(), target: null };
}

/** The target a side's agents follow. */
export function targetOf(w: World, side: number): number {
  return w.views[side]!.target ?? w.target;
}

export function schedule(w: World, at: number, ev: SimEvent): void {
  if (at <= w.endAt) w.heap.push(Math.max(at, w.now), ev);
}
