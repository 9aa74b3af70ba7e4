import { type IncomingMessage, type Server, type ServerResponse, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { type CapacityRule, type FakeEc2StateOptions, type FakeInstance, FakeEc2State, type FakeVolume } from './fake-ec2-state.js';
import { Ec2Fault, faultStatus } from './faults.js';
import { type QueryObject, parseQuery, str } from './query.js';
import { Ec2Throttle } from './throttle.js';
import { ec2ErrorResponse } from './xml.js';

export type { CapacityRule, FakeInstance, FakeVolume } from './fake-ec2-state.js';

/** One request the fake received (failed ones included). */
export interface FakeEc2Call {
  action: string;
  params: QueryObject;
  status: number;
}

/** A fault injected for the next calls (of one action, or of any). */
export interface InjectedFault {
  status?: number;
  code: string;
  message?: string;
  /** Only calls of this action consume the fault; absent: any call. */
  action?: string;
}

export interface FakeEc2 {
  /** `http://127.0.0.1:<port>`: give it to EC2Client as `endpoint`. */
  readonly url: string;
  readonly region: string;
  readonly calls: readonly FakeEc2Call[];
  callsOf(action: string): FakeEc2Call[];
  instances(): FakeInstance[];
  volumes(): FakeVolume[];
  setState(instanceId: string, state: FakeInstance['state']): void;
  /** Every matching RunInstances fails with a capacity error until `clearCapacityFailures()`. */
  failCapacity(rule: CapacityRule): void;
  clearCapacityFailures(): void;
  /** The next `count` matching calls fail with `fault` (default status: EC2's for the code). */
  failNext(count: number, fault: InjectedFault): void;
  /** The next `count` calls (of `action`, when given) are throttled: RequestLimitExceeded, HTTP 503. */
  throttleNext(count: number, action?: string): void;
  /** Drops every injected fault not yet consumed. */
  clearFaults(): void;
  /**
   * An Availability Zone outage until `restoreZone`: DescribeInstances without instance IDs, or
   * naming one in the zone, fails (503 Unavailable); RunInstances into the zone answers
   * InsufficientInstanceCapacity (500), a Regional-idempotency launch 503 Unavailable.
   */
  impairZone(zone: string): void;
  restoreZone(zone: string): void;
  impairedZones(): string[];
  /** A spot price change for (instance type, zone) at `at` (default now), as DescribeSpotPriceHistory reports it. */
  setSpotPrice(instanceType: string, zone: string, price: number, at?: number): void;
  /** Changes the behaviour options at run time; the visibility lag applies to later launches. */
  configure(behaviour: Partial<FakeEc2Behaviour>): void;
  close(): Promise<void>;
}

/** EC2's harder habits, all off by default. */
export interface FakeEc2Behaviour {
  /** For this long after RunInstances the instance is invisible: Describe leaves it out, naming it answers InvalidInstanceID.NotFound. */
  visibilityLagMs: number;
  /** Empty pages, each with a NextToken, served before every page of a paginated DescribeInstances. */
  emptyPages: number;
  /** Token-bucket throttling at EC2's documented bucket sizes (see throttle.ts), on the fake's clock. */
  throttling: boolean;
}

export interface FakeEc2Options extends Partial<FakeEc2StateOptions>, Partial<FakeEc2Behaviour> {
  port?: number;
}

/** Largest request body accepted: a RunInstances body is under 4 KB. */
const MAX_BODY_BYTES = 1024 * 1024;
const MAX_CALLS_KEPT = 10_000;
/** Injected faults pending: a test queues a handful. */
const MAX_FAULTS = 1_000;

/**
 * A fake EC2 endpoint on 127.0.0.1 speaking the EC2 Query API (form-encoded POST in, XML in
 * the 2016-11-15 namespace out, errors as `<Response><Errors>…`): RunInstances with
 * ClientToken idempotency, DescribeInstances with filters and NextToken pages,
 * TerminateInstances and CreateTags, plus injectable capacity, throttling and other faults.
 * Opt-in, EC2's harder habits: visibility lag, empty pages, token-bucket throttling, zone
 * outages (FakeEc2Behaviour, impairZone). SigV4 signatures are accepted unchecked.
 * Test-only: exported as `@synkti/cloud/testing`.
 */
export async function startFakeEc2(options: FakeEc2Options = {}): Promise<FakeEc2> {
  const region = options.region ?? 'us-east-1';
  const now = options.now ?? Date.now;
  const state = new FakeEc2State({
    region,
    now,
    ...(options.subnets ? { subnets: options.subnets } : {}),
    visibilityLagMs: options.visibilityLagMs ?? 0,
    emptyPages: options.emptyPages ?? 0,
  });
  let throttle = options.throttling === true ? new Ec2Throttle(now) : null;
  const calls: FakeEc2Call[] = [];
  const faults: { remaining: number; fault: InjectedFault }[] = [];

  function queueFault(remaining: number, fault: InjectedFault): void {
    const pending = faults.filter((f) => f.remaining > 0);
    faults.splice(0, faults.length, ...pending);
    if (faults.length >= MAX_FAULTS) throw new Error(`more than ${MAX_FAULTS} injected faults pending`);
    faults.push({ remaining, fault });
  }

  function takeFault(action: string): InjectedFault | undefined {
    const entry = faults.find((f) => f.remaining > 0 && (f.fault.action === undefined || f.fault.action === action));
    if (entry === undefined) return undefined;
    entry.remaining--;
    return entry.fault;
  }

  function reply(res: ServerResponse, status: number, body: string): void {
    res.writeHead(status, { 'content-type': 'text/xml;charset=UTF-8', 'content-length': Buffer.byteLength(body) });
    res.end(body);
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const chunk of req) {
      size += (chunk as Buffer).length;
      if (size > MAX_BODY_BYTES) return reply(res, 413, ec2ErrorResponse('RequestEntityTooLarge', 'body too large', 'req-0'));
      chunks.push(chunk as Buffer);
    }
    const requestId = state.id('req');
    const params = parseQuery(Buffer.concat(chunks).toString('utf8'));
    const action = str(params, 'Action') ?? '';
    let status = 200;
    let body: string;
    try {
      const fault = takeFault(action);
      if (fault !== undefined) throw new Ec2Fault(fault.status ?? faultStatus(fault.code), fault.code, fault.message ?? `injected ${fault.code}`);
      const throttled = throttle?.admit(action, params) ?? null;
      if (throttled !== null) throw throttled;
      body = state.handle(action, params, requestId);
    } catch (err) {
      const fault = err instanceof Ec2Fault ? err : new Ec2Fault(500, 'InternalError', String(err));
      status = fault.status;
      body = ec2ErrorResponse(fault.code, fault.message, requestId);
    }
    if (calls.length < MAX_CALLS_KEPT) calls.push({ action, params, status });
    reply(res, status, body);
  }

  const server: Server = createServer((req, res) => {
    handle(req, res).catch((err) => {
      if (!res.headersSent) reply(res, 500, ec2ErrorResponse('InternalError', String(err), 'req-0'));
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}`,
    region,
    calls,
    callsOf: (action) => calls.filter((c) => c.action === action),
    instances: () => [...state.instances.values()],
    volumes: () => [...state.volumes.values()],
    setState(instanceId, next) {
      const instance = state.instances.get(instanceId);
      if (instance === undefined) throw new Error(`no instance ${instanceId}`);
      instance.state = next;
    },
    failCapacity: (rule) => state.addCapacityRule(rule),
    clearCapacityFailures: () => void state.capacityRules.splice(0),
    failNext: (count, fault) => queueFault(count, fault),
    throttleNext: (count, action) =>
      queueFault(count, { code: 'RequestLimitExceeded', message: 'Request limit exceeded.', ...(action ? { action } : {}) }),
    clearFaults: () => void faults.splice(0),
    impairZone: (zone) => state.impairZone(zone),
    restoreZone: (zone) => void state.impairedZones.delete(zone),
    impairedZones: () => [...state.impairedZones],
    setSpotPrice: (instanceType, zone, price, at = now()) => state.spotPrices.set(instanceType, zone, price, at),
    configure(behaviour) {
      if (behaviour.visibilityLagMs !== undefined) state.options.visibilityLagMs = behaviour.visibilityLagMs;
      if (behaviour.emptyPages !== undefined) state.options.emptyPages = behaviour.emptyPages;
      if (behaviour.throttling !== undefined) throttle = behaviour.throttling ? (throttle ?? new Ec2Throttle(now)) : null;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
