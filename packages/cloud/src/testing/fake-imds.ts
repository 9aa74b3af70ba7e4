import { randomBytes } from 'node:crypto';
import { type IncomingMessage, type Server, type ServerResponse, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

export type FakeImdsAction = 'terminate' | 'stop' | 'hibernate';

export interface FakeImdsIdentity {
  instanceId: string;
  instanceType: string;
  availabilityZone: string;
  lifecycle: 'spot' | 'on-demand';
  /** `placement/region`; absent: the zone's Region (`us-east-1a` → `us-east-1`). */
  region?: string;
  /** The instance's tags, served under `tags/instance/` as when the instance allows tags in metadata; absent: those paths answer 404, as when it does not. */
  tags?: Record<string, string>;
}

/** One entry of `events/maintenance/scheduled`, in IMDS's shape (times as `21 Jan 2019 09:00:43 GMT`). */
export interface FakeMaintenanceEvent {
  Code: 'instance-reboot' | 'system-reboot' | 'system-maintenance' | 'instance-retirement' | 'instance-stop';
  Description: string;
  NotBefore: string;
  NotAfter?: string;
  EventId: string;
  State: 'active' | 'completed' | 'canceled';
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
  /** What `events/maintenance/scheduled` lists (`[]` until set). */
  setMaintenanceEvents(events: FakeMaintenanceEvent[]): void;
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
/** Control route of the scheduled maintenance events: POST a JSON array, DELETE clears, GET reads. */
export const FAKE_IMDS_MAINTENANCE_PATH = '/_synkti/maintenance';
/** Maintenance events kept: EC2 schedules a few per instance. */
const MAX_MAINTENANCE_EVENTS = 100;
const MAX_MAINTENANCE_BODY_BYTES = 64 * 1024;
/** EC2's limit of user tags per resource. */
const MAX_TAGS = 50;
/** Tag keys IMDS can serve: no spaces or '/', not '.', '..' or '_index' (instance tags in metadata). */
const IMDS_TAG_KEY = /^[A-Za-z0-9+\-=.,_:@]{1,128}$/;
const EVENT_CODES = new Set(['instance-reboot', 'system-reboot', 'system-maintenance', 'instance-retirement', 'instance-stop']);
const EVENT_STATES = new Set(['active', 'completed', 'canceled']);

/** EC2 writes notice times to the second. */
function isoSeconds(ms: number): string {
  return new Date(Math.floor(ms / 1_000) * 1_000).toISOString().replace('.000Z', 'Z');
}

/**
 * A fake instance metadata service (IMDSv2 only) for tests and local fleets: PUT
 * /latest/api/token issues a token with the requested TTL, GETs without a valid token get
 * 401, the notice paths answer 404 until a notice is set. Control: the methods above, or over
 * HTTP from another process — `POST /_synkti/notice` with `{"kind":"terminate"|"stop"|
 * "hibernate"|"rebalance","inSeconds"?:n}`, `DELETE /_synkti/notice` clears both notices;
 * `POST /_synkti/maintenance` with a JSON array sets `events/maintenance/scheduled`, DELETE
 * empties it. Also served: `placement/region` and, when the identity has tags, `tags/instance/`.
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
  const tags = identity.tags === undefined ? null : checkTags(identity.tags);
  const region = identity.region ?? /^[a-z]{2}(-[a-z]+)+-[0-9]+/.exec(identity.availabilityZone)?.[0] ?? identity.availabilityZone;
  const tokens = new Map<string, number>();
  const requests: FakeImdsRequest[] = [];
  let notice: { action: FakeImdsAction; time: string } | null = null;
  let rebalance: string | null = null;
  let maintenance: FakeMaintenanceEvent[] = [];

  const metadata = (path: string): string | null => {
    if (path === '/latest/meta-data/tags/instance' || path === '/latest/meta-data/tags/instance/') {
      return tags === null ? null : [...tags.keys()].join('\n');
    }
    if (path.startsWith('/latest/meta-data/tags/instance/')) {
      return tags?.get(decodeURIComponent(path.slice('/latest/meta-data/tags/instance/'.length))) ?? null;
    }
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
      case '/latest/meta-data/placement/region':
        return region;
      case '/latest/meta-data/events/maintenance/scheduled':
        return JSON.stringify(maintenance);
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

  async function maintenanceControl(req: IncomingMessage): Promise<[number, string]> {
    if (req.method === 'DELETE') maintenance = [];
    else if (req.method === 'POST') {
      const raw = await readBody(req, MAX_MAINTENANCE_BODY_BYTES);
      if (raw === null) return [413, '{"error":"body too large"}'];
      try {
        maintenance = checkEvents(JSON.parse(raw) as unknown);
      } catch (err) {
        return [400, JSON.stringify({ error: (err as Error).message })];
      }
    } else if (req.method !== 'GET') return [405, '{"error":"method not allowed"}'];
    return [200, JSON.stringify(maintenance)];
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = (req.url ?? '/').split('?')[0]!.replace(/\/{2,}/g, '/');
    if (path === FAKE_IMDS_CONTROL_PATH || path === FAKE_IMDS_MAINTENANCE_PATH) {
      const [status, body] = path === FAKE_IMDS_CONTROL_PATH ? await control(req) : await maintenanceControl(req);
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
    setMaintenanceEvents: (events) => {
      maintenance = checkEvents(events);
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

async function readBody(req: IncomingMessage, limit: number): Promise<string | null> {
  let raw = '';
  for await (const chunk of req) {
    raw += String(chunk);
    if (raw.length > limit) return null;
  }
  return raw;
}

function checkTags(tags: Record<string, string>): Map<string, string> {
  const entries = Object.entries(tags);
  if (entries.length > MAX_TAGS) throw new Error(`more than ${MAX_TAGS} tags`);
  for (const [key] of entries) {
    if (!IMDS_TAG_KEY.test(key) || key === '.' || key === '..' || key === '_index') throw new Error(`IMDS cannot serve the tag key ${JSON.stringify(key)}`);
  }
  return new Map(entries);
}

function checkEvents(value: unknown): FakeMaintenanceEvent[] {
  if (!Array.isArray(value)) throw new Error('maintenance events must be a JSON array');
  if (value.length > MAX_MAINTENANCE_EVENTS) throw new Error(`more than ${MAX_MAINTENANCE_EVENTS} maintenance events`);
  return value.map((e: Partial<Record<keyof FakeMaintenanceEvent, unknown>>, i) => {
    const text = (k: keyof FakeMaintenanceEvent): boolean => typeof e?.[k] === 'string';
    if (!EVENT_CODES.has(e?.Code as string)) throw new Error(`event ${i}: Code must be one of ${[...EVENT_CODES].join(', ')}`);
    if (!EVENT_STATES.has(e.State as string)) throw new Error(`event ${i}: State must be active, completed or canceled`);
    if (!text('Description') || !text('NotBefore') || !text('EventId') || (e.NotAfter !== undefined && !text('NotAfter'))) {
      throw new Error(`event ${i}: Description, NotBefore and EventId must be strings (NotAfter too, when given)`);
    }
    return { ...(e as FakeMaintenanceEvent) };
  });
}

/** IMDS writes maintenance times as `21 Jan 2019 09:00:43 GMT`. */
export function imdsEventTime(ms: number): string {
  const d = new Date(ms);
  const month = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'][d.getUTCMonth()]!;
  const pad = (n: number): string => String(n).padStart(2, '0');
  return `${d.getUTCDate()} ${month} ${d.getUTCFullYear()} ${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())} GMT`;
}
