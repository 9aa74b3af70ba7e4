import type { ProviderInstance } from '@synkti/fleet';
import type { Clock, CloudProvider, FleetInstance, Logger, Rng } from '@synkti/interface';

/** The launcher and its backup list the fleet this often: the rule's external witness stays fresh where it acts. */
export const PROVIDER_REFRESH_MS = 10_000;
/**
 * While this agent is the launcher and a deficit waits on the provider (its listing still shows
 * the lost instance), the listing is refreshed this often instead: a launch then follows the
 * loss within about a second, and only the launcher pays for the extra calls.
 */
export const PROVIDER_FAST_REFRESH_MS = 1_000;
/**
 * Every other agent lists this often on average (jittered ±50 %): EC2's non-mutating request
 * bucket (100, refilled 20/s) is shared by the whole account, and 200 agents listing every 10 s
 * would drain it alone. Their listing only feeds slot memory until they become the launcher,
 * which lists at once before it acts.
 */
export const PROVIDER_IDLE_REFRESH_MS = 60_000;
/** A listing that has not answered by then has failed. */
const LIST_TIMEOUT_MS = 10_000;

/** What this agent knows of the provider's listing. */
export interface ProviderSnapshot {
  /** Pending + running instances of the fleet; null when unknown. */
  count: number | null;
  instances: ProviderInstance[] | null;
  /** When the listing these instances come from was taken (for a stale one: the last good listing). */
  listedAt: number | null;
  /** True when the last listing failed and this is the last good one, partly re-checked zone by zone. */
  stale: boolean;
}

export type ListingRole = 'waiting' | 'launcher' | 'backup' | 'other';

export interface ProviderViewInit {
  provider: CloudProvider;
  fleet: string;
  clock: Clock;
  logger: Logger;
  rng: Rng;
  /** A last good listing older than this no longer gates launches (the rule then needs a quorum). */
  launchTimeoutMs: number;
}

/**
 * The replacer's view of the provider's listing: when to list (by role), and what to plan on
 * when a listing fails. EC2 fails unfiltered DescribeInstances while an Availability Zone is
 * impaired — exactly when the double-launch gate matters most — so a failure keeps the last
 * good listing as the gate until the launch timeout, re-checked by instance ID zone by zone
 * (EC2 still answers for unaffected zones); a zone that does not answer keeps its old entries.
 */
export class ProviderView {
  readonly #init: ProviderViewInit;
  readonly #log: Logger;
  #snapshot: ProviderSnapshot | undefined;
  #checkedAt = Number.NEGATIVE_INFINITY;
  #idleDelayMs: number;
  #lastGood: { instances: FleetInstance[]; at: number } | undefined;
  #refreshing: Promise<ProviderSnapshot> | undefined;

  constructor(init: ProviderViewInit) {
    this.#init = init;
    this.#log = init.logger.child({ component: 'provider-view' });
    this.#idleDelayMs = this.#jittered();
  }

  get snapshot(): ProviderSnapshot | undefined {
    return this.#snapshot;
  }

  /** Whether a listing is due for an agent in this role. */
  due(now: number, role: ListingRole): boolean {
    const every = role === 'waiting' ? PROVIDER_FAST_REFRESH_MS : role === 'other' ? this.#idleDelayMs : PROVIDER_REFRESH_MS;
    return now - this.#checkedAt >= every;
  }

  /** The next `due` says yes (after this agent launched or terminated something). */
  invalidate(): void {
    this.#checkedAt = Number.NEGATIVE_INFINITY;
  }

  /** Lists the fleet (one call at a time; concurrent callers share it). */
  refresh(): Promise<ProviderSnapshot> {
    this.#refreshing ??= this.#list().finally(() => {
      this.#refreshing = undefined;
    });
    return this.#refreshing;
  }

  async #list(): Promise<ProviderSnapshot> {
    const { provider, fleet, clock } = this.#init;
    try {
      const instances = await provider.listInstances(fleet, AbortSignal.timeout(LIST_TIMEOUT_MS));
      const at = clock.now();
      this.#lastGood = { instances, at };
      if (this.#snapshot?.stale === true) this.#log.info({}, 'the provider lists the fleet again');
      this.#snapshot = { count: instances.length, instances: instances.map(toProviderInstance), listedAt: at, stale: false };
    } catch (err) {
      this.#snapshot = await this.#fallback(err);
    } finally {
      this.#checkedAt = clock.now();
      this.#idleDelayMs = this.#jittered();
    }
    return this.#snapshot;
  }

  async #fallback(err: unknown): Promise<ProviderSnapshot> {
    const last = this.#lastGood;
    const now = this.#init.clock.now();
    if (last === undefined || now - last.at >= this.#init.launchTimeoutMs) {
      this.#log.warn({ err }, 'cannot list the fleet at the provider, and no recent listing to fall back on: acting on quorum alone');
      return { count: null, instances: null, listedAt: null, stale: true };
    }
    const instances = await this.#recheckByZone(last.instances);
    this.#log.warn({ err, ageMs: now - last.at, instances: instances.length }, 'cannot list the fleet at the provider: planning on the last good listing, re-checked zone by zone');
    return { count: instances.length, instances: instances.map(toProviderInstance), listedAt: last.at, stale: true };
  }

  /** The last good listing with each zone that still answers by instance ID brought up to date. */
  async #recheckByZone(last: FleetInstance[]): Promise<FleetInstance[]> {
    const find = this.#init.provider.findInstances?.bind(this.#init.provider);
    if (find === undefined) return last;
    const byZone = new Map<string, FleetInstance[]>();
    for (const i of last) {
      const zone = i.zone ?? '';
      byZone.set(zone, [...(byZone.get(zone) ?? []), i]);
    }
    const out: FleetInstance[] = [];
    for (const [zone, instances] of byZone) {
      try {
        out.push(...(await find({ instanceIds: instances.map((i) => i.instanceId) }, AbortSignal.timeout(LIST_TIMEOUT_MS))));
      } catch (err) {
        // This zone does not answer: what it had stays, so no slot in it reads as free.
        this.#log.debug({ err, zone }, 'zone does not answer by instance ID; keeping its last listing');
        out.push(...instances);
      }
    }
    return out;
  }

  #jittered(): number {
    return Math.round(PROVIDER_IDLE_REFRESH_MS * (0.5 + this.#init.rng()));
  }
}

function toProviderInstance(i: FleetInstance): ProviderInstance {
  return { instanceId: i.instanceId, slot: i.slot, state: i.state, token: i.token, launchedAt: i.launchedAt };
}
