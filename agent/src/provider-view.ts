import type { ProviderInstance, ProviderSnapshot } from '@synkti/fleet';
import type { Clock, CloudProvider, FleetInstance, Logger } from '@synkti/interface';

/** A listing that has not answered by then has failed. */
const LIST_TIMEOUT_MS = 10_000;

export interface ProviderViewInit {
  provider: CloudProvider;
  fleet: string;
  clock: Clock;
  logger: Logger;
  /** A last good listing older than this no longer gates launches (the rule then needs a quorum). */
  launchTimeoutMs: number;
}

/**
 * The replacer's listing of the provider (when to list is the fleet core's call): what to plan
 * on when a listing fails. EC2 fails unfiltered DescribeInstances while an Availability Zone is
 * impaired — exactly when the double-launch gate matters most — so a failure keeps the last
 * good listing as the gate until the launch timeout, re-checked by instance ID zone by zone
 * (EC2 still answers for unaffected zones); a zone that does not answer keeps its old entries.
 */
export class ProviderView {
  readonly #init: ProviderViewInit;
  readonly #log: Logger;
  #snapshot: ProviderSnapshot | undefined;
  #lastGood: { instances: FleetInstance[]; at: number } | undefined;
  #refreshing: Promise<ProviderSnapshot> | undefined;

  constructor(init: ProviderViewInit) {
    this.#init = init;
    this.#log = init.logger.child({ component: 'provider-view' });
  }

  get snapshot(): ProviderSnapshot | undefined {
    return this.#snapshot;
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
}

function toProviderInstance(i: FleetInstance): ProviderInstance {
  return { instanceId: i.instanceId, slot: i.slot, state: i.state, token: i.token, launchedAt: i.launchedAt };
}
