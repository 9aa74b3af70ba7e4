import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { after, before, describe, it } from 'node:test';
import { repoRoot } from '../harness/paths.js';

const run = promisify(execFile);
/**
 * Our local patches (patches/*.patch), bundled patched in the tarball. `everyCopy`: nothing but
 * our mesh uses the package, so every installed copy must carry the patch; otherwise npm may hoist
 * a registry copy for other libp2p packages (a speed patch only), and the agent's own must.
 */
const PATCHED = [
  { name: '@libp2p/pnet', file: 'dist/src/crypto.js', marker: 'Synkti patch (backport of js-libp2p PR #3585)', everyCopy: true },
  { name: '@libp2p/yamux', file: 'dist/src/stream.js', marker: 'Synkti patch (as hashicorp/yamux does)', everyCopy: true },
  { name: '@libp2p/tcp', file: 'dist/src/socket-to-conn.js', marker: 'Synkti patch: a message of several buffers', everyCopy: true },
  { name: '@libp2p/gossipsub', file: 'dist/src/gossipsub.js', marker: 'Synkti patch: re-attach', everyCopy: true },
  { name: '@libp2p/crypto', file: 'dist/src/keys/ed25519/index.js', marker: 'Synkti patch: importing a raw key', everyCopy: false },
  { name: '@libp2p/utils', file: 'dist/src/length-prefixed-decoder.js', marker: 'Synkti patch: an empty buffer is the usual end', everyCopy: false },
];

/** The environment a user's shell would have: no npm_* variables inherited from `npm test`. */
function userEnv(): NodeJS.ProcessEnv {
  return Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.toLowerCase().startsWith('npm_')));
}

/** Every directory named `name` (e.g. '@libp2p/pnet') anywhere under `dir`'s node_modules trees. */
async function findPackages(dir: string, name: string, out: string[] = []): Promise<string[]> {
  const modules = join(dir, 'node_modules');
  if (!existsSync(modules)) return out;
  if (existsSync(join(modules, name, 'package.json'))) out.push(join(modules, name));
  for (const entry of await readdir(modules, { withFileTypes: true })) {
    if (!entry.isDirectory() || entry.name.startsWith('.')) continue;
    const children = entry.name.startsWith('@') ? (await readdir(join(modules, entry.name))).map((n) => join(modules, entry.name, n)) : [join(modules, entry.name)];
    for (const child of children) await findPackages(child, name, out);
  }
  return out;
}

