import type { Placement, ProviderInstance } from '@synkti/fleet';
import type { SimNode } from './world.js';

/** One simulated cloud instance. */
export interface SimInstance {
  id: string;
  token: string;
  slot: string;
  placement: Placement;
  /** Index of its spot market, or -1 when on-demand. */
  market: number;
  launchedAt: number;
  endedAt: number | null;
  joined: boolean;
  /** Side of the partition its launcher was on (new agents join their launcher's side). */
  side: number;
  /** How DescribeInstances lists it (built once: slot, token and launch time never change). */
  listed: ProviderInstance;
  /** Its agent once joined. */
  node: SimNode | null;
}

export type RunResult =
  | { ok: true; instance: SimInstance; fresh: boolean }
  | { ok: false; code: 'InsufficientInstanceCapacity' | 'IdempotentParameterMismatch' };

export interface ProviderStats {
  /** Fresh instances created (every token creates at most one). */
  instances: number;
  /** Requests answered with an existing instance for a repeated token. */
  idempotentHits: number;
  /**
   * A fresh instance launched into a slot that already held another live instance which was
   * pending, or running with an agent that had no notice and was not draining (counted by the
   * simulator, which knows the agents): must stay 0.
   */
  doubleLaunches: number;
  mismatches: number;
  capacityErrors: number;
}

/**
 * An idempotent provider, like EC2 RunInstances with ClientToken: a token maps to one
 * instance forever; the same token with other parameters is rejected; a capacity error
 * records nothing, so the token can be retried later.
 */
export class SimProvider {
  readonly stats: ProviderStats = { instances: 0, idempotentHits: 0, doubleLaunches: 0, mismatches: 0, capacityErrors: 0 };
  readonly #byToken = new Map<string, SimInstance>();
  readonly #live = new Set<SimInstance>();
  readonly #created: SimInstance[] = [];
  readonly #liveBySlot = new Map<string, SimInstance[]>();
  #listCache: ProviderInstance[] | null = null;

  constructor(
    private readonly marketOf: (p: Placement) => number,
    private readonly short: (market: number, now: number) => boolean,
  ) {}

  run(token: string, placement: Placement, slot: string, side: number, now: number): RunResult {
    const seen = this.#byToken.get(token);
    if (seen !== undefined) {
      const same = seen.placement === placement || samePlacement(seen.placement, placement);
      if (!same || seen.slot !== slot) {
        this.stats.mismatches++;
        return { ok: false, code: 'IdempotentParameterMismatch' };
      }
      this.stats.idempotentHits++;
      return { ok: true, instance: seen, fresh: false };
    }
    const market = placement.onDemand === true ? -1 : this.marketOf(placement);
    if (market >= 0 && this.short(market, now)) {
      this.stats.capacityErrors++;
      return { ok: false, code: 'InsufficientInstanceCapacity' };
    }
    const id = `i-${(this.stats.instances + 1).toString(16).padStart(8, '0')}`;
    const instance: SimInstance = {
      id,
      token,
      slot,
      placement,
      market,
      launchedAt: now,
      endedAt: null,
      joined: false,
      side,
      listed: { instanceId: id, slot, token, launchedAt: now },
      node: null,
    };
    this.stats.instances++;
    this.#byToken.set(token, instance);
    this.#created.push(instance);
    this.#live.add(instance);
    const inSlot = this.#liveBySlot.get(slot);
    if (inSlot === undefined) this.#liveBySlot.set(slot, [instance]);
    else inSlot.push(instance);
    this.#listCache = null;
    return { ok: true, instance, fresh: true };
  }

  joined(instance: SimInstance): void {
    instance.joined = true;
  }

  terminate(instance: SimInstance, now: number): void {
    if (instance.endedAt !== null) return;
    instance.endedAt = now;
    this.#live.delete(instance);
    const inSlot = this.#liveBySlot.get(instance.slot);
    if (inSlot !== undefined) {
      const i = inSlot.indexOf(instance);
      if (i >= 0) inSlot.splice(i, 1);
      if (inSlot.length === 0) this.#liveBySlot.delete(instance.slot);
    }
    this.#listCache = null;
  }

  /** Pending + running instances: what DescribeInstances by fleet tag reports. */
  count(): number {
    return this.#live.size;
  }

  /** Pending + running instances as DescribeInstances lists them (a new array only after a change). */
  list(): readonly ProviderInstance[] {
    if (this.#listCache === null) {
      const out: ProviderInstance[] = new Array(this.#live.size);
      let k = 0;
      for (const i of this.#live) out[k++] = i.listed;
      this.#listCache = out;
    }
    return this.#listCache;
  }

  byToken(token: string): SimInstance | undefined {
    return this.#byToken.get(token);
  }

  /** Instances created after the first `count` (in creation order). */
  launchedSince(count: number): readonly SimInstance[] {
    return this.#created.slice(count);
  }

  /** Live instances tagged with `slot` (ground truth, for the simulator's own checks). */
  liveIn(slot: string): readonly SimInstance[] {
    return this.#liveBySlot.get(slot) ?? [];
  }

  byId(id: string): SimInstance | undefined {
    // Instance IDs are the creation counter in hex: walk the live set (fencing is rare).
    for (const i of this.#live) if (i.id === id) return i;
    return undefined;
  }

  all(): IterableIterator<SimInstance> {
    return this.#byToken.values();
  }
}

function samePlacement(a: Placement, b: Placement): boolean {
  return a.instanceType === b.instanceType && a.subnet === b.subnet && (a.onDemand ?? false) === (b.onDemand ?? false);
}
