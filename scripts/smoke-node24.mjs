#!/usr/bin/env node
// The agent runs on Node 24 (the LTS the image and the AMI ship) while this machine has Node 20:
// fetches Node 24 from the npm registry (the `node@24` package ships the binary), then runs the
// one-agent smoke test (scripts/smoke-agent.mjs) under it. Run after `tsc -b`; `.ci/run` runs it.
//
//   node scripts/smoke-node24.mjs
import { execFileSync } from 'node:child_process';
import { smokeAgent } from './smoke-agent.mjs';

const NODE_PACKAGE = 'node@24';

function node24() {
  const out = execFileSync('npx', ['-y', NODE_PACKAGE, '-p', 'process.execPath + " " + process.version'], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
    timeout: 300_000,
  });
  const [path, version] = out.trim().split('\n').at(-1).split(' ');
  if (!version?.startsWith('v24.')) throw new Error(`npx ${NODE_PACKAGE} gave ${out.trim()}`);
  return path;
}

try {
  const started = Date.now();
  const node = node24();
  console.log(`smoke-node24: ${node} (fetched in ${Date.now() - started} ms)`);
  const { version, readyMs, totalMs } = await smokeAgent({ node, timeoutMs: 90_000, log: (l) => console.log(l) });
  console.log(`smoke-node24: ok on Node ${version}: agent ready in ${readyMs} ms, clean exit after ${totalMs} ms`);
} catch (err) {
  console.error(`smoke-node24: FAILED: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
}
