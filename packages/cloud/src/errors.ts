import { CloudErrorCode, SynktiError } from '@synkti/interface';

/** Stable codes of the cloud package; the provider codes come from the interface's CloudErrorCode. */
export const CLOUD_ERROR_CODES = {
  ...CloudErrorCode,
  BAD_CONFIG: 'CLOUD_BAD_CONFIG',
  BAD_REQUEST: 'CLOUD_BAD_REQUEST',
  IMDS_FAILED: 'IMDS_FAILED',
} as const;

/** What the cloud said, kept on every provider error so logs and tests can see the original. */
export interface AwsErrorDetail {
  /** The AWS error code (e.g. `InsufficientInstanceCapacity`), or the error's name when there is none. */
  awsCode: string;
  /** HTTP status of the response, when one arrived. */
  status: number | null;
}

/** This placement (instance type + subnet + market) has no capacity now: try the next one. */
export class InsufficientCapacityError extends SynktiError implements AwsErrorDetail {
  readonly awsCode: string;
  readonly status: number | null;
  constructor(detail: AwsErrorDetail, message: string, options?: { cause?: unknown }) {
    super(CLOUD_ERROR_CODES.INSUFFICIENT_CAPACITY, `no capacity (${detail.awsCode}): ${message}`, options);
    this.awsCode = detail.awsCode;
    this.status = detail.status;
  }
}

/** The token was used before with other parameters: a bug in token derivation, never retried. */
export class IdempotentParameterMismatchError extends SynktiError implements AwsErrorDetail {
  readonly awsCode: string;
  readonly status: number | null;
  constructor(detail: AwsErrorDetail, message: string, options?: { cause?: unknown }) {
    super(CLOUD_ERROR_CODES.IDEMPOTENT_PARAMETER_MISMATCH, `token reused with other parameters: ${message}`, options);
    this.awsCode = detail.awsCode;
    this.status = detail.status;
  }
}

/** Anything else the cloud refused or failed at (after retries, for transient faults). */
export class ProviderFailedError extends SynktiError implements AwsErrorDetail {
  readonly awsCode: string;
  readonly status: number | null;
  constructor(detail: AwsErrorDetail, message: string, options?: { cause?: unknown }) {
    super(CLOUD_ERROR_CODES.PROVIDER_FAILED, `${detail.awsCode}: ${message}`, options);
    this.awsCode = detail.awsCode;
    this.status = detail.status;
  }
}

export class CloudConfigError extends SynktiError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(CLOUD_ERROR_CODES.BAD_CONFIG, message, options);
  }
}

/** A launch request the provider refuses before calling the cloud (e.g. a token over 64 characters). */
export class BadLaunchRequestError extends SynktiError {
  constructor(message: string) {
    super(CLOUD_ERROR_CODES.BAD_REQUEST, message);
  }
}

/** An IMDS read failed (identity look-ups; the watcher logs instead of throwing). */
export class ImdsError extends SynktiError {
  readonly status: number | null;
  constructor(message: string, status: number | null, options?: { cause?: unknown }) {
    super(CLOUD_ERROR_CODES.IMDS_FAILED, message, options);
    this.status = status;
  }
}
