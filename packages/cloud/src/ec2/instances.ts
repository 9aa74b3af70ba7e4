import type { Instance } from '@aws-sdk/client-ec2';
import type { FleetInstance } from '@synkti/interface';
import { TAG_SLOT } from '../constants.js';

/** EC2 marks spot instances with InstanceLifecycle `spot`; on-demand instances have none. */
export function lifecycleOf(instance: Instance): 'spot' | 'on-demand' {
  return instance.InstanceLifecycle === 'spot' ? 'spot' : 'on-demand';
}

export function tagValue(instance: Instance, key: string): string | null {
  return instance.Tags?.find((t) => t.Key === key)?.Value ?? null;
}

/** A pending or running instance as the replacement rule counts it; null for any other state. */
export function toFleetInstance(instance: Instance, agentPort?: number): FleetInstance | null {
  const state = instance.State?.Name;
  if (instance.InstanceId === undefined || (state !== 'pending' && state !== 'running')) return null;
  return {
    instanceId: instance.InstanceId,
    slot: tagValue(instance, TAG_SLOT),
    state,
    lifecycle: lifecycleOf(instance),
    token: instance.ClientToken ?? null,
    launchedAt: instance.LaunchTime?.getTime() ?? null,
    zone: instance.Placement?.AvailabilityZone ?? null,
    addrs: agentPort !== undefined && instance.PrivateIpAddress !== undefined ? [`/ip4/${instance.PrivateIpAddress}/tcp/${agentPort}`] : [],
  };
}
