import assert from 'node:assert/strict';
import { type IncomingMessage, type Server, type ServerResponse, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { type Logger, ManualClock } from '@synkti/interface';
import { imdsClient } from './client.js';
import { instanceIdentity } from './identity.js';
import { IMDS_PATH_MAINTENANCE_SCHEDULED, type ImdsNotice, parseScheduledMaintenance } from './notice.js';
import { IMDS_MAINTENANCE_POLL_INTERVAL_MS, type ImdsWatcher, imdsWatcher } from './watcher.js';

/** AWS's documented example of `events/maintenance/scheduled`. */
const SYSTEM_REBOOT = {
  NotBefore: '21 Jan 2019 09:00:43 GMT',
  Code: 'system-reboot',
  Description: 'scheduled reboot',
  EventId: 'instance-event-0d59937288b749b32',
  NotAfter: '21 Jan 2019 09:17:23 GMT',
  State: 'active',
};

/**
 * A tiny IMDSv2 of our own (the shared fake IMDS belongs to another suite): PUT issues a token,
 * GETs without it get 401, each path answers what `routes` holds (404 when absent), and a
 * path set to 'hang' never answers.
 */
interface TinyImds {
  url: string;
  routes: Map<string, string | 'hang'>;
  gets: string[];
  close(): Promise<void>;
}

async function startTinyImds(): Promise<TinyImds> {
  const routes = new Map<string, string | 'hang'>();
  const gets: string[] = [];
  const hanging = new Set<ServerResponse>();
  const server: Server = createServer((req: IncomingMessage, res: ServerResponse) => {
    req.resume();
    const path = (req.url ?? '/').replace(/^\/+/, '');
    if (req.method === 'PUT' && path === 'latest/api/token') return void res.writeHead(200).end('tiny-token');
    if (req.headers['x-aws-ec2-metadata-token'] !== 'tiny-token') return void res.writeHead(401).end();
    gets.push(path);
    const body = routes.get(path);
    if (body === 'hang') return void hanging.add(res);
    if (body === undefined) return void res.writeHead(404).end('Not Found');
    res.writeHead(200, { 'content-type': 'text/plain' }).end(body);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    routes,
    gets,
    close: () =>
      new Promise<void>((resolve) => {
        for (const res of hanging) res.destroy();
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

function recordingLogger(lines: { level: string; msg: string | undefined; obj: object }[]): Logger {
  const at = (level: string) => (obj: object, msg?: string) => void lines.push({ level, msg, obj });
  const logger: Logger = { child: () => logger, debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') };
  return logger;
}

describe('parseScheduledMaintenance', () => {
  it('turns an active reboot, stop, retirement or maintenance event into a rebalance-kind notice, keyed by its event ID', () => {
    const [parsed, ...rest] = parseScheduledMaintenance(JSON.stringify([SYSTEM_REBOOT]), 5);
    assert.deepEqual(rest, []);
    assert.deepEqual(parsed, {
      key: 'maintenance@instance-event-0d59937288b749b32',
      notice: { kind: 'rebalance', deadline: Date.UTC(2019, 0, 21, 9, 0, 43), noticedAt: 5, reason: 'maintenance system-reboot instance-event-0d59937288b749b32' },
    });
    for (const Code of ['instance-stop', 'instance-retirement', 'instance-reboot', 'system-maintenance']) {
      assert.equal(parseScheduledMaintenance(JSON.stringify([{ ...SYSTEM_REBOOT, Code }]), 0).length, 1, Code);
    }
  });

  it('ignores events that are over, codes it does not know, and an empty listing', () => {
    const body = JSON.stringify([
      { ...SYSTEM_REBOOT, State: 'completed' },
      { ...SYSTEM_REBOOT, State: 'canceled', EventId: 'instance-event-2' },
      { ...SYSTEM_REBOOT, Code: 'system-upgrade-of-the-future', EventId: 'instance-event-3' },
    ]);
    assert.deepEqual(parseScheduledMaintenance(body, 0), []);
    assert.deepEqual(parseScheduledMaintenance('[]', 0), []);
    assert.deepEqual(parseScheduledMaintenance('\n', 0), []);
  });

  it('keeps an event whose start does not parse (no countdown), and keys one without an ID by code and start', () => {
    const [parsed] = parseScheduledMaintenance(JSON.stringify([{ Code: 'instance-stop', NotBefore: 'soon', State: 'active' }]), 0);
    assert.equal(parsed!.notice.deadline, null);
    assert.equal(parsed!.key, 'maintenance@instance-stop@soon');
  });

  it('refuses what is not a JSON array of objects (IMDS_FAILED)', () => {
    assert.throws(() => parseScheduledMaintenance('{"Code":"system-reboot"}', 0), { code: 'IMDS_FAILED' });
    assert.throws(() => parseScheduledMaintenance('not json', 0), { code: 'IMDS_FAILED' });
    assert.throws(() => parseScheduledMaintenance('[1]', 0), { code: 'IMDS_FAILED' });
  });
});

describe('IMDS watcher: scheduled maintenance (tiny IMDS)', () => {
  let imds: TinyImds;
  let clock: ManualClock;
  let watcher: ImdsWatcher;
  let events: ImdsNotice[];
  let logs: { level: string; msg: string | undefined; obj: object }[];
  const maintenanceGets = () => imds.gets.filter((p) => p === IMDS_PATH_MAINTENANCE_SCHEDULED).length;

  async function advance(ms: number): Promise<void> {
    for (let left = ms; left > 0; left -= 2_000) {
      clock.advance(Math.min(2_000, left));
      await watcher.settled();
    }
  }

  beforeEach(async () => {
    imds = await startTinyImds();
    clock = new ManualClock(1_000_000);
    events = [];
    logs = [];
    const client = imdsClient({ endpoint: imds.url, requestTimeoutMs: 2_000 }, { clock });
    watcher = imdsWatcher({ endpoint: imds.url, requestTimeoutMs: 100 }, { clock, client, logger: recordingLogger(logs) });
    watcher.onNotice((n) => events.push(n));
  });

  afterEach(async () => {
    await watcher.stop();
    assert.equal(clock.pendingTimers, 0);
    await imds.close();
  });

  it('polls maintenance at start and then every minute, while the spot paths keep their 2 s cadence', async () => {
    await watcher.start();
    await watcher.settled();
    assert.equal(maintenanceGets(), 1, 'at start');
    await advance(IMDS_MAINTENANCE_POLL_INTERVAL_MS - 2_000);
    assert.equal(maintenanceGets(), 1, 'not before a minute has passed');
    assert.equal(imds.gets.filter((p) => p === 'latest/meta-data/spot/instance-action').length, 30);
    await advance(2_000);
    assert.equal(maintenanceGets(), 2, 'again after a minute');
    assert.deepEqual(events, []);
  });

  it('emits an active scheduled reboot once, as a rebalance with the window start as deadline, and a new event again', async () => {
    imds.routes.set(IMDS_PATH_MAINTENANCE_SCHEDULED, JSON.stringify([SYSTEM_REBOOT]));
    await watcher.start();
    await watcher.settled();
    await advance(2 * IMDS_MAINTENANCE_POLL_INTERVAL_MS);
    assert.equal(maintenanceGets(), 3);
    assert.deepEqual(events, [
      { kind: 'rebalance', deadline: Date.parse(SYSTEM_REBOOT.NotBefore), noticedAt: 1_000_000, reason: `maintenance system-reboot ${SYSTEM_REBOOT.EventId}` },
    ]);
    imds.routes.set(IMDS_PATH_MAINTENANCE_SCHEDULED, JSON.stringify([{ ...SYSTEM_REBOOT, State: 'completed' }, { ...SYSTEM_REBOOT, Code: 'instance-retirement', EventId: 'instance-event-2' }]));
    await advance(IMDS_MAINTENANCE_POLL_INTERVAL_MS);
    assert.deepEqual(
      events.map((e) => e.reason),
      [`maintenance system-reboot ${SYSTEM_REBOOT.EventId}`, 'maintenance instance-retirement instance-event-2'],
    );
    assert.ok(events.every((e) => e.kind === 'rebalance'), 'the node keeps serving: never a stop or terminate');
  });

  it('gives up on a maintenance poll that hangs at its deadline, logs it, and recovers', async () => {
    imds.routes.set(IMDS_PATH_MAINTENANCE_SCHEDULED, 'hang');
    await watcher.start();
    const started = Date.now();
    await watcher.settled();
    assert.ok(Date.now() - started < 2_000, `the hung poll ended by its deadline (${Date.now() - started} ms)`);
    assert.ok(logs.some((l) => l.level === 'warn' && l.msg === 'IMDS poll failed; will retry' && (l.obj as { path?: string }).path === IMDS_PATH_MAINTENANCE_SCHEDULED));
    imds.routes.set(IMDS_PATH_MAINTENANCE_SCHEDULED, JSON.stringify([SYSTEM_REBOOT]));
    await advance(IMDS_MAINTENANCE_POLL_INTERVAL_MS);
    assert.equal(events.length, 1);
    assert.ok(logs.some((l) => l.msg === 'IMDS answers again'));
  });
});

describe('instance identity: region', () => {
  it('reads the region IMDS states, not the zone minus a letter (a Local Zone)', async () => {
    const imds = await startTinyImds();
    try {
      imds.routes.set('latest/meta-data/instance-id', 'i-0123');
      imds.routes.set('latest/meta-data/instance-type', 'g6.xlarge');
      imds.routes.set('latest/meta-data/placement/availability-zone', 'us-west-2-lax-1a');
      imds.routes.set('latest/meta-data/instance-life-cycle', 'spot');
      imds.routes.set('latest/meta-data/placement/region', 'us-west-2\n');
      const identity = await instanceIdentity({ endpoint: imds.url });
      assert.equal(identity.availabilityZone, 'us-west-2-lax-1a');
      assert.equal(identity.region, 'us-west-2');
      imds.routes.delete('latest/meta-data/placement/region');
      assert.ok(!('region' in (await instanceIdentity({ endpoint: imds.url }))), 'absent when IMDS has no such path');
    } finally {
      await imds.close();
    }
  });
});
