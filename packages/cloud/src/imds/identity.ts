import { ImdsError } from '../errors.js';
import { type ImdsClient, type ImdsClientInit, imdsClient } from './client.js';

/** What the agent gossips as its provider fields, read from IMDS. */
export interface InstanceIdentity {
  instanceId: string;
  instanceType: string;
  availabilityZone: string;
  lifecycle: 'spot' | 'on-demand';
}

const PATHS = {
  instanceId: 'latest/meta-data/instance-id',
  instanceType: 'latest/meta-data/instance-type',
  availabilityZone: 'latest/meta-data/placement/availability-zone',
  lifecycle: 'latest/meta-data/instance-life-cycle',
} as const;

/** Reads the instance's identity from IMDSv2; throws ImdsError (code IMDS_FAILED) when a field is missing. */
export async function instanceIdentity(
  init: ImdsClientInit = {},
  components: { client?: ImdsClient } = {},
  signal?: AbortSignal,
): Promise<InstanceIdentity> {
  const client = components.client ?? imdsClient(init);
  const read = async (path: string): Promise<string> => {
    const value = (await client.get(path, signal))?.trim();
    if (value === undefined || value.length === 0) throw new ImdsError(`IMDS has no ${path}`, 404);
    return value;
  };
  // One at a time: the first read fetches the token the others reuse.
  const instanceId = await read(PATHS.instanceId);
  const instanceType = await read(PATHS.instanceType);
  const availabilityZone = await read(PATHS.availabilityZone);
  // `spot`, `on-demand` or `scheduled` (a scheduled instance is paid like on-demand).
  const lifecycle = (await read(PATHS.lifecycle)) === 'spot' ? 'spot' : 'on-demand';
  return { instanceId, instanceType, availabilityZone, lifecycle };
}
