import { type DescribeView, STATE_CODES, describeInstances, instanceXml, isVisible, notFound } from './describe.js';
import { Ec2Fault, OWNER_ID, capacityMessage, faultStatus } from './faults.js';
import { type QueryObject, type QueryValue, fingerprint, list, obj, str } from './query.js';
import { describeSubnets, FakeSpotPrices } from './spot-prices.js';
import { type XmlNode, ec2Response } from './xml.js';

export { Ec2Fault, FAULT_STATUS } from './faults.js';

/** The fake's record of one instance. */
export interface FakeInstance {
  instanceId: string;
  reservationId: string;
  instanceType: string;
  subnetId: string;
  availabilityZone: string;
  lifecycle: 'spot' | 'on-demand';
  state: 'pending' | 'running' | 'stopping' | 'stopped' | 'shutting-down' | 'terminated';
  clientToken: string | null;
  launchTime: number;
  /** Epoch ms from which other calls see the instance (launchTime + the fake's visibility lag). */
  visibleAt: number;
  tags: Map<string, string>;
  volumeId: string;
  /** 10.0.x.y by default; tests may point it at a reachable address. */
  privateIpAddress: string;
}

export interface FakeVolume {
  volumeId: string;
  instanceId: string;
  tags: Map<string, string>;
}

/** A capacity failure for every RunInstances matching the rule (absent fields match anything). */
export interface CapacityRule {
  instanceType?: string;
  subnet?: string;
  availabilityZone?: string;
  market?: 'spot' | 'on-demand';
  /** Default InsufficientInstanceCapacity; the reply carries EC2's status for the code (FAULT_STATUS). */
  code?: string;
}

export interface FakeEc2StateOptions {
  region: string;
  now: () => number;
  /** Subnet → AZ; subnets not listed get `<region>a`. */
  subnets?: Record<string, string>;
  /** For this long after RunInstances the instance is invisible to Describe/Terminate/CreateTags (eventual consistency). Default 0. */
  visibilityLagMs?: number;
  /** Empty pages (with a NextToken) a paginated DescribeInstances serves before each page. Default 0. */
  emptyPages?: number;
}

/** EC2 caps user tags at 50 per resource (tag restrictions). */
export const MAX_TAGS_PER_RESOURCE = 50;
/** Instances the fake account may hold; past it RunInstances answers InstanceLimitExceeded, as a quota would. */
export const MAX_INSTANCES = 10_000;
/** Capacity rules kept: a test injects a handful. */
export const MAX_CAPACITY_RULES = 1_000;
/** Impaired zones kept: a Region has a few. */
export const MAX_IMPAIRED_ZONES = 64;

/** The fake's state machine: one method per action, each returning the response body or throwing Ec2Fault. */
export class FakeEc2State {
  readonly instances = new Map<string, FakeInstance>();
  readonly volumes = new Map<string, FakeVolume>();
  readonly capacityRules: CapacityRule[] = [];
  readonly impairedZones = new Set<string>();
  readonly spotPrices = new FakeSpotPrices();
  /** Idempotency records keyed by (zone or '' for Regional idempotency, token): one per launch, so bounded by MAX_INSTANCES. */
  readonly #tokens = new Map<string, { fingerprint: string; instanceId: string }>();
  #next = 1;

  constructor(readonly options: FakeEc2StateOptions) {}

  id(prefix: string): string {
    return `${prefix}-${(this.#next++).toString(16).padStart(17, '0')}`;
  }

