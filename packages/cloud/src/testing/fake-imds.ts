import { randomBytes } from 'node:crypto';
import { type IncomingMessage, type Server, type ServerResponse, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

export type FakeImdsAction = 'terminate' | 'stop' | 'hibernate';

export interface FakeImdsIdentity {
  instanceId: string;
  instanceType: string;
  availabilityZone: string;
  lifecycle: 'spot' | 'on-demand';
}

export interface FakeImdsOptions {
  /** Default 0: any free port. */
  port?: number;
  /** Default 127.0.0.1. */
  host?: string;
  identity?: Partial<FakeImdsIdentity>;
  /** Time source for token expiry and `inSeconds` notices (epoch ms). */
  now?: () => number;
}

export interface FakeImdsRequest {
  method: string;
  path: string;
  status: number;
}

export interface FakeImds {
  /** `http://host:port`: the IMDS endpoint to give the watcher. */
  readonly url: string;
  readonly port: number;
  /** Requests served (bounded), control routes excluded. */
  readonly requests: readonly FakeImdsRequest[];
  /** The spot instance-action notice; null: 404. */
  setNotice(notice: { action: FakeImdsAction; time: string } | null): void;
  /** The rebalance recommendation's noticeTime (ISO); null: 404. */
  setRebalance(noticeTime: string | null): void;
  /** Makes every issued token invalid: the next GET with one gets 401. */
  expireTokens(): void;
  close(): Promise<void>;
}

const TOKEN_TTL_HEADER = 'x-aws-ec2-metadata-token-ttl-seconds';
const TOKEN_HEADER = 'x-aws-ec2-metadata-token';
/** Notice lead time when the control route gives none: EC2's two-minute warning. */
const DEFAULT_NOTICE_SECONDS = 120;
const MAX_TOKENS = 1_000;
const MAX_REQUESTS_KEPT = 10_000;
const MAX_CONTROL_BODY_BYTES = 4_096;
export const FAKE_IMDS_CONTROL_PATH = '/_synkti/notice';

/** EC2 writes notice times to the second. */
function isoSeconds(ms: number): string {
  return new Date(Math.floor(ms / 1_000) * 1_000).toISOString().replace('.000Z', 'Z');
}

/**
 * A fake instance metadata service (IMDSv2 only) for tests and local fleets: PUT
 * /latest/api/token issues a token with the requested TTL, GETs without a valid token get
 * 401, the notice paths answer 404 until a notice is set. Control: the methods above, or over
 * HTTP from another process — `POST /_synkti/notice` with `{"kind":"terminate"|"stop"|
 * "hibernate"|"rebalance","inSeconds"?:n}`, `DELETE /_synkti/notice` clears both notices.
 */
export async function startFakeImds(options: FakeImdsOptions = {}): Promise<FakeImds> {
  const now = options.now ?? Date.now;
  const identity: FakeImdsIdentity = {
    instanceId: 'i-0fakeimds00000000',
    instanceType: 'g5.xlarge',
    availabilityZone: 'us-east-1a',
    lifecycle: 'spot',
    ...options.identity,
  };
  const tokens = new Map<string, number>();
  const requests: FakeImdsRequest[] = [];
  let notice: { action: FakeImdsAction; time: string } | null = null;
  let rebalance: string | null = null;

  const metadata = (path: string): string | null => {
    switch (path) {
      case '/latest/meta-data/spot/instance-action':
        return notice === null ? null : JSON.stringify(notice);
      case '/latest/meta-data/events/recommendations/rebalance':
        return rebalance === null ? null : JSON.stringify({ noticeTime: rebalance });
      case '/latest/meta-data/instance-id':
        return identity.instanceId;
      case '/latest/meta-data/instance-type':
        return identity.instanceType;
      case '/latest/meta-data/placement/availability-zone':
        return identity.availabilityZone;
      case '/latest/meta-data/instance-life-cycle':
        return identity.lifecycle;
      default:
        return null;
    }
  };

  function issueToken(req: IncomingMessage): [number, string] {
    const ttl = Number(req.headers[TOKEN_TTL_HEADER]);
    if (!Number.isInteger(ttl) || ttl < 1 || ttl > 21_600) return [400, 'bad token TTL'];
    for (const [t, expires] of tokens) if (expires <= now() || tokens.size >= MAX_TOKENS) tokens.delete(t);
    const token = randomBytes(24).toString('base64url');
    tokens.set(token, now() + ttl * 1_000);
    return [200, token];
  }

  async function control(req: IncomingMessage): Promise<[number, string]> {
    if (req.method === 'DELETE') {
      notice = null;
      rebalance = null;
      return [200, '{"ok":true}'];
    }
    if (req.method === 'GET') return [200, JSON.stringify({ notice, rebalance })];
    if (req.method !== 'POST') return [405, '{"error":"method not allowed"}'];
    let raw = '';
    for await (const chunk of req) {
      raw += String(chunk);
      if (raw.length > MAX_CONTROL_BODY_BYTES) return [413, '{"error":"body too large"}'];
    }
    let body: { kind?: unknown; inSeconds?: unknown };
    try {
      body = JSON.parse(raw) as typeof body;
    } catch {
      return [400, '{"error":"body must be JSON"}'];
    }
    const inSeconds = body.inSeconds ?? DEFAULT_NOTICE_SECONDS;
    if (typeof inSeconds !== 'number' || !Number.isFinite(inSeconds) || inSeconds < 0 || inSeconds > 86_400) {
      return [400, '{"error":"inSeconds must be 0..86400"}'];
    }
    if (body.kind === 'rebalance') rebalance = isoSeconds(now());
    else if (body.kind === 'terminate' || body.kind === 'stop' || body.kind === 'hibernate') {
      notice = { action: body.kind, time: isoSeconds(now() + inSeconds * 1_000) };
    } else return [400, '{"error":"kind must be terminate, stop, hibernate or rebalance"}'];
    return [200, JSON.stringify({ notice, rebalance })];
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = (req.url ?? '/').split('?')[0]!.replace(/\/{2,}/g, '/');
    if (path === FAKE_IMDS_CONTROL_PATH) {
      const [status, body] = await control(req);
      res.writeHead(status, { 'content-type': 'application/json' }).end(body);
      return;
    }
    let status: number;
    let body: string;
    if (path === '/latest/api/token') {
      [status, body] = req.method === 'PUT' ? issueToken(req) : [405, 'use PUT'];
    } else if (req.method !== 'GET') {
      [status, body] = [405, 'method not allowed'];
    } else {
      const token = req.headers[TOKEN_HEADER];
      const expires = typeof token === 'string' ? tokens.get(token) : undefined;
      const value = metadata(path);
      if (expires === undefined || expires <= now()) [status, body] = [401, 'Unauthorized'];
      else if (value === null) [status, body] = [404, 'Not Found'];
      else [status, body] = [200, value];
    }
    req.resume();
    if (requests.length < MAX_REQUESTS_KEPT) requests.push({ method: req.method ?? '', path, status });
    res.writeHead(status, { 'content-type': 'text/plain' }).end(body);
  }

  const server: Server = createServer((req, res) => {
    handle(req, res).catch(() => {
      if (!res.headersSent) res.writeHead(500).end();
    });
  });
  const host = options.host ?? '127.0.0.1';
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, host, () => resolve());
  });
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://${host}:${port}`,
    port,
    requests,
    setNotice: (next) => {
      notice = next;
    },
    setRebalance: (next) => {
      rebalance = next;
    },
    expireTokens: () => tokens.clear(),
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
