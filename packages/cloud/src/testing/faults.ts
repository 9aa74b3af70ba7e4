/**
 * EC2's error replies as the fake sends them. Statuses follow "Error codes for the Amazon EC2
 * API" (errors-overview): the codes it lists as server errors answer 5xx, every client error
 * 400. Clients classify by status as well as by code (the SDK retries 5xx and throttling; our
 * provider must see InsufficientInstanceCapacity as 500), so a wrong status hides real bugs.
 */

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

/** The AWS account the fake plays: EC2 names it in ownerId and in throttling messages. */
export const OWNER_ID = '123456789012';

/**
 * The HTTP status EC2 answers each code with; codes not listed answer 400. Server errors per
 * errors-overview; RequestLimitExceeded and Unavailable arrive as 503 (503 "Request limit
 * exceeded." is what SDK users report from EC2), the capacity server errors as 500.
 */
export const FAULT_STATUS: Readonly<Record<string, number>> = {
  // Server errors (errors-overview, "Server error codes").
  InsufficientAddressCapacity: 500,
  InsufficientCapacity: 500,
  InsufficientHostCapacity: 500,
  InsufficientInstanceCapacity: 500,
  InsufficientReservedInstanceCapacity: 500,
  InsufficientVolumeCapacity: 500,
  InternalError: 500,
  InternalFailure: 500,
  RequestLimitExceeded: 503,
  ServiceUnavailable: 503,
  Unavailable: 503,
  // Client errors the fake emits or capacity rules inject: listed so the table says so.
  IdempotentParameterMismatch: 400,
  InstanceLimitExceeded: 400,
  InsufficientFreeAddressesInSubnet: 400,
  'InvalidInstanceID.NotFound': 400,
  InvalidPaginationToken: 400,
  MaxSpotInstanceCountExceeded: 400,
  SpotMaxPriceTooLow: 400,
  TagLimitExceeded: 400,
  UnfulfillableCapacity: 400,
  Unsupported: 400,
  VcpuLimitExceeded: 400,
};

export function faultStatus(code: string): number {
  return FAULT_STATUS[code] ?? 400;
}

/** Every code a capacity rule can produce (`failCapacity`), each with EC2's status above. */
export const CAPACITY_CODES = [
  'InsufficientInstanceCapacity',
  'InsufficientCapacity',
  'MaxSpotInstanceCountExceeded',
  'SpotMaxPriceTooLow',
  'Unsupported',
  'InsufficientFreeAddressesInSubnet',
  'VcpuLimitExceeded',
  'InsufficientVolumeCapacity',
  'InstanceLimitExceeded',
  'InsufficientHostCapacity',
  'InsufficientReservedInstanceCapacity',
  'UnfulfillableCapacity',
] as const;

/** A message in EC2's words for the codes whose wording clients (and operators) know. */
export function capacityMessage(code: string, instanceType: string, zone: string): string {
  switch (code) {
    case 'InsufficientInstanceCapacity':
      return `We currently do not have sufficient ${instanceType} capacity in the Availability Zone you requested (${zone}).`;
    case 'MaxSpotInstanceCountExceeded':
      return 'Max spot instance count exceeded';
    case 'VcpuLimitExceeded':
      return 'You have requested more vCPU capacity than your current vCPU limit of 0 allows for the instance bucket that the specified instance type belongs to.';
    case 'InsufficientFreeAddressesInSubnet':
      return 'The specified subnet does not contain enough free private IP addresses to fulfill your request.';
    case 'Unsupported':
      return `Your requested instance type (${instanceType}) is not supported in your requested Availability Zone (${zone}).`;
    default:
      return `${code}: cannot launch ${instanceType} in ${zone} now.`;
  }
}
