import type { RunInstancesCommandInput, Tag } from '@aws-sdk/client-ec2';
import type { LaunchRequest } from '@synkti/interface';
import { MAX_CLIENT_TOKEN_CHARS, MAX_TAG_VALUE_CHARS, TAG_FLEET, TAG_REPLACES, TAG_SLOT, TAG_TOKEN } from '../constants.js';
import { BadLaunchRequestError } from '../errors.js';
import type { Ec2ProviderConfig } from './config.js';

/** Printable ASCII without spaces: what EC2 accepts as a ClientToken. */
const CLIENT_TOKEN = /^[\x21-\x7e]+$/;

/** Refuses a request EC2 would reject anyway, before any call (the fault is ours, not the cloud's). */
export function validateLaunchRequest(request: LaunchRequest): void {
  const { token, fleet, slot, replaces, placement } = request;
  if (token.length === 0 || token.length > MAX_CLIENT_TOKEN_CHARS || !CLIENT_TOKEN.test(token)) {
    throw new BadLaunchRequestError(`token must be 1..${MAX_CLIENT_TOKEN_CHARS} printable ASCII characters: ${JSON.stringify(token)}`);
  }
  for (const [name, value] of [['fleet', fleet], ['slot', slot], ['replaces', replaces ?? 'x']] as const) {
    if (value.length === 0 || value.length > MAX_TAG_VALUE_CHARS) {
      throw new BadLaunchRequestError(`${name} must be 1..${MAX_TAG_VALUE_CHARS} characters`);
    }
  }
  if (placement.instanceType.length === 0 || placement.subnet.length === 0) {
    throw new BadLaunchRequestError('placement needs an instance type and a subnet');
  }
}

/** The tags an instance (and its volumes) carry: fleet, slot, the replaced instance, the token. */
export function launchTags(request: LaunchRequest): Tag[] {
  const tags: Tag[] = [
    { Key: TAG_FLEET, Value: request.fleet },
    { Key: TAG_SLOT, Value: request.slot },
  ];
  if (request.replaces !== null) tags.push({ Key: TAG_REPLACES, Value: request.replaces });
  tags.push({ Key: TAG_TOKEN, Value: request.token });
  return tags;
}

/**
 * The RunInstances input of one launch attempt. Everything but the placement (AMI, security
 * groups, instance profile, user data, block devices) comes from the launch template, so the
 * parameters of a token never change between peers or retries (EC2 rejects a token reused
 * with other parameters as IdempotentParameterMismatch).
 */
export function runInstancesInput(request: LaunchRequest, config: Ec2ProviderConfig): RunInstancesCommandInput {
  const template = config.launchTemplate;
  const tags = launchTags(request);
  return {
    LaunchTemplate:
      template.id !== undefined
        ? { LaunchTemplateId: template.id, Version: template.version }
        : { LaunchTemplateName: template.name, Version: template.version },
    MinCount: 1,
    MaxCount: 1,
    InstanceType: request.placement.instanceType as RunInstancesCommandInput['InstanceType'],
    SubnetId: request.placement.subnet,
    ...(request.placement.onDemand === true
      ? {}
      : {
          InstanceMarketOptions: {
            MarketType: 'spot',
            SpotOptions: { SpotInstanceType: 'one-time', InstanceInterruptionBehavior: 'terminate' },
          },
        }),
    ClientToken: request.token,
    TagSpecifications: [
      { ResourceType: 'instance', Tags: tags },
      { ResourceType: 'volume', Tags: tags },
    ],
  };
}
