// `node node-proxy.js <port> <upstreamPort>`: the least a Node process can do to relay an OpenAI
// request: node:http in, read the body and parse its JSON (an agent must read the model),
// node:http with a keep-alive agent out, pipe the answer back. The forward bench measures it as
// the floor for any hop written in Node, beside nginx's floor for a hop written in C.
import { Agent, createServer, request } from 'node:http';

const [port, upstreamPort] = process.argv.slice(2).map(Number);
if (!Number.isInteger(port) || !Number.isInteger(upstreamPort)) {
  console.error('usage: node-proxy <port> <upstreamPort>');
  process.exit(2);
}
const agent = new Agent({ keepAlive: true, maxSockets: 1_024 });
const server = createServer((req, res) => {
  const chunks: Buffer[] = [];
  req.on('data', (c: Buffer) => chunks.push(c));
  req.on('end', () => {
    const body = Buffer.concat(chunks);
    try {
      JSON.parse(body.toString('utf8'));
    } catch {
      res.writeHead(400).end();
      return;
    }
    const upstream = request({ agent, host: '127.0.0.1', port: upstreamPort, path: req.url, method: req.method, headers: { 'content-type': 'application/json', 'content-length': String(body.byteLength) } }, (answer) => {
      res.writeHead(answer.statusCode ?? 502, { 'content-type': answer.headers['content-type'] ?? 'application/json' });
      answer.pipe(res);
    });
    upstream.on('error', () => res.destroy());
    upstream.end(body);
  });
});
server.listen(port, '127.0.0.1', () => console.log('listening'));
process.on('SIGTERM', () => server.close(() => process.exit(0)));
