#!/usr/bin/env node
/**
 * A minimal stand-in for the fake vLLM engine, used by these tests only when
 * packages/fake-vllm/dist/cli.js is not built. Same flags (a subset) and endpoints:
 * --port --model --load-ms --load-mode 503|closed --crash-after-ms; GET /health, /v1/models,
 * /metrics; POST /v1/chat/completions, /_fake/faults {crash|hang}.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { parseArgs } from 'node:util';

const { values } = parseArgs({
  options: {
    host: { type: 'string', default: '127.0.0.1' },
    port: { type: 'string' },
    model: { type: 'string', default: 'fake-model' },
    'load-ms': { type: 'string', default: '0' },
    'load-mode': { type: 'string', default: '503' },
    'crash-after-ms': { type: 'string' },
  },
  strict: false,
});
const model = String(values.model);
const loadMs = Number(values['load-ms']);
let loaded = false;
let hung = false;

const send = (res: ServerResponse, status: number, body: string, type = 'application/json'): void => {
  res.writeHead(status, { 'content-type': type });
  res.end(body);
};

const readBody = (req: IncomingMessage): Promise<string> =>
  new Promise((resolve) => {
    let body = '';
    req.on('data', (c: Buffer) => {
      body += c.toString('utf8');
    });
    req.on('end', () => resolve(body));
  });

const server = createServer(async (req, res) => {
  if (req.url === '/_fake/faults' && req.method === 'POST') {
    const patch = JSON.parse(await readBody(req)) as { crash?: boolean; hang?: boolean };
    send(res, 200, '{}');
    if (patch.crash) setImmediate(() => process.exit(1));
    if (patch.hang) hung = true;
    return;
  }
  if (hung) return; // never answer
  if (!loaded) return send(res, 503, '{"error":"loading"}');
  switch (req.url) {
    case '/health':
      return send(res, 200, '');
    case '/v1/models':
      return send(res, 200, JSON.stringify({ object: 'list', data: [{ id: model, object: 'model', owned_by: 'vllm' }] }));
    case '/metrics':
      return send(
        res,
        200,
        `# TYPE vllm:num_requests_running gauge\nvllm:num_requests_running{engine="0",model_name="${model}"} 0.0\n` +
          `vllm:num_requests_waiting{engine="0",model_name="${model}"} 0.0\n` +
          `vllm:kv_cache_usage_perc{engine="0",model_name="${model}"} 0.0\n`,
        'text/plain; version=0.0.4',
      );
    case '/v1/chat/completions':
      await readBody(req);
      return send(res, 200, JSON.stringify({ object: 'chat.completion', model, choices: [{ index: 0, message: { role: 'assistant', content: 'ok' } }] }));
    default:
      return send(res, 404, '{}');
  }
});

const listen = (): void => {
  server.listen(Number(values.port), String(values.host), () => {
    const port = (server.address() as { port: number }).port;
    process.stdout.write(`${JSON.stringify({ event: 'listening', url: `http://${values.host}:${port}`, port })}\n`);
  });
};
if (values['load-mode'] === 'closed') {
  setTimeout(() => {
    loaded = true;
    listen();
  }, loadMs);
} else {
  listen();
  setTimeout(() => {
    loaded = true;
  }, loadMs);
}
if (values['crash-after-ms'] !== undefined) setTimeout(() => process.exit(3), Number(values['crash-after-ms']));
process.on('SIGTERM', () => process.exit(0));
