import { type XmlNode, ec2Response } from './xml.js';
import { type QueryObject, fingerprint, list, obj, str } from './query.js';

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
  market?: 'spot' | 'on-demand';
  /** Default InsufficientInstanceCapacity. */
  code?: string;
}

/** An error reply, as EC2 sends it: status + code + message. */
export class Ec2Fault extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

/** The HTTP status EC2 answers each error code with (client errors 400 otherwise). */
export const FAULT_STATUS: Readonly<Record<string, number>> = {
  InsufficientInstanceCapacity: 500,
  InsufficientCapacity: 500,
  InternalError: 500,
  RequestLimitExceeded: 503,
  Unavailable: 503,
};

const STATE_CODES: Record<FakeInstance['state'], number> = {
  pending: 0,
  running: 16,
  'shutting-down': 32,
  terminated: 48,
  stopping: 64,
  stopped: 80,
};

const KNOWN_FILTERS = new Set(['instance-state-name', 'client-token', 'instance-id', 'tag-key', 'instance-lifecycle']);
const OWNER_ID = '123456789012';

export interface FakeEc2StateOptions {
  region: string;
  now: () => number;
  /** Subnet → AZ; subnets not listed get `<region>a`. */
  subnets?: Record<string, string>;
}

/** The fake's state machine: one method per action, each returning the response body or throwing Ec2Fault. */
export class FakeEc2State {
  readonly instances = new Map<string, FakeInstance>();
  readonly volumes = new Map<string, FakeVolume>();
  readonly capacityRules: CapacityRule[] = [];
  readonly #tokens = new Map<string, { fingerprint: string; reservationId: string; instanceId: string }>();
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
        return ec2Response(action, { requestId, ...this.describeInstances(params) });
      case 'TerminateInstances':
        return ec2Response(action, { requestId, instancesSet: this.terminateInstances(params) });
      case 'CreateTags':
        this.createTags(params);
        return ec2Response(action, { requestId, return: true });
      default:
        throw new Ec2Fault(400, 'InvalidAction', `The action ${action} is not valid for this web service.`);
    }
  }

  runInstances(params: QueryObject): Record<string, XmlNode> {
    const { ClientToken: token, Action: _a, Version: _v, ...rest } = params;
    const clientToken = typeof token === 'string' ? token : null;
    if (clientToken !== null) {
      const seen = this.#tokens.get(clientToken);
      if (seen !== undefined) {
        if (seen.fingerprint !== fingerprint(rest)) {
          throw new Ec2Fault(400, 'IdempotentParameterMismatch', `The client token ${clientToken} was used with other parameters.`);
        }
        return this.#reservation(seen.reservationId, [this.instances.get(seen.instanceId)!]);
      }
    }
    if (str(params, 'MinCount') !== '1' || str(params, 'MaxCount') !== '1') {
      throw new Ec2Fault(400, 'InvalidParameterValue', 'the fake launches exactly one instance (MinCount=MaxCount=1)');
    }
    const template = obj(params['LaunchTemplate']);
    if (template === undefined && str(params, 'ImageId') === undefined) {
      throw new Ec2Fault(400, 'MissingParameter', 'The request must contain the parameter ImageId');
    }
    const instanceType = str(params, 'InstanceType') ?? 'm5.large';
    const subnetId = str(params, 'SubnetId') ?? 'subnet-default';
    const market = str(obj(params['InstanceMarketOptions']), 'MarketType') === 'spot' ? 'spot' : 'on-demand';
    const rule = this.capacityRules.find(
      (r) =>
        (r.instanceType === undefined || r.instanceType === instanceType) &&
        (r.subnet === undefined || r.subnet === subnetId) &&
        (r.market === undefined || r.market === market),
    );
    if (rule !== undefined) {
      const code = rule.code ?? 'InsufficientInstanceCapacity';
      throw new Ec2Fault(FAULT_STATUS[code] ?? 400, code, `We currently do not have sufficient ${instanceType} capacity in the subnet ${subnetId}.`);
    }
    const reservationId = this.id('r');
    const instance: FakeInstance = {
      instanceId: this.id('i'),
      reservationId,
      instanceType,
      subnetId,
      availabilityZone: this.options.subnets?.[subnetId] ?? `${this.options.region}a`,
      lifecycle: market,
      state: 'pending',
      clientToken,
      launchTime: this.options.now(),
      tags: this.#specTags(params, 'instance'),
      volumeId: this.id('vol'),
      privateIpAddress: `10.0.${Math.floor(this.instances.size / 250)}.${(this.instances.size % 250) + 4}`,
    };
    this.instances.set(instance.instanceId, instance);
    this.volumes.set(instance.volumeId, { volumeId: instance.volumeId, instanceId: instance.instanceId, tags: this.#specTags(params, 'volume') });
    if (clientToken !== null) this.#tokens.set(clientToken, { fingerprint: fingerprint(rest), reservationId, instanceId: instance.instanceId });
    return this.#reservation(reservationId, [instance]);
  }

  describeInstances(params: QueryObject): Record<string, XmlNode> {
    const filters = list(params, 'Filter').map((f) => ({
      name: str(obj(f), 'Name') ?? '',
      values: list(obj(f), 'Value').filter((v): v is string => typeof v === 'string'),
    }));
    for (const f of filters) {
      if (!KNOWN_FILTERS.has(f.name) && !f.name.startsWith('tag:')) {
        throw new Ec2Fault(400, 'InvalidParameterValue', `The filter '${f.name}' is invalid`);
      }
    }
    const ids = list(params, 'InstanceId').filter((v): v is string => typeof v === 'string');
    const matching = [...this.instances.values()].filter(
      (i) => (ids.length === 0 || ids.includes(i.instanceId)) && filters.every((f) => matchesFilter(i, f)),
    );
    const maxResults = str(params, 'MaxResults');
    const pageSize = maxResults === undefined ? Number.POSITIVE_INFINITY : Number(maxResults);
    if (maxResults !== undefined && !(pageSize >= 5 && pageSize <= 1000)) throw new Ec2Fault(400, 'InvalidParameterValue', 'MaxResults must be between 5 and 1000');
    const start = Number(Buffer.from(str(params, 'NextToken') ?? 'MA==', 'base64').toString('utf8'));
    if (!Number.isInteger(start) || start < 0) throw new Ec2Fault(400, 'InvalidParameterValue', 'invalid NextToken');
    const page = matching.slice(start, start + pageSize);
    const end = start + page.length;
    const reservations: XmlNode[] = [];
    for (const instance of page) {
      const last = reservations.at(-1) as { reservationId: string; instancesSet: XmlNode[] } | undefined;
      if (last?.reservationId === instance.reservationId) last.instancesSet.push(instanceXml(instance));
      else reservations.push({ reservationId: instance.reservationId, ownerId: OWNER_ID, groupSet: [], instancesSet: [instanceXml(instance)] });
    }
    return {
      reservationSet: reservations,
      nextToken: end < matching.length ? Buffer.from(String(end)).toString('base64') : null,
    };
  }

  terminateInstances(params: QueryObject): XmlNode[] {
    const ids = list(params, 'InstanceId').filter((v): v is string => typeof v === 'string');
    const missing = ids.filter((id) => !this.instances.has(id));
    if (missing.length > 0) throw new Ec2Fault(400, 'InvalidInstanceID.NotFound', `The instance IDs '${missing.join(', ')}' do not exist`);
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
    const ids = list(params, 'ResourceId').filter((v): v is string => typeof v === 'string');
    const tags = readTags(list(params, 'Tag'));
    for (const id of ids) {
      const target = this.instances.get(id) ?? this.volumes.get(id);
      if (target === undefined) throw new Ec2Fault(400, 'InvalidID', `The ID '${id}' is not valid`);
      for (const [k, v] of tags) target.tags.set(k, v);
    }
  }

  #specTags(params: QueryObject, resourceType: string): Map<string, string> {
    const spec = list(params, 'TagSpecification').find((s) => str(obj(s), 'ResourceType') === resourceType);
    return readTags(list(obj(spec), 'Tag'));
  }

  #reservation(reservationId: string, instances: FakeInstance[]): Record<string, XmlNode> {
    return { reservationId, ownerId: OWNER_ID, groupSet: [], instancesSet: instances.map(instanceXml) };
  }
}

