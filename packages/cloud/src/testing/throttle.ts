/**
 * EC2's API throttling, per "Request throttling for the Amazon EC2 API": token buckets per
 * account and Region, one per API action (a throttled action leaves the others alone), each
 * refilled at a set rate up to its maximum. RunInstances and TerminateInstances also draw on a
 * resource bucket, one token per instance. Over the limit, EC2 answers RequestLimitExceeded.
 */
import { Ec2Fault, OWNER_ID } from './faults.js';
import { type QueryObject, list, str } from './query.js';

export interface BucketSpec {
  capacity: number;
  refillPerSecond: number;
}

/** Request-token buckets, as documented (bucket maximum capacity, refill per second). */
export const EC2_REQUEST_BUCKETS = {
  /** "Uncategorized actions": RunInstances has its own, small bucket. */
  RunInstances: { capacity: 5, refillPerSecond: 2 },
  TerminateInstances: { capacity: 100, refillPerSecond: 5 },
  CreateTags: { capacity: 100, refillPerSecond: 10 },
  /** "Non-mutating actions": Describe*, List*, Search*, Get*. */
  nonMutating: { capacity: 100, refillPerSecond: 20 },
  /** "Unfiltered and unpaginated non-mutating actions": DescribeInstances with neither filter nor pagination. */
  unfilteredNonMutating: { capacity: 50, refillPerSecond: 10 },
  /** "Mutating actions" not otherwise listed. */
  mutating: { capacity: 50, refillPerSecond: 5 },
} as const satisfies Record<string, BucketSpec>;

/** Resource-token buckets: one token per instance the request launches or terminates. */
export const EC2_RESOURCE_BUCKETS = {
  RunInstances: { capacity: 1000, refillPerSecond: 2 },
  TerminateInstances: { capacity: 1000, refillPerSecond: 20 },
} as const satisfies Record<string, BucketSpec>;

/** Buckets kept: one per action the fake knows plus the category fallbacks (unknown action names share those). */
const MAX_BUCKETS = 32;
/** Refill arithmetic is in floating point: 1000 ms × 2/s must make exactly 2 tokens. */
const EPSILON = 1e-9;

class TokenBucket {
  #tokens: number;
  #at: number;

  constructor(
    readonly spec: BucketSpec,
    now: number,
  ) {
    this.#tokens = spec.capacity;
    this.#at = now;
  }

  /** Tokens available at `now`; refill is continuous, so half a second gives half the rate. */
  level(now: number): number {
    const elapsed = Math.max(0, now - this.#at);
    this.#tokens = Math.min(this.spec.capacity, this.#tokens + (elapsed * this.spec.refillPerSecond) / 1_000);
    this.#at = Math.max(this.#at, now);
    return this.#tokens;
  }

  take(cost: number): void {
    this.#tokens -= cost;
  }
}

interface Draw {
  key: string;
  spec: BucketSpec;
  cost: number;
  kind: 'request' | 'resource';
}

/** The buckets one call draws from. */
function drawsOf(action: string, params: QueryObject): Draw[] {
  const request = (key: string, spec: BucketSpec): Draw => ({ key, spec, cost: 1, kind: 'request' });
  switch (action) {
    case 'RunInstances': {
      const count = Number(str(params, 'MaxCount') ?? '1');
      const cost = Number.isInteger(count) && count > 0 ? count : 1;
      return [request(action, EC2_REQUEST_BUCKETS.RunInstances), { key: `${action}#resource`, spec: EC2_RESOURCE_BUCKETS.RunInstances, cost, kind: 'resource' }];
    }
    case 'TerminateInstances': {
      const cost = Math.max(1, list(params, 'InstanceId').length);
      return [request(action, EC2_REQUEST_BUCKETS.TerminateInstances), { key: `${action}#resource`, spec: EC2_RESOURCE_BUCKETS.TerminateInstances, cost, kind: 'resource' }];
    }
    case 'CreateTags':
      return [request(action, EC2_REQUEST_BUCKETS.CreateTags)];
    case 'DescribeInstances': {
      // Instance IDs are neither a filter nor pagination: the documentation names only those two.
      const narrowed = params['Filter'] !== undefined || params['MaxResults'] !== undefined || params['NextToken'] !== undefined;
      return narrowed
        ? [request(action, EC2_REQUEST_BUCKETS.nonMutating)]
        : [request(`${action}#unfiltered`, EC2_REQUEST_BUCKETS.unfilteredNonMutating)];
    }
    default:
      return /^(Describe|List|Search|Get)/.test(action)
        ? [request('*non-mutating', EC2_REQUEST_BUCKETS.nonMutating)]
        : [request('*mutating', EC2_REQUEST_BUCKETS.mutating)];
  }
}

/** The fake account's buckets in its one Region, on the fake's injected clock. */
export class Ec2Throttle {
  readonly #buckets = new Map<string, TokenBucket>();

  constructor(readonly now: () => number) {}

  /** Takes the call's tokens, or answers the fault EC2 would send; a refused call takes nothing. */
  admit(action: string, params: QueryObject): Ec2Fault | null {
    const now = this.now();
    const draws = drawsOf(action, params);
    const buckets = draws.map((d) => this.#bucket(d, now));
    const short = draws.findIndex((d, i) => buckets[i]!.level(now) + EPSILON < d.cost);
    if (short >= 0) {
      const rate = draws[short]!.kind === 'resource' ? 'resource rate limit' : 'request rate limit';
      return new Ec2Fault(503, 'RequestLimitExceeded', `Request limit exceeded. Account ${OWNER_ID} has been throttled on ec2:${action} because it exceeded its ${rate}.`);
    }
    draws.forEach((d, i) => buckets[i]!.take(d.cost));
    return null;
  }

  #bucket(draw: Draw, now: number): TokenBucket {
    let bucket = this.#buckets.get(draw.key);
    if (bucket === undefined) {
      if (this.#buckets.size >= MAX_BUCKETS) throw new Error(`more than ${MAX_BUCKETS} throttle buckets`);
      bucket = new TokenBucket(draw.spec, now);
      this.#buckets.set(draw.key, bucket);
    }
    return bucket;
  }
}