  handle(action: string, params: QueryObject, requestId: string): string {
    switch (action) {
      case 'RunInstances':
        return ec2Response(action, { requestId, ...this.runInstances(params) });
      case 'DescribeInstances':
        return ec2Response(action, { requestId, ...describeInstances(params, this.#view()) });
      case 'TerminateInstances':
        return ec2Response(action, { requestId, instancesSet: this.terminateInstances(params) });
      case 'CreateTags':
        this.createTags(params);
        return ec2Response(action, { requestId, return: true });
      case 'DescribeSpotPriceHistory':
        return ec2Response(action, { requestId, ...this.spotPrices.describe(params, this.options.now()) });
      case 'DescribeSubnets':
        return ec2Response(action, { requestId, ...describeSubnets(params, (id) => this.zoneOf(id)) });
      default:
        throw new Ec2Fault(400, 'InvalidAction', `The action ${action} is not valid for this web service.`);
    }
  }

  zoneOf(subnetId: string): string {
    return this.options.subnets?.[subnetId] ?? `${this.options.region}a`;
  }

  impairZone(zone: string): void {
    if (!this.impairedZones.has(zone) && this.impairedZones.size >= MAX_IMPAIRED_ZONES) throw new Error(`more than ${MAX_IMPAIRED_ZONES} impaired zones`);
    this.impairedZones.add(zone);
  }

  addCapacityRule(rule: CapacityRule): void {
    if (this.capacityRules.length >= MAX_CAPACITY_RULES) throw new Error(`more than ${MAX_CAPACITY_RULES} capacity rules`);
    this.capacityRules.push(rule);
  }

  runInstances(params: QueryObject): Record<string, XmlNode> {
    const clientToken = str(params, 'ClientToken') ?? null;
    const subnetParam = str(params, 'SubnetId');
    const zoneParam = str(obj(params['Placement']), 'AvailabilityZone');
    if (subnetParam !== undefined && zoneParam !== undefined && this.zoneOf(subnetParam) !== zoneParam) {
      throw new Ec2Fault(400, 'InvalidParameterValue', `Value (${zoneParam}) for parameter availabilityZone is invalid. Subnet '${subnetParam}' is in the availability zone ${this.zoneOf(subnetParam)}`);
    }
    const subnetId = subnetParam ?? 'subnet-default';
    const zone = zoneParam ?? this.zoneOf(subnetId);
    // "Ensuring idempotency": a subnet or Placement.AvailabilityZone makes the token zonal (the same
    // token launches again in another zone), neither makes it Regional; zone fields are not compared.
    const scope = subnetParam !== undefined || zoneParam !== undefined ? zone : '';
    const print = fingerprint(launchParameters(params));
    if (clientToken !== null) {
      const seen = this.#tokens.get(`${scope}\u0000${clientToken}`);
      if (seen !== undefined) {
        if (seen.fingerprint !== print) {
          throw new Ec2Fault(400, 'IdempotentParameterMismatch', `The client token ${clientToken} was used with other parameters.`);
        }
        const instance = this.instances.get(seen.instanceId)!;
        return this.#reservation(instance.reservationId, [instance]);
      }
    }
    if (str(params, 'MinCount') !== '1' || str(params, 'MaxCount') !== '1') {
      throw new Ec2Fault(400, 'InvalidParameterValue', 'the fake launches exactly one instance (MinCount=MaxCount=1)');
    }
    if (obj(params['LaunchTemplate']) === undefined && str(params, 'ImageId') === undefined) {
      throw new Ec2Fault(400, 'MissingParameter', 'The request must contain the parameter ImageId');
    }
    const instanceType = str(params, 'InstanceType') ?? 'm5.large';
    const market = str(obj(params['InstanceMarketOptions']), 'MarketType') === 'spot' ? 'spot' : 'on-demand';
    this.#checkCapacity({ instanceType, subnet: subnetId, availabilityZone: zone, market }, scope === '' && clientToken !== null);
    const instanceTags = this.#specTags(params, 'instance');
    const volumeTags = this.#specTags(params, 'volume');
    const now = this.options.now();
    const reservationId = this.id('r');
    const instance: FakeInstance = {
      instanceId: this.id('i'),
      reservationId,
      instanceType,
      subnetId,
      availabilityZone: zone,
      lifecycle: market,
      state: 'pending',
      clientToken,
      launchTime: now,
      visibleAt: now + (this.options.visibilityLagMs ?? 0),
      tags: instanceTags,
      volumeId: this.id('vol'),
      privateIpAddress: `10.0.${Math.floor(this.instances.size / 250)}.${(this.instances.size % 250) + 4}`,
    };
    this.instances.set(instance.instanceId, instance);
    this.volumes.set(instance.volumeId, { volumeId: instance.volumeId, instanceId: instance.instanceId, tags: volumeTags });
    if (clientToken !== null) this.#tokens.set(`${scope}\u0000${clientToken}`, { fingerprint: print, instanceId: instance.instanceId });
    return this.#reservation(reservationId, [instance]);
  }

  terminateInstances(params: QueryObject): XmlNode[] {
    const ids = stringsOf(list(params, 'InstanceId'));
    if (ids.length === 0) throw new Ec2Fault(400, 'MissingParameter', 'The request must contain the parameter InstanceId');
    // An instance still propagating reads as absent here too, and is NOT terminated (eventual-consistency page).
    const missing = ids.filter((id) => !this.#visible(id));
    if (missing.length > 0) throw notFound(missing);
    return ids.map((id) => {
      const instance = this.instances.get(id)!;
      const previous = instance.state;
      instance.state = 'terminated';
      const current = previous === 'terminated' ? 'terminated' : 'shutting-down';
      return {
        instanceId: id,
        currentState: { code: STATE_CODES[current], name: current },
        previousState: { code: STATE_CODES[previous], name: previous },
      };
    });
  }

  createTags(params: QueryObject): void {
    const ids = stringsOf(list(params, 'ResourceId'));
    const tags = readTags(list(params, 'Tag'));
    const targets = ids.map((id) => {
      const target = this.#visible(id) ? this.instances.get(id) : this.volumes.get(id);
      if (target !== undefined) return target;
      if (id.startsWith('i-')) throw notFound([id]);
      if (id.startsWith('vol-')) throw new Ec2Fault(400, 'InvalidVolume.NotFound', `The volume '${id}' does not exist.`);
      throw new Ec2Fault(400, 'InvalidID', `The ID '${id}' is not valid`);
    });
    for (const target of targets) {
      const added = [...tags.keys()].filter((k) => !target.tags.has(k)).length;
      if (target.tags.size + added > MAX_TAGS_PER_RESOURCE) {
        throw new Ec2Fault(400, 'TagLimitExceeded', `The maximum number of tags (${MAX_TAGS_PER_RESOURCE}) per resource would be exceeded.`);
      }
    }
    for (const target of targets) for (const [k, v] of tags) target.tags.set(k, v);
  }

  #visible(instanceId: string): boolean {
    const instance = this.instances.get(instanceId);
    return instance !== undefined && isVisible(instance, this.options.now());
  }

  #view(): DescribeView {
    return {
      instances: this.instances.values(),
      now: this.options.now(),
      impairedZones: this.impairedZones,
      emptyPages: this.options.emptyPages ?? 0,
      ownerId: OWNER_ID,
    };
  }

  #checkCapacity(launch: Required<Omit<CapacityRule, 'code'>>, regional: boolean): void {
    if (regional && this.impairedZones.size > 0) {
      // "Ensuring idempotency", tip: Regional-idempotency launches could fail while any zone is down.
      throw new Ec2Fault(503, 'Unavailable', 'The service is unavailable: an Availability Zone of this Region is impaired; name a subnet or zone.');
    }
    let code: string | undefined;
    // A zone that is down has no capacity: InsufficientInstanceCapacity is EC2's zonal "try another zone" answer.
    if (this.impairedZones.has(launch.availabilityZone)) code = 'InsufficientInstanceCapacity';
    else {
      const rule = this.capacityRules.find(
        (r) =>
          (r.instanceType === undefined || r.instanceType === launch.instanceType) &&
          (r.subnet === undefined || r.subnet === launch.subnet) &&
          (r.availabilityZone === undefined || r.availabilityZone === launch.availabilityZone) &&
          (r.market === undefined || r.market === launch.market),
      );
      if (rule !== undefined) code = rule.code ?? 'InsufficientInstanceCapacity';
      else if (this.instances.size >= MAX_INSTANCES) code = 'InstanceLimitExceeded';
    }
    if (code !== undefined) throw new Ec2Fault(faultStatus(code), code, capacityMessage(code, launch.instanceType, launch.availabilityZone));
  }

  #specTags(params: QueryObject, resourceType: string): Map<string, string> {
    const spec = list(params, 'TagSpecification').find((s) => str(obj(s), 'ResourceType') === resourceType);
    const tags = readTags(list(obj(spec), 'Tag'));
    if (tags.size > MAX_TAGS_PER_RESOURCE) throw new Ec2Fault(400, 'TagLimitExceeded', `More than ${MAX_TAGS_PER_RESOURCE} tags on the ${resourceType}.`);
    return tags;
  }

  #reservation(reservationId: string, instances: FakeInstance[]): Record<string, XmlNode> {
    return { reservationId, ownerId: OWNER_ID, groupSet: [], instancesSet: instances.map(instanceXml) };
  }
}

/** The parameters an idempotent retry must repeat: all but the token, the zone fields and the envelope. */
function launchParameters(params: QueryObject): QueryObject {
  const { ClientToken: _t, Action: _a, Version: _v, SubnetId: _s, Placement: placement, ...rest } = params;
  const { AvailabilityZone: _z, ...otherPlacement } = obj(placement) ?? {};
  return Object.keys(otherPlacement).length > 0 ? { ...rest, Placement: otherPlacement } : rest;
}

function stringsOf(values: QueryValue[]): string[] {
  return values.filter((v): v is string => typeof v === 'string');
}

function readTags(items: QueryValue[]): Map<string, string> {
  const tags = new Map<string, string>();
  for (const t of items) {
    const key = str(obj(t), 'Key');
    if (key !== undefined) tags.set(key, str(obj(t), 'Value') ?? '');
  }
  return tags;
}
