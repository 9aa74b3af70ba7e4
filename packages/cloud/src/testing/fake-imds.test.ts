import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { imdsClient } from '../imds/client.js';
import { FAKE_IMDS_MAINTENANCE_PATH, type FakeImds, type FakeImdsOptions, type FakeMaintenanceEvent, imdsEventTime, startFakeImds } from './fake-imds.js';

async function withImds(options: FakeImdsOptions, fn: (imds: FakeImds, get: (path: string) => Promise<[number, string]>) => Promise<void>): Promise<void> {
  const imds = await startFakeImds(options);
  const token = await (await fetch(`${imds.url}/latest/api/token`, { method: 'PUT', headers: { 'x-aws-ec2-metadata-token-ttl-seconds': '60' } })).text();
  const get = async (path: string): Promise<[number, string]> => {
    const res = await fetch(`${imds.url}${path}`, { headers: { 'x-aws-ec2-metadata-token': token } });
    return [res.status, await res.text()];
  };
  try {
    await fn(imds, get);
  } finally {
    await imds.close();
  }
}

const EVENT: FakeMaintenanceEvent = {
  Code: 'system-reboot',
  Description: 'scheduled reboot',
  NotBefore: '21 Jan 2019 09:00:43 GMT',
  NotAfter: '21 Jan 2019 09:17:23 GMT',
  EventId: 'instance-event-0d59937288b749b32',
  State: 'active',
};

describe('fake IMDS: tags, region and scheduled maintenance', () => {
  it('serves tags/instance/ keys one per line and each value, when the instance has tags in metadata', () =>
    withImds({ identity: { tags: { 'synkti:fleet': 'f1', 'synkti:slot': '3' } } }, async (_imds, get) => {
      assert.deepEqual(await get('/latest/meta-data/tags/instance'), [200, 'synkti:fleet\nsynkti:slot']);
      assert.deepEqual(await get('/latest/meta-data/tags/instance/'), [200, 'synkti:fleet\nsynkti:slot']);
      assert.deepEqual(await get('/latest/meta-data/tags/instance/synkti:slot'), [200, '3']);
      assert.equal((await get('/latest/meta-data/tags/instance/absent'))[0], 404);
    }));

  it('answers 404 under tags/instance when the instance has no tags in metadata', () =>
    withImds({}, async (_imds, get) => {
      assert.equal((await get('/latest/meta-data/tags/instance'))[0], 404);
      assert.equal((await get('/latest/meta-data/tags/instance/Name'))[0], 404);
    }));

  it('refuses tag keys IMDS cannot serve (a slash, a space)', async () => {
    await assert.rejects(startFakeImds({ identity: { tags: { 'a/b': 'x' } } }), /tag key/);
    await assert.rejects(startFakeImds({ identity: { tags: { 'a b': 'x' } } }), /tag key/);
  });

  it('serves placement/region, from the zone or as given', async () => {
    await withImds({ identity: { availabilityZone: 'eu-west-1b' } }, async (_imds, get) => {
      assert.deepEqual(await get('/latest/meta-data/placement/region'), [200, 'eu-west-1']);
    });
    await withImds({ identity: { availabilityZone: 'us-west-2-lax-1a', region: 'us-west-2' } }, async (_imds, get) => {
      assert.deepEqual(await get('/latest/meta-data/placement/region'), [200, 'us-west-2']);
    });
  });

  it('serves events/maintenance/scheduled: [] by default, then what the method or the control route sets', () =>
    withImds({}, async (imds, get) => {
      assert.deepEqual(await get('/latest/meta-data/events/maintenance/scheduled'), [200, '[]']);
      imds.setMaintenanceEvents([EVENT]);
      const [status, body] = await get('/latest/meta-data/events/maintenance/scheduled');
      assert.equal(status, 200);
      assert.deepEqual(JSON.parse(body), [EVENT]);

      const retirement = { ...EVENT, Code: 'instance-retirement', EventId: 'instance-event-1', NotBefore: imdsEventTime(Date.UTC(2026, 0, 2, 3, 4, 5)) };
      const posted = await fetch(`${imds.url}${FAKE_IMDS_MAINTENANCE_PATH}`, { method: 'POST', body: JSON.stringify([retirement]) });
      assert.equal(posted.status, 200);
      assert.equal(retirement.NotBefore, '2 Jan 2026 03:04:05 GMT');
      assert.deepEqual(JSON.parse((await get('/latest/meta-data/events/maintenance/scheduled'))[1]), [retirement]);

      const bad = await fetch(`${imds.url}${FAKE_IMDS_MAINTENANCE_PATH}`, { method: 'POST', body: JSON.stringify([{ ...EVENT, Code: 'reboot-soon' }]) });
      assert.equal(bad.status, 400);
      assert.equal((await fetch(`${imds.url}${FAKE_IMDS_MAINTENANCE_PATH}`, { method: 'DELETE' })).status, 200);
      assert.deepEqual(await get('/latest/meta-data/events/maintenance/scheduled'), [200, '[]']);
      // Control routes are not instance requests.
      assert.ok(imds.requests.every((r) => !r.path.startsWith('/_synkti')));
    }));

  it('keeps IMDSv2: a read without a token is 401', () =>
    withImds({ identity: { tags: { Name: 'n' } } }, async (imds) => {
      assert.equal((await fetch(`${imds.url}/latest/meta-data/tags/instance/Name`)).status, 401);
      assert.equal((await fetch(`${imds.url}/latest/meta-data/events/maintenance/scheduled`)).status, 401);
    }));

  it('is readable through the product IMDS client', () =>
    withImds({ identity: { tags: { 'synkti:fleet': 'f9' } } }, async (imds) => {
      const client = imdsClient({ endpoint: imds.url });
      assert.equal(await client.get('latest/meta-data/tags/instance/synkti:fleet'), 'f9');
      assert.equal(await client.get('latest/meta-data/events/maintenance/scheduled'), '[]');
    }));
});
