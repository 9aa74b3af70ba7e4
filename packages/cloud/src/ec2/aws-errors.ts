import {
  type AwsErrorDetail,
  IdempotentParameterMismatchError,
  InsufficientCapacityError,
  ProviderFailedError,
} from '../errors.js';

export type AwsErrorClass = 'capacity' | 'mismatch' | 'retryable' | 'fatal';

/**
 * Every EC2 error code the provider acts on, in one table: `capacity` means "this placement
 * cannot launch now, another one may" (the walk moves on, never retrying the same placement);
 * `retryable` means throttling or a transient fault (the same call again, after a backoff);
 * `mismatch` is a token reused with other parameters. Codes not listed fall back to the HTTP
 * status (5xx retryable, 4xx fatal). Capacity codes come first because some arrive as HTTP 500.
 * Sources: the EC2 API error-code reference, and aws/karpenter-provider-aws pkg/errors.
 */
export const EC2_ERROR_TABLE: Readonly<Record<string, { class: AwsErrorClass; why: string }>> = {
  InsufficientInstanceCapacity: { class: 'capacity', why: 'no capacity of this type in this AZ (HTTP 500)' },
  InsufficientCapacity: { class: 'capacity', why: 'capacity in general (HTTP 500 on some paths)' },
  InsufficientHostCapacity: { class: 'capacity', why: 'no dedicated-host capacity here' },
  InsufficientReservedInstanceCapacity: { class: 'capacity', why: 'no reserved capacity here' },
  UnfulfillableCapacity: { class: 'capacity', why: 'this pool cannot fulfil the request now (spot)' },
  MaxSpotInstanceCountExceeded: { class: 'capacity', why: "the account's spot quota is used up: on-demand may still work" },
  SpotMaxPriceTooLow: { class: 'capacity', why: "the template's max price is under this pool's spot price" },
  Unsupported: { class: 'capacity', why: 'this instance type is not offered in this AZ' },
  InsufficientFreeAddressesInSubnet: { class: 'capacity', why: 'this subnet is out of IP addresses: another subnet may not be' },
  VcpuLimitExceeded: { class: 'capacity', why: "the vCPU quota of this type's family is used up: another family (or on-demand) may not be" },
  InstanceLimitExceeded: { class: 'capacity', why: 'the instance quota of this type is used up: another type may not be' },
  InsufficientVolumeCapacity: { class: 'capacity', why: 'no EBS capacity of this volume type in this AZ' },
  IdempotentParameterMismatch: { class: 'mismatch', why: 'the token was used with other parameters' },
  RequestLimitExceeded: { class: 'retryable', why: "EC2's throttling (HTTP 503)" },
  Throttling: { class: 'retryable', why: 'throttling' },
  ThrottlingException: { class: 'retryable', why: 'throttling' },
  RequestThrottled: { class: 'retryable', why: 'throttling' },
  ServiceUnavailable: { class: 'retryable', why: 'transient' },
  Unavailable: { class: 'retryable', why: 'transient (also an impaired AZ)' },
  InternalError: { class: 'retryable', why: 'transient' },
  InternalFailure: { class: 'retryable', why: 'transient' },
  RequestTimeout: { class: 'retryable', why: 'transient' },
};

/** The codes of one class, for logs, docs and tests. */
export function codesOf(cls: AwsErrorClass): string[] {
  return Object.entries(EC2_ERROR_TABLE).filter(([, v]) => v.class === cls).map(([code]) => code);
}

/** Codes that mean "throttled": the retry waits longer for these than for other faults. */
export const THROTTLING_CODES: ReadonlySet<string> = new Set(['RequestLimitExceeded', 'Throttling', 'ThrottlingException', 'RequestThrottled']);

/** Node socket error codes worth a retry: every call the provider makes is idempotent. */
const RETRYABLE_NETWORK_CODES: ReadonlySet<string> = new Set([
  'ECONNRESET',
  'ECONNREFUSED',
  'EPIPE',
  'ETIMEDOUT',
  'EAI_AGAIN',
  'UND_ERR_SOCKET',
]);

/** The AWS code and HTTP status of an SDK error (or of a network error, which has no status). */
export function awsErrorDetail(err: unknown): AwsErrorDetail {
  const e = err as { name?: unknown; Code?: unknown; code?: unknown; $metadata?: { httpStatusCode?: unknown } };
  const status = typeof e?.$metadata?.httpStatusCode === 'number' ? e.$metadata.httpStatusCode : null;
  const awsCode =
    typeof e?.Code === 'string'
      ? e.Code
      : typeof e?.code === 'string'
        ? e.code
        : typeof e?.name === 'string'
          ? e.name
          : 'Unknown';
  return { awsCode, status };
}

export function classifyAwsError(err: unknown): AwsErrorClass {
  const { awsCode, status } = awsErrorDetail(err);
  if (Object.hasOwn(EC2_ERROR_TABLE, awsCode)) return EC2_ERROR_TABLE[awsCode]!.class;
  if (status !== null) return status >= 500 ? 'retryable' : 'fatal';
  if (RETRYABLE_NETWORK_CODES.has(awsCode)) return 'retryable';
  const cause = (err as { cause?: { code?: unknown } })?.cause;
  return typeof cause?.code === 'string' && RETRYABLE_NETWORK_CODES.has(cause.code) ? 'retryable' : 'fatal';
}

/** Maps any error of an EC2 call to the provider's typed errors, keeping the original as cause. */
export function toCloudError(action: string, err: unknown): Error {
  const detail = awsErrorDetail(err);
  const message = `${action}: ${(err as Error)?.message ?? String(err)}`;
  switch (classifyAwsError(err)) {
    case 'capacity':
      return new InsufficientCapacityError(detail, message, { cause: err });
    case 'mismatch':
      return new IdempotentParameterMismatchError(detail, message, { cause: err });
    default:
      return new ProviderFailedError(detail, message, { cause: err });
  }
}
