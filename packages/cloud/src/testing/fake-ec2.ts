import { type IncomingMessage, type Server, type ServerResponse, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { type CapacityRule, Ec2Fault, FAULT_STATUS, type FakeEc2StateOptions, type FakeInstance, FakeEc2State, type FakeVolume } from './fake-ec2-state.js';
import { type QueryObject, parseQuery, str } from './query.js';
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
  close(): Promise<void>;
}

export interface FakeEc2Options extends Partial<FakeEc2StateOptions> {
  port?: number;
}

/** Largest request body accepted: a RunInstances body is under 4 KB. */
const MAX_BODY_BYTES = 1024 * 1024;
const MAX_CALLS_KEPT = 10_000;

/**
 * A fake EC2 endpoint on 127.0.0.1 speaking the EC2 Query API (form-encoded POST in, XML in
 * the 2016-11-15 namespace out, errors as `<Response><Errors>…`): RunInstances with
 * ClientToken idempotency, DescribeInstances with filters and NextToken pages,
 * TerminateInstances and CreateTags, plus injectable capacity, throttling and other faults.
 * SigV4 signatures are accepted unchecked. Test-only: exported as `@synkti/cloud/testing`.
 */
export async function startFakeEc2(options: FakeEc2Options = {}): Promise<FakeEc2> {
  const region = options.region ?? 'us-east-1';
  const state = new FakeEc2State({ region, now: options.now ?? Date.now, ...(options.subnets ? { subnets: options.subnets } : {}) });
  const calls: FakeEc2Call[] = [];
  const faults: { remaining: number; fault: InjectedFault }[] = [];

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
      if (fault !== undefined) throw new Ec2Fault(fault.status ?? FAULT_STATUS[fault.code] ?? 400, fault.code, fault.message ?? `injected ${fault.code}`);
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
    failCapacity: (rule) => void state.capacityRules.push(rule),
    clearCapacityFailures: () => void state.capacityRules.splice(0),
    failNext: (count, fault) => void faults.push({ remaining: count, fault }),
    throttleNext: (count, action) =>
      void faults.push({ remaining: count, fault: { code: 'RequestLimitExceeded', message: 'Request limit exceeded.', ...(action ? { action } : {}) } }),
    clearFaults: () => void faults.splice(0),
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
