import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { type Logger, ManualClock } from '@synkti/interface';
import { type FakeImds, startFakeImds } from '../testing/fake-imds.js';
import { imdsClient } from './client.js';
import { instanceIdentity } from './identity.js';
import type { ImdsNotice } from './notice.js';
import { type ImdsWatcher, imdsWatcher } from './watcher.js';

interface LogLine {
  level: string;
  msg: string | undefined;
  obj: object;
}

function recordingLogger(lines: LogLine[]): Logger {
  const at =
    (level: string) =>
    (obj: object, msg?: string): void => {
      lines.push({ level, msg, obj });
    };
  const logger: Logger = { child: () => logger, debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') };
  return logger;
}

describe('IMDS watcher against a fake IMDS', () => {
  let imds: FakeImds;
  let clock: ManualClock;
  let watcher: ImdsWatcher;
  let client: ReturnType<typeof imdsClient>;
  let events: ImdsNotice[];
  let logs: LogLine[];

  /** Fires the next poll on the manual clock and waits for it to finish. */
  async function nextPoll(): Promise<void> {
    clock.advance(2_000);
    await watcher.settled();
  }

  beforeEach(async () => {
    imds = await startFakeImds();
    clock = new ManualClock(1_000_000);
    events = [];
    logs = [];
    client = imdsClient({ endpoint: imds.url, requestTimeoutMs: 2_000 }, { clock });
    watcher = imdsWatcher({ endpoint: imds.url }, { clock, client, logger: recordingLogger(logs) });
    watcher.onNotice((n) => events.push(n));
    await watcher.start();
    await watcher.settled();
  });

  afterEach(async () => {
    await watcher.stop();
    assert.equal(clock.pendingTimers, 0, 'stop clears the poll timer');
    await imds.close();
  });

  it('reads 404 as no notice and reuses its token between polls', async () => {
    await nextPoll();
    assert.deepEqual(events, []);
    assert.equal(imds.requests.filter((r) => r.method === 'PUT').length, 1);
    const noticePaths = ['/latest/meta-data/spot/instance-action', '/latest/meta-data/events/recommendations/rebalance'];
    assert.deepEqual(
      imds.requests.filter((r) => r.method === 'GET' && noticePaths.includes(r.path)).map((r) => r.status),
      [404, 404, 404, 404],
    );
    assert.ok(imds.requests.some((r) => r.path === '/latest/meta-data/spot/instance-action'));
    assert.ok(imds.requests.some((r) => r.path === '/latest/meta-data/events/recommendations/rebalance'));
    assert.equal(logs.filter((l) => l.level === 'warn').length, 0);
  });

  it('emits a termination notice once, with its deadline, and a new one when it changes', async () => {
    imds.setNotice({ action: 'terminate', time: '2026-11-23T08:22:00Z' });
    await nextPoll();
    await nextPoll();
    assert.deepEqual(events, [{ kind: 'terminate', deadline: Date.parse('2026-11-23T08:22:00Z'), noticedAt: 1_002_000 }]);
    imds.setNotice({ action: 'stop', time: '2026-11-23T09:00:00Z' });
    await nextPoll();
    assert.equal(events.length, 2);
    assert.equal(events[1]!.kind, 'stop');
    assert.deepEqual(watcher.notices, events);
  });

  it('emits a rebalance recommendation once, without a deadline', async () => {
    imds.setRebalance('2026-11-23T08:17:00Z');
    await nextPoll();
    await nextPoll();
    assert.deepEqual(events, [{ kind: 'rebalance', deadline: null, noticedAt: 1_002_000 }]);
  });

  it('fetches a new token after a 401 and reads on', async () => {
    const fetches = client.tokenFetches;
    imds.expireTokens();
    imds.setNotice({ action: 'terminate', time: '2026-11-23T08:22:00Z' });
    await nextPoll();
    assert.equal(events.length, 1);
    assert.ok(imds.requests.some((r) => r.status === 401));
    assert.ok(client.tokenFetches > fetches);
    assert.equal(logs.filter((l) => l.level === 'warn' && l.msg !== 'interruption notice').length, 0);
  });

  it('refreshes its token before the TTL ends', async () => {
    const fetches = client.tokenFetches;
    clock.advance(6 * 3_600_000 - 60_000);
    await watcher.settled();
    await nextPoll();
    assert.equal(client.tokenFetches, fetches + 1);
  });

  it('logs when IMDS is down and keeps polling until it is back', async () => {
    const port = imds.port;
    await imds.close();
    await nextPoll();
    await nextPoll();
    const failures = logs.filter((l) => l.msg === 'IMDS poll failed; will retry');
    assert.ok(failures.length >= 2);
    assert.equal(failures.filter((l) => l.level === 'warn').length, 2, 'one warning per path, then debug');
    imds = await startFakeImds({ port });
    imds.setNotice({ action: 'terminate', time: '2026-11-23T08:22:00Z' });
    await nextPoll();
    assert.equal(events.length, 1);
    assert.ok(logs.some((l) => l.msg === 'IMDS answers again'));
  });

  it('logs a malformed notice and keeps polling', async () => {
    imds.setNotice({ action: 'explode' as 'stop', time: 'soon' });
    await nextPoll();
    assert.deepEqual(events, []);
    assert.ok(logs.some((l) => l.level === 'warn' && l.msg === 'IMDS poll failed; will retry'));
    imds.setNotice({ action: 'stop', time: '2026-11-23T08:22:00Z' });
    await nextPoll();
    assert.equal(events.length, 1);
  });

  it('takes a notice from another process through POST /_synkti/notice', async () => {
    const before = Date.now();
    const res = await fetch(`${imds.url}/_synkti/notice`, {
      method: 'POST',
      body: JSON.stringify({ kind: 'stop', inSeconds: 30 }),
      signal: AbortSignal.timeout(2_000),
    });
    assert.equal(res.status, 200);
    await res.body?.cancel();
    await nextPoll();
    assert.equal(events.length, 1);
    assert.equal(events[0]!.kind, 'stop');
    const deadline = events[0]!.deadline!;
    assert.ok(deadline >= Math.floor(before / 1_000) * 1_000 + 29_000 && deadline <= Date.now() + 30_000, `deadline ${deadline}`);

    const rebalance = await fetch(`${imds.url}/_synkti/notice`, { method: 'POST', body: '{"kind":"rebalance"}', signal: AbortSignal.timeout(2_000) });
    await rebalance.body?.cancel();
    await nextPoll();
    assert.deepEqual(
      events.map((e) => e.kind),
      ['stop', 'rebalance'],
    );
    const bad = await fetch(`${imds.url}/_synkti/notice`, { method: 'POST', body: '{"kind":"nuke"}', signal: AbortSignal.timeout(2_000) });
    assert.equal(bad.status, 400);
    await bad.body?.cancel();
    const cleared = await fetch(`${imds.url}/_synkti/notice`, { method: 'DELETE', signal: AbortSignal.timeout(2_000) });
    await cleared.body?.cancel();
    await nextPoll();
    assert.equal(imds.requests.at(-1)!.status, 404);
  });

  it('is harmless to start twice and to stop twice', async () => {
    await watcher.start();
    assert.equal(clock.pendingTimers, 1);
    await watcher.stop();
    await watcher.stop();
    assert.equal(clock.pendingTimers, 0);
  });
});

describe('instance identity', () => {
  it('reads instance ID, type, zone, lifecycle and region through IMDSv2', async () => {
    const imds = await startFakeImds({
      identity: { instanceId: 'i-0123', instanceType: 'g6.xlarge', availabilityZone: 'eu-west-1b', lifecycle: 'on-demand' },
    });
    try {
      const identity = await instanceIdentity({ endpoint: imds.url });
      assert.deepEqual(identity, { instanceId: 'i-0123', instanceType: 'g6.xlarge', availabilityZone: 'eu-west-1b', lifecycle: 'on-demand', region: 'eu-west-1' });
      assert.equal(imds.requests.filter((r) => r.method === 'PUT').length, 1, 'one token for all five reads');
    } finally {
      await imds.close();
    }
  });

  it('fails with IMDS_FAILED when IMDS cannot be reached', async () => {
    const imds = await startFakeImds();
    const url = imds.url;
    await imds.close();
    await assert.rejects(instanceIdentity({ endpoint: url, requestTimeoutMs: 500 }), { code: 'IMDS_FAILED' });
  });
});
