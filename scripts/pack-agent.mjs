#!/usr/bin/env node
// Packs the agent into an installable tarball: `synkti-agent-<version>.tgz`.
//
//   node scripts/pack-agent.mjs [OUT_DIR]     (default: the current directory; run `tsc -b` first)
//   npm run pack:agent -- OUT_DIR             (builds, then packs)
//
// The @synkti/* workspaces are not published, so the tarball carries them: the script stages the
// agent in a temp directory, copies each workspace it needs (package.json + compiled dist, no
// tests) into the stage's node_modules and names them in `bundleDependencies`. Their third-party
// dependencies are hoisted into the agent's `dependencies` (same ranges as in the workspaces), so
// `npm install --omit=dev synkti-agent-<version>.tgz` fetches them from the registry.
//
// The libp2p packages we patch (pnet, crypto, yamux, utils, tcp, gossipsub; see patches/) are bundled too, already patched (patches/*.patch, applied to the
// repository's node_modules by the root postinstall): an installed tarball runs no patch step of
// its own (npm 11 does not run a dependency's install scripts until they are approved, and a
// global install would need patch-package at run time), so the patched file travels instead.
import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
const PATCHED = [
  { name: '@libp2p/pnet', marker: 'Synkti patch (backport of js-libp2p PR #3585)', file: 'dist/src/crypto.js' },
  { name: '@libp2p/crypto', marker: 'Synkti patch: importing a raw key', file: 'dist/src/keys/ed25519/index.js' },
  { name: '@libp2p/yamux', marker: 'Synkti patch (as hashicorp/yamux does)', file: 'dist/src/stream.js' },
  { name: '@libp2p/utils', marker: 'Synkti patch: an empty buffer is the usual end', file: 'dist/src/length-prefixed-decoder.js' },
  { name: '@libp2p/tcp', marker: 'Synkti patch: a message of several buffers', file: 'dist/src/socket-to-conn.js' },
  { name: '@libp2p/gossipsub', marker: 'Synkti patch: re-attach', file: 'dist/src/gossipsub.js' },
];
const readJson = (path) => JSON.parse(readFileSync(path, 'utf8'));

export function packAgent(outDir) {
  const rootPkg = readJson(join(root, 'package.json'));
  const workspaces = new Map();
  for (const dir of rootPkg.workspaces) {
    const pkg = readJson(join(root, dir, 'package.json'));
    workspaces.set(pkg.name, { dir: join(root, dir), pkg });
  }
  const agentDir = join(root, 'agent');
  const agent = readJson(join(agentDir, 'package.json'));
  if (!existsSync(join(agentDir, 'dist/cli.js'))) throw new Error('agent/dist/cli.js is missing: run `npx tsc -b` first');

  // The workspaces the agent needs (transitively), and the union of their third-party deps.
  const bundled = [];
  const deps = {};
  const origin = {};
  const addDep = (name, range, from) => {
    if (deps[name] !== undefined && deps[name] !== range) {
      throw new Error(`${name} is wanted as "${deps[name]}" by ${origin[name]} and as "${range}" by ${from}: align the ranges`);
    }
    deps[name] = range;
    origin[name] = from;
  };
  const visit = (pkg) => {
    for (const [name, range] of Object.entries(pkg.dependencies ?? {})) {
      const ws = workspaces.get(name);
      if (ws === undefined) addDep(name, range, pkg.name);
      else if (!bundled.includes(name)) {
        if (!existsSync(join(ws.dir, 'dist/index.js'))) throw new Error(`${name} is not built (${ws.dir}/dist): run \`npx tsc -b\` first`);
        bundled.push(name);
        visit(ws.pkg);
      }
    }
  };
  visit(agent);

  const stage = mkdtempSync(join(tmpdir(), 'synkti-pack-'));
  try {
    const noTests = (src) => !/\.test\.(js|d\.ts|js\.map|d\.ts\.map)$/.test(src);
    cpSync(join(agentDir, 'dist'), join(stage, 'dist'), { recursive: true, filter: noTests });
    for (const extra of ['README.md', 'LICENSE']) {
      const src = existsSync(join(agentDir, extra)) ? join(agentDir, extra) : join(root, extra);
      if (existsSync(src)) cpSync(src, join(stage, extra));
    }
    for (const name of bundled) {
      const { dir, pkg } = workspaces.get(name);
      const dest = join(stage, 'node_modules', name);
      mkdirSync(dest, { recursive: true });
      cpSync(join(dir, 'dist'), join(dest, 'dist'), { recursive: true, filter: noTests });
      // Every other path the workspace publishes (its `files`, e.g. the gateway's dashboard assets).
      for (const extra of (pkg.files ?? []).filter((f) => f !== 'dist' && !f.startsWith('!'))) {
        if (existsSync(join(dir, extra))) cpSync(join(dir, extra), join(dest, extra), { recursive: true });
      }
      const { devDependencies: _dev, scripts: _scripts, ...published } = pkg;
      writeFileSync(join(dest, 'package.json'), `${JSON.stringify(published, null, 2)}\n`);
    }
    for (const { name, marker, file } of PATCHED) {
      const src = join(root, 'node_modules', name);
      if (!readFileSync(join(src, file), 'utf8').includes(marker)) {
        throw new Error(`node_modules/${name}/${file} is not patched: run \`npx patch-package\` (the root postinstall) first`);
      }
      const pkg = readJson(join(src, 'package.json'));
      if (deps[name] !== undefined && deps[name] !== pkg.version) throw new Error(`${name} is patched at ${pkg.version} but wanted as "${deps[name]}"`);
      cpSync(src, join(stage, 'node_modules', name), { recursive: true, filter: (p) => !p.includes('/node_modules/', src.length) });
      deps[name] = pkg.version;
      // Its own dependencies come from the registry; keep a workspace's range where one names it.
      for (const [dep, range] of Object.entries(pkg.dependencies ?? {})) deps[dep] ??= range;
      bundled.push(name);
    }
    for (const name of bundled) deps[name] ??= readJson(join(stage, 'node_modules', name, 'package.json')).version;

    const sorted = Object.fromEntries(Object.entries(deps).sort(([a], [b]) => a.localeCompare(b)));
    const staged = {
      name: agent.name,
      version: agent.version,
      description: agent.description,
      type: agent.type,
      license: agent.license,
      exports: agent.exports,
      bin: agent.bin,
      files: agent.files,
      engines: agent.engines,
      dependencies: sorted,
      bundleDependencies: [...bundled].sort(),
    };
    writeFileSync(join(stage, 'package.json'), `${JSON.stringify(staged, null, 2)}\n`);

    mkdirSync(outDir, { recursive: true });
    const out = execFileSync('npm', ['pack', '--json', '--ignore-scripts', '--pack-destination', resolve(outDir)], {
      cwd: stage,
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const [result] = JSON.parse(out);
    const files = result.files.map((f) => f.path);
    for (const name of bundled) {
      if (!files.includes(`node_modules/${name}/package.json`)) throw new Error(`the tarball lacks the bundled ${name}`);
    }
    return { tarball: join(resolve(outDir), result.filename), files: files.length, size: result.size, bundled };
  } finally {
    rmSync(stage, { recursive: true, force: true });
  }
}

if (process.argv[1] !== undefined && resolve(process.argv[1]) === resolve(new URL(import.meta.url).pathname)) {
  const outDir = process.argv[2] ?? process.cwd();
  const { tarball, files, size, bundled } = packAgent(outDir);
  console.error(`pack-agent: ${files} files, ${(size / 1024).toFixed(0)} KiB, bundling ${bundled.join(', ')}`);
  console.log(tarball);
}
