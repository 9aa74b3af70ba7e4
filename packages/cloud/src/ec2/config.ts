import { z } from 'zod';
import {
  DEFAULT_LAUNCH_TEMPLATE_VERSION,
  EC2_BACKOFF_BASE_MS,
  EC2_BACKOFF_MAX_MS,
  EC2_MAX_ATTEMPTS,
  EC2_PAGE_SIZE,
  EC2_REQUEST_TIMEOUT_MS,
  EC2_RUN_INSTANCES_PER_SECOND,
  EC2_THROTTLE_BACKOFF_BASE_MS,
  EC2_THROTTLE_BACKOFF_MAX_MS,
  EC2_THROTTLE_MAX_ATTEMPTS,
} from '../constants.js';
import { CloudConfigError } from '../errors.js';

const positiveMs = z.number().int().min(1);

/** The fleet's launch template, by ID (`lt-…`) or by name; exactly one of the two. */
export const launchTemplateSchema = z
  .object({
    id: z
      .string()
      .regex(/^lt-[0-9a-f]{8,32}$/)
      .optional(),
    name: z
      .string()
      .regex(/^[a-zA-Z0-9().\-/_]{3,128}$/)
      .optional(),
    /** `$Default`, `$Latest` or a version number. */
    version: z
      .string()
      .regex(/^(\$Default|\$Latest|[1-9][0-9]{0,17})$/)
      .default(DEFAULT_LAUNCH_TEMPLATE_VERSION),
  })
  .refine((t) => (t.id === undefined) !== (t.name === undefined), {
    message: 'give exactly one of launchTemplate.id and launchTemplate.name',
  });

export const ec2ProviderConfigSchema = z.object({
  /** AWS region of the fleet (e.g. `eu-west-1`). */
  region: z.string().regex(/^[a-z]{2}(-[a-z]+)+-[0-9]{1,2}$/),
  launchTemplate: launchTemplateSchema,
  /**
   * Endpoint override (tests, VPC endpoints). Absent: the SDK's regional endpoint. Credentials
   * always come from the SDK's default chain (the instance profile in production).
   */
  endpoint: z.url({ protocol: /^https?$/ }).optional(),
  /** Timeout of one attempt of one API call. */
  requestTimeoutMs: positiveMs.max(120_000).default(EC2_REQUEST_TIMEOUT_MS),
  /** Attempts per call on throttling, 5xx and network errors (1 = never retry). */
  maxAttempts: z.number().int().min(1).max(10).default(EC2_MAX_ATTEMPTS),
  backoffBaseMs: positiveMs.max(60_000).default(EC2_BACKOFF_BASE_MS),
  backoffMaxMs: positiveMs.max(300_000).default(EC2_BACKOFF_MAX_MS),
  /** Attempts and backoff of a call EC2 throttles (RequestLimitExceeded): longer than for other faults. */
  throttleMaxAttempts: z.number().int().min(1).max(20).default(EC2_THROTTLE_MAX_ATTEMPTS),
  throttleBackoffBaseMs: positiveMs.max(60_000).default(EC2_THROTTLE_BACKOFF_BASE_MS),
  throttleBackoffMaxMs: positiveMs.max(300_000).default(EC2_THROTTLE_BACKOFF_MAX_MS),
  /** RunInstances calls this provider sends per second at most (burst as many). */
  runInstancesPerSecond: z.number().min(0.1).max(100).default(EC2_RUN_INSTANCES_PER_SECOND),
  /** The fleet's libp2p TCP port: with an instance's private IP, where its agent can be dialled. */
  agentPort: z.number().int().min(1).max(65_535).optional(),
  /** DescribeInstances page size (EC2 accepts 5..1000). */
  pageSize: z.number().int().min(5).max(1_000).default(EC2_PAGE_SIZE),
});

export type Ec2ProviderInit = z.input<typeof ec2ProviderConfigSchema>;
export type Ec2ProviderConfig = z.output<typeof ec2ProviderConfigSchema>;

/** Validates and defaults the provider's config; throws CloudConfigError (code CLOUD_BAD_CONFIG). */
export function parseEc2ProviderConfig(init: unknown): Ec2ProviderConfig {
  const parsed = ec2ProviderConfigSchema.safeParse(init);
  if (!parsed.success) {
    const detail = parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ');
    throw new CloudConfigError(`invalid ec2 provider config: ${detail}`, { cause: parsed.error });
  }
  return parsed.data;
}
