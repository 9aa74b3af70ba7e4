#!/usr/bin/env node
// One-agent smoke test: starts `synkti agent --engine-runtime fake` with a fresh swarm key on free
// ports, waits until /readyz answers 200 (the fake engine is warm), sends SIGTERM and expects a
// clean exit 0. Bounded in time; the agent is SIGKILLed if anything hangs.
//
//   node scripts/smoke-agent.mjs [--node PATH] [--cli PATH] [--timeout-ms N]
//
// --node: the Node binary to run the agent with (default: this one); --cli: the synkti CLI
// (default: agent/dist/cli.js of this checkout). Prints one line and exits non-zero on failure.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';

const root = new URL('..', import.meta.url).pathname;

function freePort() {
  return new Promise((res, rej) => {
    const server = createServer();
    server.once('error', rej);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => res(port));
    });
  });
}

function run(node, args, timeoutMs) {
  return new Promise((res, rej) => {
    const child = spawn(node, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (out += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.once('error', rej);
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      if (code === 0) res(out);
      else rej(new Error(`${args.join(' ')} exited ${code ?? signal}: ${out.slice(-2000)}`));
    });
  });
}

/**
 * Runs the smoke test; resolves with timings (ms) or rejects with the agent's last log lines.
 * @param {{ node?: string, cli?: string, timeoutMs?: number, log?: (line: string) => void }} options
 */
export async function smokeAgent({ node = process.execPath, cli = join(root, 'agent/dist/cli.js'), timeoutMs = 60_000, log = () => {} } = {}) {
  const started = Date.now();
  const dir = mkdtempSync(join(tmpdir(), 'synkti-smoke-'));
  let child;
  try {
    const version = (await run(node, ['--version'], 30_000)).trim();
    const key = join(dir, 'swarm.key');
    await run(node, [cli, 'keygen', '--out', key], 30_000);
    const [apiPort, enginePort] = [await freePort(), await freePort()];
    const args = [
      cli, 'agent',
      '--engine-runtime', 'fake',
      '--swarm-key-file', key,
      '--state-dir', join(dir, 'state'),
      '--listen', '/ip4/127.0.0.1/tcp/0',
      '--api-host', '127.0.0.1',
      '--api-port', String(apiPort),
      '--engine-port', String(enginePort),
      '--log-format', 'json',
    ];
    log(`smoke: ${node} (${version}) ${cli} agent on :${apiPort}`);
    child = spawn(node, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    const lines = [];
    const keep = (d) => lines.push(...String(d).split('\n').filter(Boolean).map((l) => l.slice(0, 500)));
    child.stdout.on('data', keep);
    child.stderr.on('data', keep);
    const exited = new Promise((res) => child.once('exit', (code, signal) => res({ code, signal })));
    const tail = () => lines.slice(-15).join('\n');
    const hardStop = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    try {
      const deadline = Date.now() + timeoutMs - 15_000;
      for (;;) {
        if (child.exitCode !== null || child.signalCode !== null) throw new Error(`the agent exited before it was ready:\n${tail()}`);
        const status = await fetch(`http://127.0.0.1:${apiPort}/readyz`, { signal: AbortSignal.timeout(2_000) }).then(
          (r) => r.status,
          () => 0,
        );
        if (status === 200) break;
        if (Date.now() > deadline) throw new Error(`/readyz never answered 200 (last: ${status}):\n${tail()}`);
        await new Promise((r) => setTimeout(r, 200));
      }
      const ready = Date.now();
      child.kill('SIGTERM');
      const stopTimer = setTimeout(() => child.kill('SIGKILL'), 15_000);
      const { code, signal } = await exited;
      clearTimeout(stopTimer);
      if (code !== 0) throw new Error(`the agent exited ${code ?? signal} on SIGTERM (expected 0):\n${tail()}`);
      return { version, readyMs: ready - started, totalMs: Date.now() - started };
    } finally {
      clearTimeout(hardStop);
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

if (process.argv[1] !== undefined && resolve(process.argv[1]) === resolve(new URL(import.meta.url).pathname)) {
  const { values } = parseArgs({ options: { node: { type: 'string' }, cli: { type: 'string' }, 'timeout-ms': { type: 'string' } } });
  smokeAgent({ node: values.node, cli: values.cli, timeoutMs: values['timeout-ms'] ? Number(values['timeout-ms']) : undefined, log: (l) => console.log(l) }).then(
    ({ version, readyMs, totalMs }) => console.log(`smoke: ok on Node ${version}: ready in ${readyMs} ms, clean exit after ${totalMs} ms`),
    (err) => {
      console.error(`smoke: FAILED: ${err.message}`);
      process.exit(1);
    },
  );
}
