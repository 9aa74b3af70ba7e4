import type { Placement } from '@synkti/fleet';

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
}

export type RunResult =
  | { ok: true; instance: SimInstance; fresh: boolean }
  | { ok: false; code: 'InsufficientInstanceCapacity' | 'IdempotentParameterMismatch' };

export interface ProviderStats {
  /** Fresh instances created (every token creates at most one). */
  instances: number;
  /** Requests answered with an existing instance for a repeated token. */
  idempotentHits: number;
  /** A slot launched again by a different token while an earlier launch for it was still pending: must stay 0. */
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
  readonly #pendingBySlot = new Map<string, Set<SimInstance>>();
  readonly #liveBySlot = new Map<string, number>();
  #slotsCache: string[] | null = null;

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
    const pending = this.#pendingBySlot.get(slot) ?? new Set<SimInstance>();
    for (const other of pending) if (other.token !== token) this.stats.doubleLaunches++;
    const instance: SimInstance = {
      id: `i-${(this.stats.instances + 1).toString(16).padStart(8, '0')}`,
      token,
      slot,
      placement,
      market,
      launchedAt: now,
      endedAt: null,
      joined: false,
      side,
    };
    this.stats.instances++;
    this.#byToken.set(token, instance);
    this.#live.add(instance);
    this.#liveBySlot.set(slot, (this.#liveBySlot.get(slot) ?? 0) + 1);
    this.#slotsCache = null;
    pending.add(instance);
    this.#pendingBySlot.set(slot, pending);
    return { ok: true, instance, fresh: true };
  }

  joined(instance: SimInstance): void {
    instance.joined = true;
    this.#pendingBySlot.get(instance.slot)?.delete(instance);
  }

  terminate(instance: SimInstance, now: number): void {
    if (instance.endedAt !== null) return;
    instance.endedAt = now;
    this.#live.delete(instance);
    const left = (this.#liveBySlot.get(instance.slot) ?? 1) - 1;
    if (left === 0) this.#liveBySlot.delete(instance.slot);
    else this.#liveBySlot.set(instance.slot, left);
    this.#slotsCache = null;
    this.#pendingBySlot.get(instance.slot)?.delete(instance);
  }

  /** Pending + running instances: what DescribeInstances by fleet tag reports. */
  count(): number {
    return this.#live.size;
  }

  slots(): string[] {
    this.#slotsCache ??= [...this.#liveBySlot.keys()].sort();
    return this.#slotsCache;
  }

  all(): IterableIterator<SimInstance> {
    return this.#byToken.values();
  }
}

function samePlacement(a: Placement, b: Placement): boolean {
  return a.instanceType === b.instanceType && a.subnet === b.subnet && (a.onDemand ?? false) === (b.onDemand ?? false);
}
