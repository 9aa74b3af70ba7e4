import type {
  DescribeInstancesCommandOutput,
  DescribeSpotPriceHistoryCommandOutput,
  DescribeSubnetsCommandOutput,
  EC2Client,
  Filter,
  Instance,
  _InstanceType,
  RunInstancesCommandOutput,
  TerminateInstancesCommandOutput,
} from '@aws-sdk/client-ec2';
import { loadOnce } from '../load-once.js';

/**
 * The SDK module, loaded on first use: in a bare Node it adds ~12 MiB of heap after a collection
 * and ~78 MiB of RSS right after the import, and an agent on another provider never needs it.
 */
type Ec2Sdk = typeof import('@aws-sdk/client-ec2');
const ec2Sdk = loadOnce((): Promise<Ec2Sdk> => import('@aws-sdk/client-ec2'));
import {
  type Clock,
  type CloudProvider,
  type FleetInstance,
  type InstanceQuery,
  type LaunchRequest,
  type LaunchResult,
  type PlacementSpec,
  type Logger,
  type Rng,
  silentLogger,
  systemClock,
} from '@synkti/interface';
import { EC2_MAX_PAGES, TAG_FLEET } from '../constants.js';
import { ProviderFailedError } from '../errors.js';
import { awsErrorDetail, toCloudError } from './aws-errors.js';
import { type Ec2ProviderConfig, type Ec2ProviderInit, parseEc2ProviderConfig } from './config.js';
import { lifecycleOf, toFleetInstance } from './instances.js';
import { type RetryPolicy, type Sleep, clockSleep, withRetry } from './retry.js';
import { Pacer } from './pacer.js';
import { runInstancesInput, validateLaunchRequest } from './run-request.js';

/** Pending and running: the instances a fleet pays for and the rule counts. */
const LIVE_STATES: Filter = { Name: 'instance-state-name', Values: ['pending', 'running'] };
/** EC2 accepts at most this many values in one filter. */
const MAX_FILTER_VALUES = 200;

export interface Ec2ProviderComponents {
  /** A ready client (tests, shared clients). Absent: one is built from the config. */
  client?: EC2Client;
  /**
   * Static credentials, for tests against a fake endpoint only. Absent (production): the SDK's
   * default chain — environment, profile, then the instance profile through IMDS.
   */
  credentials?: { accessKeyId: string; secretAccessKey: string; sessionToken?: string };
  clock?: Clock;
  /** Jitter source of the backoff. */
  rng?: Rng;
  /** Backoff wait; defaults to a timer on `clock`. Tests inject one that records and returns at once. */
  sleep?: Sleep;
  logger?: Logger;
}

export interface Ec2Provider extends CloudProvider {
  readonly kind: 'ec2';
  readonly config: Ec2ProviderConfig;
  /** Releases the client's sockets (only when the provider built the client). */
  close(): void;
}

/**
 * The EC2 provider: RunInstances from the fleet's launch template with the attempt's placement
 * and ClientToken, DescribeInstances by fleet tag, TerminateInstances. The SDK's own retries
 * are off (maxAttempts 1) and replaced by withRetry, so that capacity errors (HTTP 500) are
 * never retried on the same placement and the backoff is deterministic under test.
 */