function readTags(items: ReturnType<typeof list>): Map<string, string> {
  const tags = new Map<string, string>();
  for (const t of items) {
    const key = str(obj(t), 'Key');
    if (key !== undefined) tags.set(key, str(obj(t), 'Value') ?? '');
  }
  return tags;
}

function matchesFilter(instance: FakeInstance, filter: { name: string; values: string[] }): boolean {
  if (filter.name === 'tag-key') return filter.values.some((v) => instance.tags.has(v));
  const value = filterValue(instance, filter.name);
  return value !== undefined && filter.values.includes(value);
}

function filterValue(instance: FakeInstance, name: string): string | undefined {
  if (name.startsWith('tag:')) return instance.tags.get(name.slice(4));
  switch (name) {
    case 'instance-state-name':
      return instance.state;
    case 'client-token':
      return instance.clientToken ?? undefined;
    case 'instance-id':
      return instance.instanceId;
    case 'instance-lifecycle':
      return instance.lifecycle === 'spot' ? 'spot' : undefined;
    default:
      return undefined;
  }
}

function instanceXml(i: FakeInstance): XmlNode {
  return {
    instanceId: i.instanceId,
    imageId: 'ami-0fake0000000000000',
    instanceState: { code: STATE_CODES[i.state], name: i.state },
    instanceType: i.instanceType,
    launchTime: new Date(i.launchTime).toISOString(),
    placement: { availabilityZone: i.availabilityZone, tenancy: 'default' },
    subnetId: i.subnetId,
    privateIpAddress: i.privateIpAddress,
    instanceLifecycle: i.lifecycle === 'spot' ? 'spot' : null,
    clientToken: i.clientToken,
    tagSet: [...i.tags].map(([key, value]) => ({ key, value })),
  };
}
