/**
 * DescribeInstances as EC2 answers it, including the parts clients get wrong: eventual
 * consistency (a just-launched instance is not there yet), pages that are empty yet carry a
 * NextToken, and an Availability Zone outage failing every call that does not name only
 * instances in healthy zones.
 */
import type { FakeInstance } from './fake-ec2-state.js';
import { Ec2Fault } from './faults.js';
import { type QueryObject, list, obj, str } from './query.js';
import type { XmlNode } from './xml.js';

export const STATE_CODES: Record<FakeInstance['state'], number> = {
  pending: 0,
  running: 16,
  'shutting-down': 32,
  terminated: 48,
  stopping: 64,
  stopped: 80,
};

const KNOWN_FILTERS = new Set([
  'availability-zone',
  'client-token',
  'instance-id',
  'instance-lifecycle',
  'instance-state-name',
  'instance-type',
  'subnet-id',
  'tag-key',
]);

/** What one DescribeInstances sees of the fake's state. */
export interface DescribeView {
  instances: Iterable<FakeInstance>;
  now: number;
  impairedZones: ReadonlySet<string>;
  /** Empty pages, each with a NextToken, served at every offset of a paginated listing. */
  emptyPages: number;
  ownerId: string;
}

interface Filter {
  name: string;
  values: string[];
}

/** Eventual consistency: a launch is not visible to other calls until its lag has passed. */
export function isVisible(instance: FakeInstance, now: number): boolean {
  return instance.visibleAt <= now;
}

export function notFound(ids: string[]): Ec2Fault {
  const message = ids.length === 1 ? `The instance ID '${ids[0]}' does not exist` : `The instance IDs '${ids.join(', ')}' do not exist`;
  return new Ec2Fault(400, 'InvalidInstanceID.NotFound', message);
}

/** Zone outage: the DescribeInstances reference says such calls fail; Unavailable is EC2's code for "can't handle the request". */
function zoneOutage(zone: string | null): Ec2Fault {
  const where = zone === null ? 'an Availability Zone of this Region' : `Availability Zone ${zone}`;
  return new Ec2Fault(503, 'Unavailable', `The service is unavailable: ${where} is impaired. Retry with instance IDs in unaffected zones.`);
}

export function describeInstances(params: QueryObject, view: DescribeView): Record<string, XmlNode> {
  const filters: Filter[] = list(params, 'Filter').map((f) => ({
    name: str(obj(f), 'Name') ?? '',
    values: list(obj(f), 'Value').filter((v): v is string => typeof v === 'string'),
  }));
  for (const f of filters) {
    if (!KNOWN_FILTERS.has(f.name) && !f.name.startsWith('tag:')) {
      throw new Ec2Fault(400, 'InvalidParameterValue', `The filter '${f.name}' is invalid`);
    }
  }
  const ids = list(params, 'InstanceId').filter((v): v is string => typeof v === 'string');
  const maxResults = str(params, 'MaxResults');
  if (ids.length > 0 && maxResults !== undefined) {
    throw new Ec2Fault(400, 'InvalidParameterCombination', 'The parameter instancesSet cannot be used with the parameter maxResults');
  }
  if (ids.length === 0 && view.impairedZones.size > 0) throw zoneOutage(null);

  const visible = new Map<string, FakeInstance>();
  for (const i of view.instances) if (isVisible(i, view.now)) visible.set(i.instanceId, i);
  const missing = ids.filter((id) => !visible.has(id));
  if (missing.length > 0) throw notFound(missing);
  const hit = ids.map((id) => visible.get(id)!).find((i) => view.impairedZones.has(i.availabilityZone));
  if (hit !== undefined) throw zoneOutage(hit.availabilityZone);

  const matching = [...visible.values()].filter(
    (i) => (ids.length === 0 || ids.includes(i.instanceId)) && filters.every((f) => matchesFilter(i, f)),
  );
  if (maxResults === undefined) return { reservationSet: reservations(matching, view.ownerId), nextToken: null };
  const pageSize = Number(maxResults);
  if (!(Number.isInteger(pageSize) && pageSize >= 5 && pageSize <= 1000)) {
    throw new Ec2Fault(400, 'InvalidParameterValue', 'MaxResults must be between 5 and 1000');
  }
  const at = readToken(str(params, 'NextToken'));
  // EC2 may answer fewer than MaxResults, even none, and still say there is more.
  if (at.empties < view.emptyPages) return { reservationSet: [], nextToken: writeToken({ offset: at.offset, empties: at.empties + 1 }) };
  const page = matching.slice(at.offset, at.offset + pageSize);
  const end = at.offset + page.length;
  // With empty pages on, the last page also carries a token: a client may only stop on a page without one.
  const more = end < matching.length || (view.emptyPages > 0 && page.length > 0);
  return { reservationSet: reservations(page, view.ownerId), nextToken: more ? writeToken({ offset: end, empties: 0 }) : null };
}

interface Cursor {
  offset: number;
  empties: number;
}

function writeToken(cursor: Cursor): string {
  return Buffer.from(JSON.stringify([cursor.offset, cursor.empties])).toString('base64');
}

function readToken(token: string | undefined): Cursor {
  if (token === undefined) return { offset: 0, empties: 0 };
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(token, 'base64').toString('utf8'));
  } catch {
    parsed = null;
  }
  const [offset, empties] = Array.isArray(parsed) ? (parsed as unknown[]) : [];
  if (!Number.isInteger(offset) || !Number.isInteger(empties) || (offset as number) < 0 || (empties as number) < 0) {
    throw new Ec2Fault(400, 'InvalidPaginationToken', 'The specified pagination token is not valid or is expired.');
  }
  return { offset: offset as number, empties: empties as number };
}

function reservations(instances: FakeInstance[], ownerId: string): XmlNode[] {
  const out: { reservationId: string; ownerId: string; groupSet: XmlNode[]; instancesSet: XmlNode[] }[] = [];
  for (const instance of instances) {
    const last = out.at(-1);
    if (last?.reservationId === instance.reservationId) last.instancesSet.push(instanceXml(instance));
    else out.push({ reservationId: instance.reservationId, ownerId, groupSet: [], instancesSet: [instanceXml(instance)] });
  }
  return out;
}

function matchesFilter(instance: FakeInstance, filter: Filter): boolean {
  if (filter.name === 'tag-key') return filter.values.some((v) => instance.tags.has(v));
  const value = filterValue(instance, filter.name);
  return value !== undefined && filter.values.includes(value);
}

function filterValue(instance: FakeInstance, name: string): string | undefined {
  if (name.startsWith('tag:')) return instance.tags.get(name.slice(4));
  switch (name) {
    case 'availability-zone':
      return instance.availabilityZone;
    case 'client-token':
      return instance.clientToken ?? undefined;
    case 'instance-id':
      return instance.instanceId;
    case 'instance-lifecycle':
      return instance.lifecycle === 'spot' ? 'spot' : undefined;
    case 'instance-state-name':
      return instance.state;
    case 'instance-type':
      return instance.instanceType;
    case 'subnet-id':
      return instance.subnetId;
    default:
      return undefined;
  }
}

export function instanceXml(i: FakeInstance): XmlNode {
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
