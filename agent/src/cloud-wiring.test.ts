import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import type { Ec2Provider } from '@synkti/cloud';
import { silentLogger, systemClock } from '@synkti/interface';
import { wireCloud } from './cloud-wiring.js';
import { loadConfig } from './config/index.js';

/** An IMDSv2 stand-in for a node in a Local Zone: its zone is not its region plus a letter. */
function tinyImds(paths: Map<string, string>): Server {
  return createServer((req, res) => {
    req.resume();
    const path = (req.url ?? '/').replace(/^\/+/, '');
    if (req.method === 'PUT' && path === 'latest/api/token') return void res.writeHead(200).end('t');
    if (req.headers['x-aws-ec2-metadata-token'] !== 't') return void res.writeHead(401).end();
    const body = paths.get(path);
    if (body === undefined) return void res.writeHead(404).end();
    res.writeHead(200).end(body);
  });
}

describe('wireCloud: the EC2 region', () => {
  const paths = new Map([
    ['latest/meta-data/instance-id', 'i-0lax'],
    ['latest/meta-data/instance-type', 'g6.xlarge'],
    ['latest/meta-data/placement/availability-zone', 'us-west-2-lax-1a'],
    ['latest/meta-data/instance-life-cycle', 'spot'],
    ['latest/meta-data/placement/region', 'us-west-2'],
  ]);
  const server = tinyImds(paths);
  let env: Record<string, string>;

  before(async () => {
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    env = {
      SYNKTI_PROVIDER: 'ec2',
      SYNKTI_EC2_LAUNCH_TEMPLATE: 'lt-0123456789abcdef0',
      SYNKTI_PLACEMENTS: 'g6.xlarge@subnet-0a1b2c3d4e5f60001',
      SYNKTI_IMDS_ENDPOINT: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    };
  });
  after(async () => {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  async function regionOf(extra: Record<string, string> = {}): Promise<{ region: string; zone: string | null }> {
    const wiring = await wireCloud(await loadConfig({ env: { ...env, ...extra } }), { clock: systemClock, logger: silentLogger });
    const provider = wiring.provider as Ec2Provider;
    provider.close();
    return { region: provider.config.region, zone: wiring.providerInfo.zone };
  }

  it('takes the region IMDS states (a Local Zone is not its region plus a letter)', async () => {
    assert.deepEqual(await regionOf(), { region: 'us-west-2', zone: 'us-west-2-lax-1a' });
  });

  it('lets the configured region override it', async () => {
    assert.equal((await regionOf({ SYNKTI_EC2_REGION: 'eu-west-1' })).region, 'eu-west-1');
  });

  it('asks for ec2Region when IMDS cannot tell the region, rather than guessing from the zone', async () => {
    paths.delete('latest/meta-data/placement/region');
    try {
      await assert.rejects(regionOf(), (err: Error & { code?: string }) => err.code === 'CONFIG_INVALID' && /ec2Region/.test(err.message));
    } finally {
      paths.set('latest/meta-data/placement/region', 'us-west-2');
    }
  });
});