// Packs the agent (scripts/pack-agent.mjs), installs the tarball with production dependencies
// only into an empty directory from the registry (a fresh npm cache, so nothing comes from this
// checkout), then runs the installed `synkti`. The install takes ~30 s on a cold cache.
describe('the packaged agent (npm pack tarball)', { timeout: 200_000 }, () => {
  let dir: string;
  let prefix: string;
  let tarball: string;
  let bin: string;
  const timings: Record<string, number> = {};

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'synkti-pack-test-'));
    prefix = join(dir, 'install');
    let t = Date.now();
    const packed = await run(process.execPath, [join(repoRoot, 'scripts/pack-agent.mjs'), join(dir, 'out')], { timeout: 60_000, killSignal: 'SIGKILL', env: userEnv() });
    timings['pack'] = Date.now() - t;
    tarball = packed.stdout.trim().split('\n').at(-1) ?? '';
    assert.match(tarball, /synkti-agent-[\d.]+\.tgz$/);

    await run('mkdir', ['-p', prefix]);
    await writeFile(join(prefix, 'package.json'), '{ "name": "synkti-install-test", "private": true }\n');
    t = Date.now();
    await run('npm', ['install', '--omit=dev', '--no-audit', '--no-fund', '--no-save', '--cache', join(dir, 'npm-cache'), tarball], {
      cwd: prefix,
      timeout: 150_000,
      killSignal: 'SIGKILL',
      env: userEnv(),
      maxBuffer: 16 * 1024 * 1024,
    });
    timings['install'] = Date.now() - t;
    bin = join(prefix, 'node_modules/.bin/synkti');
  });
  after(async () => {
    console.log(`packaging timings (ms): ${JSON.stringify(timings)}`);
    if (dir !== undefined) await rm(dir, { recursive: true, force: true });
  });

  it('installs the bundled workspaces, the patched libp2p packages, and no dev dependency', async () => {
    const agentDir = join(prefix, 'node_modules/synkti-agent');
    for (const ws of ['interface', 'protocol', 'fleet', 'mesh', 'engine', 'fake-vllm', 'gateway', 'cloud', 'sim']) {
      assert.ok(existsSync(join(agentDir, 'node_modules/@synkti', ws, 'dist/index.js')), `@synkti/${ws} is bundled with its dist`);
    }
    for (const asset of ['dashboard.html', 'dashboard.css', 'dashboard.js']) {
      assert.ok(existsSync(join(agentDir, 'node_modules/@synkti/gateway/assets', asset)), `the dashboard's ${asset} is shipped`);
    }
    for (const { name, file, marker, everyCopy } of PATCHED) {
      const own = join(agentDir, 'node_modules', name);
      assert.ok((await readFile(join(own, file), 'utf8')).includes(marker), `the agent's bundled ${name} carries the patch`);
      const copies = everyCopy ? await findPackages(prefix, name) : [];
      for (const copy of copies) assert.ok((await readFile(join(copy, file), 'utf8')).includes(marker), `${copy} carries the patch (every copy: ${copies.join(', ')})`);
    }
    for (const dev of ['typescript', 'eslint', 'patch-package', '@types/node', 'fast-check']) {
      assert.ok(!existsSync(join(prefix, 'node_modules', dev)), `${dev} (a dev dependency) is not installed`);
    }
    assert.equal((await findPackages(prefix, 'typescript')).length, 0, 'no typescript anywhere');
    assert.equal((await readdir(join(agentDir, 'dist'))).filter((f) => f.includes('.test.')).length, 0, 'no compiled tests shipped');
  });

  it('runs `synkti --help` through the installed bin', async () => {
    const { stdout } = await run(bin, ['--help'], { timeout: 30_000, killSignal: 'SIGKILL', env: userEnv() });
    assert.match(stdout, /Usage: synkti/);
    assert.match(stdout, /agent/);
    const version = await run(bin, ['--version'], { timeout: 30_000, killSignal: 'SIGKILL', env: userEnv() });
    const agentPkg = JSON.parse(await readFile(join(repoRoot, 'agent/package.json'), 'utf8')) as { version: string };
    assert.equal(version.stdout.trim(), agentPkg.version);
    // synkti-agent's shebang (`env -S node <V8 flags>`) runs as systemd and the image start it.
    const agentBin = join(dirname(bin), 'synkti-agent');
    assert.equal((await run(agentBin, ['--version'], { timeout: 30_000, killSignal: 'SIGKILL', env: userEnv() })).stdout.trim(), agentPkg.version);
    assert.match((await run(agentBin, ['--help'], { timeout: 30_000, killSignal: 'SIGKILL', env: userEnv() })).stdout, /^Usage: synkti agent /m);
  });

  it('starts one agent on the fake engine, serves /readyz 200, and exits 0 on SIGTERM', async () => {
    const t = Date.now();
    // scripts/smoke-agent.mjs: keygen, `synkti agent --engine-runtime fake` on free ports, /readyz, SIGTERM.
    const { stdout } = await run(process.execPath, [join(repoRoot, 'scripts/smoke-agent.mjs'), '--cli', bin, '--timeout-ms', '60000'], {
      timeout: 75_000,
      killSignal: 'SIGKILL',
      env: userEnv(),
    }).catch((err: { stdout?: string; stderr?: string; message: string }) => {
      throw new Error(`smoke test of the installed agent failed: ${err.stderr || err.message}`);
    });
    timings['agent'] = Date.now() - t;
    assert.match(stdout, /smoke: ok/);
  });
});