export function ec2Provider(init: Ec2ProviderInit, components: Ec2ProviderComponents = {}): Ec2Provider {
  const config = parseEc2ProviderConfig(init);
  const log = (components.logger ?? silentLogger).child({ component: 'cloud:ec2' });
  const rng = components.rng ?? Math.random;
  const sleep = components.sleep ?? clockSleep(components.clock ?? systemClock);
  const ownsClient = components.client === undefined;
  let built: EC2Client | undefined = components.client;
  /** Sends one command, built from the SDK module once it is loaded (the client is built with it). */
  async function send<T>(command: (sdk: Ec2Sdk) => object, signal: AbortSignal): Promise<T> {
    const sdk = await ec2Sdk();
    built ??= new sdk.EC2Client({
      region: config.region,
      ...(config.endpoint === undefined ? {} : { endpoint: config.endpoint }),
      ...(components.credentials === undefined ? {} : { credentials: components.credentials }),
      maxAttempts: 1,
      requestHandler: { requestTimeout: config.requestTimeoutMs, connectionTimeout: config.requestTimeoutMs },
    });
    // The command's own type fixes its output; `send`'s overloads cannot name it generically.
    return (await built.send(command(sdk) as never, { abortSignal: signal })) as T;
  }
  const policy: RetryPolicy = {
    maxAttempts: config.maxAttempts,
    baseMs: config.backoffBaseMs,
    maxMs: config.backoffMaxMs,
    attemptTimeoutMs: config.requestTimeoutMs,
    throttle: { maxAttempts: config.throttleMaxAttempts, baseMs: config.throttleBackoffBaseMs, maxMs: config.throttleBackoffMaxMs },
  };
  const runPacer = new Pacer(config.runInstancesPerSecond, config.runInstancesPerSecond, components.clock ?? systemClock, sleep);

  async function call<T>(action: string, op: (signal: AbortSignal) => Promise<T>, signal?: AbortSignal): Promise<T> {
    try {
      return await withRetry(op, {
        policy,
        rng,
        sleep,
        signal,
        onRetry: ({ attempt, delayMs, err }) =>
          log.warn({ action, attempt, delayMs, ...awsErrorDetail(err), err }, 'ec2 call failed; retrying'),
      });
    } catch (err) {
      if (signal?.aborted && err === signal.reason) throw err;
      throw toCloudError(action, err);
    }
  }

  /** Every instance matching `filters`, page by page (EC2 may return short or empty pages with a NextToken). */
  async function describeAll(filters: Filter[], what: string, signal?: AbortSignal): Promise<Instance[]> {
    const found: Instance[] = [];
    let nextToken: string | undefined;
    for (let page = 0; page < EC2_MAX_PAGES; page++) {
      const out: DescribeInstancesCommandOutput = await call(
        'DescribeInstances',
        (s) => send<DescribeInstancesCommandOutput>((sdk) => new sdk.DescribeInstancesCommand({ Filters: filters, MaxResults: config.pageSize, ...(nextToken === undefined ? {} : { NextToken: nextToken }) }), s),
        signal,
      );
      for (const reservation of out.Reservations ?? []) found.push(...(reservation.Instances ?? []));
      nextToken = out.NextToken || undefined;
      if (nextToken === undefined) return found;
    }
    throw new ProviderFailedError({ awsCode: 'TooManyPages', status: null }, `DescribeInstances: more than ${EC2_MAX_PAGES} pages for ${what}`);
  }

  /** Subnet → Availability Zone; a subnet never moves, so each is asked once per provider. */
  const subnetZones = new Map<string, string>();
  async function zonesOf(subnets: readonly string[], signal?: AbortSignal): Promise<Map<string, string>> {
    const missing = subnets.filter((s) => !subnetZones.has(s));
    if (missing.length > 0) {
      const out = await call('DescribeSubnets', (s) => send<DescribeSubnetsCommandOutput>((sdk) => new sdk.DescribeSubnetsCommand({ SubnetIds: missing }), s), signal);
      for (const sn of out.Subnets ?? []) if (sn.SubnetId !== undefined && sn.AvailabilityZone !== undefined) subnetZones.set(sn.SubnetId, sn.AvailabilityZone);
    }
    return subnetZones;
  }

  /**
   * The named instances. EC2 fails the whole call when it does not know one of the IDs (one it
   * forgot an hour after termination, or one too new to be visible): those are dropped — named
   * in the error — and the rest asked again, once.
   */
  async function describeIds(ids: readonly string[], signal?: AbortSignal): Promise<Instance[]> {
    let asked = [...ids];
    for (let round = 0; round < 2 && asked.length > 0; round++) {
      try {
        const res = await call('DescribeInstances', (s) => send<DescribeInstancesCommandOutput>((sdk) => new sdk.DescribeInstancesCommand({ InstanceIds: asked }), s), signal);
        return (res.Reservations ?? []).flatMap((r) => r.Instances ?? []);
      } catch (err) {
        const unknown = err instanceof ProviderFailedError && err.awsCode === 'InvalidInstanceID.NotFound' ? new Set(err.message.match(/i-[0-9a-f]+/g) ?? []) : new Set<string>();
        const rest = asked.filter((id) => !unknown.has(id));
        if (unknown.size === 0 || rest.length === asked.length || round === 1) throw err;
        asked = rest;
      }
    }
    return [];
  }

  /**
   * IDs of instances EC2 already holds for this token (any state). Best effort: a failure here
   * only costs the `existing` flag, never the launch. DescribeInstances is eventually
   * consistent, so a launch made a moment earlier by a racing peer may still read as new.
   */
  async function instancesOfToken(token: string, signal?: AbortSignal): Promise<Set<string> | null> {
    try {
      const instances = await describeAll([{ Name: 'client-token', Values: [token] }], `token ${token}`, signal);
      return new Set(instances.flatMap((i) => (i.InstanceId ? [i.InstanceId] : [])));
    } catch (err) {
      if (signal?.aborted) throw err;
      log.warn({ token, err }, 'could not look up the token before launching; existing will read false');
      return null;
    }
  }

  return {
    kind: 'ec2',
    config,

    async launch(request: LaunchRequest, signal?: AbortSignal): Promise<LaunchResult> {
      validateLaunchRequest(request);
      const before = await instancesOfToken(request.token, signal);
      const input = runInstancesInput(request, config);
      const out = await call(
        'RunInstances',
        async (s) => {
          await runPacer.take(s);
          return send<RunInstancesCommandOutput>((sdk) => new sdk.RunInstancesCommand(input), s);
        },
        signal,
      );
      const instance = out.Instances?.[0];
      if (instance?.InstanceId === undefined) {
        throw new ProviderFailedError({ awsCode: 'EmptyResponse', status: null }, 'RunInstances returned no instance');
      }
      const result: LaunchResult = {
        instanceId: instance.InstanceId,
        lifecycle: lifecycleOf(instance),
        existing: before?.has(instance.InstanceId) ?? false,
      };
      log.info(
        { token: request.token, slot: request.slot, placement: request.placement, ...result },
        result.existing ? 'launch token already held an instance' : 'launched instance',
      );
      return result;
    },

    async listInstances(fleet: string, signal?: AbortSignal): Promise<FleetInstance[]> {
      const instances = await describeAll([{ Name: `tag:${TAG_FLEET}`, Values: [fleet] }, LIVE_STATES], `fleet ${fleet}`, signal);
      return instances.flatMap((i) => toFleetInstance(i, config.agentPort) ?? []);
    },

    async findInstances(query: InstanceQuery, signal?: AbortSignal): Promise<FleetInstance[]> {
      const out: FleetInstance[] = [];
      if ('instanceIds' in query) {
        // InstanceIds, not a filter: EC2 answers these even while another zone is impaired.
        for (let i = 0; i < query.instanceIds.length; i += MAX_FILTER_VALUES) {
          for (const inst of await describeIds(query.instanceIds.slice(i, i + MAX_FILTER_VALUES), signal)) {
            const mapped = toFleetInstance(inst, config.agentPort);
            if (mapped !== null) out.push(mapped);
          }
        }
        return out;
      }
      // A filter takes at most 200 values.
      for (let i = 0; i < query.tokens.length; i += MAX_FILTER_VALUES) {
        const tokens = query.tokens.slice(i, i + MAX_FILTER_VALUES);
        const instances = await describeAll([{ Name: 'client-token', Values: tokens }, LIVE_STATES], `${tokens.length} tokens`, signal);
        out.push(...instances.flatMap((inst) => toFleetInstance(inst, config.agentPort) ?? []));
      }
      return out;
    },

    async spotPrices(placements: readonly PlacementSpec[], at: number, signal?: AbortSignal): Promise<Map<number, number>> {
      const zones = await zonesOf([...new Set(placements.map((p) => p.subnet))], signal);
      const types = [...new Set(placements.filter((p) => p.onDemand !== true).map((p) => p.instanceType))];
      const latest = new Map<string, { price: number; ts: number }>(); // type@zone → the price in effect at `at`
      let nextToken: string | undefined;
      for (let page = 0; page < EC2_MAX_PAGES && types.length > 0; page++) {
        const out = await call(
          'DescribeSpotPriceHistory',
          (s) => send<DescribeSpotPriceHistoryCommandOutput>((sdk) => new sdk.DescribeSpotPriceHistoryCommand({ InstanceTypes: types as _InstanceType[], ProductDescriptions: ['Linux/UNIX'], StartTime: new Date(at), EndTime: new Date(at), ...(nextToken === undefined ? {} : { NextToken: nextToken }) }), s),
          signal,
        );
        for (const h of out.SpotPriceHistory ?? []) {
          const ts = h.Timestamp?.getTime() ?? Number.NEGATIVE_INFINITY;
          const price = Number(h.SpotPrice);
          const key = `${h.InstanceType}@${h.AvailabilityZone}`;
          if (ts <= at && Number.isFinite(price) && ts > (latest.get(key)?.ts ?? Number.NEGATIVE_INFINITY)) latest.set(key, { price, ts });
        }
        nextToken = out.NextToken || undefined;
        if (nextToken === undefined) break;
      }
      const prices = new Map<number, number>();
      placements.forEach((p, i) => {
        const zone = zones.get(p.subnet);
        const found = p.onDemand === true || zone === undefined ? undefined : latest.get(`${p.instanceType}@${zone}`);
        if (found !== undefined) prices.set(i, found.price);
      });
      return prices;
    },

    async terminate(instanceId: string, signal?: AbortSignal): Promise<void> {
      try {
        await call(
          'TerminateInstances',
          (s) => send<TerminateInstancesCommandOutput>((sdk) => new sdk.TerminateInstancesCommand({ InstanceIds: [instanceId] }), s),
          signal,
        );
        log.info({ instanceId }, 'terminated instance');
      } catch (err) {
        // Already gone is what terminate wants: idempotent, like launch. EC2 also answers NotFound
        // for an instance too new to be visible; the callers only pass IDs read from a listing
        // or from the instance's own metadata, which are visible by then.
        if (err instanceof ProviderFailedError && err.awsCode === 'InvalidInstanceID.NotFound') {
          log.info({ instanceId }, 'instance to terminate does not exist');
          return;
        }
        throw err;
      }
    },

    close(): void {
      if (ownsClient) built?.destroy();
    },
  };
}
