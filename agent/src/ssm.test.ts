import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { generateSwarmKey } from '@synkti/mesh';
import { fetchSwarmKeyFromSsm, SwarmKeySsmError } from './ssm.js';

const KEY = generateSwarmKey();
const credentials = { accessKeyId: 'AKIDTEST', secretAccessKey: 'secret' };

async function body(req: IncomingMessage): Promise<string> {
  let text = '';
  for await (const chunk of req) text += String(chunk);
  return text;
}

/** SSM's JSON 1.1 protocol, GetParameter only: known parameters answer, others are AccessDenied. */
describe('swarm key from SSM Parameter Store', () => {
  let server: Server;
  let endpoint: string;
  let dir: string;
  const requests: { target: string | undefined; body: Record<string, unknown> }[] = [];
  const values: Record<string, string> = { '/synkti/prod/swarm-key': KEY, '/synkti/bad': 'not a key' };

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'synkti-ssm-'));
    server = createServer(async (req, res) => {
      const parsed = JSON.parse(await body(req)) as Record<string, unknown>;
      const target = req.headers['x-amz-target'] as string | undefined;
      requests.push({ target, body: parsed });
      const value = values[parsed['Name'] as string];
      res.setHeader('content-type', 'application/x-amz-json-1.1');
      if (value === undefined) {
        res.statusCode = 400;
        res.end(JSON.stringify({ __type: 'AccessDeniedException', message: 'not authorized to perform: ssm:GetParameter' }));
        return;
      }
      res.end(JSON.stringify({ Parameter: { Name: parsed['Name'], Type: 'SecureString', Value: value, Version: 1 } }));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(async () => {
    server.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('fetches the SecureString with decryption and writes it with mode 0600', async () => {
    const path = join(dir, 'state', 'swarm.key');
    await fetchSwarmKeyFromSsm({ parameter: '/synkti/prod/swarm-key', path, region: 'us-east-1', endpoint, credentials });
    assert.equal(await readFile(path, 'utf8'), KEY);
    assert.equal((await stat(path)).mode & 0o777, 0o600);
    const last = requests.at(-1)!;
    assert.equal(last.target, 'AmazonSSM.GetParameter');
    assert.deepEqual(last.body, { Name: '/synkti/prod/swarm-key', WithDecryption: true });
  });

  it('refuses a value that is not a swarm key, and writes nothing', async () => {
    const path = join(dir, 'bad.key');
    await assert.rejects(fetchSwarmKeyFromSsm({ parameter: '/synkti/bad', path, region: 'us-east-1', endpoint, credentials }), (err: unknown) => err instanceof SwarmKeySsmError && /does not hold a swarm key/.test(err.message));
    await assert.rejects(stat(path));
  });

  it('names the parameter and the AWS error when the call fails', async () => {
    await assert.rejects(
      fetchSwarmKeyFromSsm({ parameter: '/synkti/other', path: join(dir, 'x.key'), region: 'us-east-1', endpoint, credentials }),
      (err: unknown) => err instanceof SwarmKeySsmError && err.code === 'SWARM_KEY_SSM' && /\/synkti\/other/.test(err.message) && /AccessDenied/.test(err.message),
    );
  });
});
