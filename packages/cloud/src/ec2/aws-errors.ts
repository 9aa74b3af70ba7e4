import {
  type AwsErrorDetail,
  IdempotentParameterMismatchError,
  InsufficientCapacityError,
  ProviderFailedError,
} from '../errors.js';

/**
 * EC2 codes that mean "this placement cannot launch now": the caller moves to the next
 * placement rather than retrying this one. `InsufficientInstanceCapacity` arrives as HTTP 500,
 * so it must be recognised before the 5xx retry rule.
 */
export const CAPACITY_ERROR_CODES: ReadonlySet<string> = new Set([
  'InsufficientInstanceCapacity', // no capacity of this type in this AZ (HTTP 500)
  'InsufficientCapacity', // capacity in general (HTTP 500 on some paths)
  'MaxSpotInstanceCountExceeded', // the account's spot vCPU quota is used up: on-demand may still work
  'SpotMaxPriceTooLow', // the template's max price is under the spot price of this pool
  'Unsupported', // this instance type is not offered in this AZ
]);

/** Codes EC2 and the SDK use for throttling and transient faults: retried with backoff. */
export const RETRYABLE_ERROR_CODES: ReadonlySet<string> = new Set([
  'RequestLimitExceeded', // EC2's throttling (HTTP 503)
  'Throttling',
  'ThrottlingException',
  'RequestThrottled',
  'ServiceUnavailable',
  'Unavailable',
  'InternalError',
  'InternalFailure',
  'RequestTimeout',
]);

/** Node socket error codes worth a retry: every call the provider makes is idempotent. */
const RETRYABLE_NETWORK_CODES: ReadonlySet<string> = new Set([
  'ECONNRESET',
  'ECONNREFUSED',
  'EPIPE',
  'ETIMEDOUT',
  'EAI_AGAIN',
  'UND_ERR_SOCKET',
]);

export type AwsErrorClass = 'capacity' | 'mismatch' | 'retryable' | 'fatal';

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
  if (CAPACITY_ERROR_CODES.has(awsCode)) return 'capacity';
  if (awsCode === 'IdempotentParameterMismatch') return 'mismatch';
  if (RETRYABLE_ERROR_CODES.has(awsCode)) return 'retryable';
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
