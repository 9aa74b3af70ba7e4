import { ImdsError } from '../errors.js';
import { type ImdsClient, type ImdsClientInit, imdsClient } from './client.js';

/** What the agent gossips as its provider fields, read from IMDS. */
export interface InstanceIdentity {
  instanceId: string;
  instanceType: string;
  availabilityZone: string;
  lifecycle: 'spot' | 'on-demand';
  /**
   * The region, as IMDS states it (`placement/region`). Never derived from the zone: a Local
   * Zone (`us-west-2-lax-1a`) or Wavelength Zone is not its region plus a letter. Absent only
   * where the metadata service has no such path (an emulated one); EC2 has had it since 2019.
   */
  region?: string;
}

const PATHS = {
  instanceId: 'latest/meta-data/instance-id',
  instanceType: 'latest/meta-data/instance-type',
  availabilityZone: 'latest/meta-data/placement/availability-zone',
  lifecycle: 'latest/meta-data/instance-life-cycle',
  region: 'latest/meta-data/placement/region',
} as const;

/** Reads the instance's identity from IMDSv2; throws ImdsError (code IMDS_FAILED) when a required field is missing. */
export async function instanceIdentity(
  init: ImdsClientInit = {},
  components: { client?: ImdsClient } = {},
  signal?: AbortSignal,
): Promise<InstanceIdentity> {
  const client = components.client ?? imdsClient(init);
  const readOptional = async (path: string): Promise<string | undefined> => {
    const value = (await client.get(path, signal))?.trim();
    return value === undefined || value.length === 0 ? undefined : value;
  };
  const read = async (path: string): Promise<string> => {
    const value = await readOptional(path);
    if (value === undefined) throw new ImdsError(`IMDS has no ${path}`, 404);
    return value;
  };
  // One at a time: the first read fetches the token the others reuse.
  const instanceId = await read(PATHS.instanceId);
  const instanceType = await read(PATHS.instanceType);
  const availabilityZone = await read(PATHS.availabilityZone);
  // `spot`, `on-demand` or `scheduled` (a scheduled instance is paid like on-demand).
  const lifecycle = (await read(PATHS.lifecycle)) === 'spot' ? 'spot' : 'on-demand';
  const region = await readOptional(PATHS.region);
  return { instanceId, instanceType, availabilityZone, lifecycle, ...(region !== undefined ? { region } : {}) };
}
