import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { warmupCompletion } from './probe.js';

/**
 * A base model's server: no chat template, so vLLM answers a chat request with 400; plain
 * completions work. `completionStatus` lets a test make those fail too.
 */
describe('warm-up', () => {
  let server: Server;
  let url = '';
  let completionStatus = 200;
  const seen: { path: string; body: Record<string, unknown> }[] = [];
  before(async () => {
    server = createServer((req, res) => {
      let raw = '';
      req.on('data', (c: Buffer) => (raw += c.toString()));
      req.on('end', () => {
        seen.push({ path: req.url ?? '', body: JSON.parse(raw || '{}') as Record<string, unknown> });
        const status = req.url === '/v1/chat/completions' ? 400 : completionStatus;
        res.writeHead(status, { 'content-type': 'application/json' }).end(status === 200 ? '{"choices":[{"text":"x"}]}' : '{"error":{"message":"no chat template"}}');
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(() => server.close());

  it('warms a base model without a chat template: one token through /v1/completions', async () => {
    assert.equal(await warmupCompletion(fetch, url, 'base-model', 5_000), true);
    assert.deepEqual(seen.at(-1), { path: '/v1/completions', body: { model: 'base-model', prompt: 'hi', max_tokens: 1 } });
  });

  it('reports a failed warm-up as not warm', async () => {
    completionStatus = 500;
    assert.equal(await warmupCompletion(fetch, url, 'base-model', 5_000), false);
  });
});
