/**
 * Cloud package defaults and names. Every number carries its unit in the name and one line of
 * why; the zod schemas in ec2/config.ts and imds/watcher.ts point at these.
 */

/** Tag naming the fleet an instance belongs to: the filter of `listInstances` and the IAM scope. */
export const TAG_FLEET = 'synkti:fleet';
/** Tag naming the slot an instance fills, so a peer can tell which slot is occupied. */
export const TAG_SLOT = 'synkti:slot';
/** Tag naming the instance a launch replaces (absent for a slot's first launch). */
export const TAG_REPLACES = 'synkti:replaces';
/** Tag carrying the idempotency token, so an operator can trace an instance to its decision. */
export const TAG_TOKEN = 'synkti:token';
/** Every tag key the provider writes: the IAM policy allows exactly these (aws:TagKeys). */
export const TAG_KEYS = [TAG_FLEET, TAG_SLOT, TAG_REPLACES, TAG_TOKEN] as const;

/** Every EC2 API action the provider calls; infra/iam-policy.json grants exactly these. */
export const EC2_ACTIONS = ['ec2:RunInstances', 'ec2:CreateTags', 'ec2:DescribeInstances', 'ec2:TerminateInstances'] as const;

/** Launch template version used when config names none: the template's default version. */
export const DEFAULT_LAUNCH_TEMPLATE_VERSION = '$Default';
/** Timeout of one EC2 API call: RunInstances answers within seconds, a hung socket must not stall the replacer. */
export const EC2_REQUEST_TIMEOUT_MS = 15_000;
/** Attempts per EC2 call (first try included) on throttling, 5xx and network errors. */
export const EC2_MAX_ATTEMPTS = 5;
/** First backoff ceiling; full jitter picks a delay in [0, ceiling). */
export const EC2_BACKOFF_BASE_MS = 250;
/** Backoff ceiling cap: with 5 attempts the worst case waits ~4 s in total, well within a heartbeat budget of a launch. */
export const EC2_BACKOFF_MAX_MS = 4_000;
/** DescribeInstances page size (EC2 allows 5..1000): few pages even for a large fleet. */
export const EC2_PAGE_SIZE = 500;
/** Most DescribeInstances pages read per listing: bounds a runaway NextToken loop (50k instances). */
export const EC2_MAX_PAGES = 100;
/** EC2's own limit on ClientToken length (ASCII characters). */
export const MAX_CLIENT_TOKEN_CHARS = 64;
/** EC2's own limit on a tag value's length. */
export const MAX_TAG_VALUE_CHARS = 256;

/** How often the IMDS watcher polls: AWS Node Termination Handler polls every 2 s; a spot notice gives 120 s. */
export const IMDS_POLL_INTERVAL_MS = 2_000;
/** Timeout of one IMDS request: IMDS answers in about a millisecond on the instance. */
export const IMDS_REQUEST_TIMEOUT_MS = 1_000;
/** IMDSv2 token TTL requested: 6 hours (the maximum); the watcher refreshes before it ends and on any 401. */
export const IMDS_TOKEN_TTL_SECONDS = 21_600;
/** Refresh the token this long before its TTL ends, so no GET races its expiry. */
export const IMDS_TOKEN_REFRESH_MARGIN_MS = 60_000;
/** The instance metadata endpoint on EC2 (IPv4). */
export const IMDS_DEFAULT_ENDPOINT = 'http://169.254.169.254';
/** Path of the spot interruption notice (404 while there is none). */
export const IMDS_PATH_INSTANCE_ACTION = 'latest/meta-data/spot/instance-action';
/** Path of the rebalance recommendation (404 while there is none). */
export const IMDS_PATH_REBALANCE = 'latest/meta-data/events/recommendations/rebalance';
/** Largest IMDS body parsed: notices are under 100 bytes; anything far larger is not IMDS. */
export const IMDS_MAX_BODY_CHARS = 16 * 1024;
/** Most notice listeners; a leak shows up as an error, not as slow growth. */
export const MAX_NOTICE_LISTENERS = 64;
/** Distinct notices remembered to emit each once: IMDS only ever shows one of each kind at a time. */
export const MAX_SEEN_NOTICES = 64;
/**
 * EC2's RunInstances request bucket holds 5 tokens refilled at 2 per second for the whole
 * account and Region: the provider sends at most this many per second (with a burst of as
 * many), so a spot wave's launches queue here instead of being throttled there.
 */
export const EC2_RUN_INSTANCES_PER_SECOND = 2;
/** Throttled calls (RequestLimitExceeded) wait longer than other faults: AWS's guidance is to back off to seconds. */
export const EC2_THROTTLE_BACKOFF_BASE_MS = 1_000;
export const EC2_THROTTLE_BACKOFF_MAX_MS = 20_000;
/** Attempts of a call that keeps being throttled (other faults keep EC2_MAX_ATTEMPTS). */
export const EC2_THROTTLE_MAX_ATTEMPTS = 8;
