#!/usr/bin/env node
// Installs a real OpenAI-compatible engine for the real-engine test lane and local use:
// llama.cpp's `llama-server`, built from the llama.cpp source that the `node-llama-cpp` npm
// package ships as a git bundle, and a tiny random-weight GGUF model written around a real
// tokenizer and chat template from that source (scripts/tiny-gguf.py). No download besides the
// npm package (from the npm cache when it is there); the build never fetches anything.
//
//   node scripts/install-llama.mjs            build if missing, print where things are
//   node scripts/install-llama.mjs --json     the same, and the install record as JSON on stdout
//   node scripts/install-llama.mjs --retry    try again after a recorded failure
//   node scripts/install-llama.mjs --check    never build: exit 3 when not installed
//
// The cache (SYNKTI_LLAMA_CACHE, default ~/.cache/synkti/llama) is keyed by the package version,
// the CPU architecture and the CPU's flags (the build uses -march=native): a present binary is
// never rebuilt. A failed build is recorded, so a second caller (the test lane after CI's
// install step) fails at once with the same line instead of building again for 12 minutes.
// Exit status: 0 installed, 1 build failed, 2 a tool is missing, 3 not installed (--check).
// Messages go to stderr, one line each; stdout carries only the JSON record.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, readdirSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { arch, availableParallelism, homedir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The node-llama-cpp release whose bundle is built; bump it to move llama.cpp forward. */
const PACKAGE_VERSION = process.env.SYNKTI_LLAMA_PACKAGE_VERSION ?? '3.22.1';
const CACHE_ROOT = process.env.SYNKTI_LLAMA_CACHE ?? join(homedir(), '.cache', 'synkti', 'llama');
/** The vocabulary-only GGUF (Qwen2's BPE tokenizer and its ChatML template) the model wraps. */
const VOCAB = 'models/ggml-vocab-qwen2.gguf';
const MODEL_WRITER = fileURLToPath(new URL('./tiny-gguf.py', import.meta.url));

// Deadlines of every step: generous against a busy 2-core machine, finite against a hang.
const PACK_TIMEOUT_MS = 5 * 60_000;
const CLONE_TIMEOUT_MS = 5 * 60_000;
const CONFIGURE_TIMEOUT_MS = 5 * 60_000;
const BUILD_TIMEOUT_MS = 90 * 60_000;
const MODEL_TIMEOUT_MS = 5 * 60_000;
const VERSION_TIMEOUT_MS = 30_000;
/** How long to wait for another install of the same key (its build) before giving up. */
const LOCK_WAIT_MS = 100 * 60_000;

const CMAKE_FLAGS = [
  '-DCMAKE_BUILD_TYPE=Release',
  '-DBUILD_SHARED_LIBS=OFF',
  '-DLLAMA_BUILD_TESTS=OFF',
  '-DLLAMA_BUILD_EXAMPLES=OFF',
  '-DLLAMA_BUILD_SERVER=ON',
  // Without these the build downloads the web UI from Hugging Face, or needs OpenSSL/curl.
  '-DLLAMA_USE_PREBUILT_UI=OFF',
  '-DLLAMA_BUILD_UI=OFF',
  '-DLLAMA_OPENSSL=OFF',
  '-DLLAMA_CURL=OFF',
];

const args = new Set(process.argv.slice(2));
for (const a of args) if (!['--json', '--retry', '--check'].includes(a)) fail(2, `unknown option ${a} (use --json, --retry, --check)`);

const say = (line) => process.stderr.write(`install-llama: ${line}\n`);
function fail(code, line) {
  process.stderr.write(`install-llama: ${line}\n`);
  process.exit(code);
}

/** Runs a command to completion within `timeoutMs`; output to `logFd` or captured. */
function run(command, argv, { timeoutMs, logFd, cwd, env } = {}) {
  const r = spawnSync(command, argv, { cwd, env: { ...process.env, ...env }, timeout: timeoutMs, stdio: logFd === undefined ? 'pipe' : ['ignore', logFd, logFd], encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  const timedOut = r.error?.code === 'ETIMEDOUT' || r.signal === 'SIGTERM';
  return { ok: r.status === 0, status: r.status, timedOut, error: r.error, stdout: r.stdout ?? '', stderr: r.stderr ?? '' };
}

/** The last non-empty line of a command's output: the one that says what went wrong. */
const lastLine = (text) => text.split('\n').map((l) => l.trim()).filter((l) => l !== '' && !/A complete log of this run/.test(l)).pop();

function cpuKey() {
  let flags = '';
  try {
    const info = readFileSync('/proc/cpuinfo', 'utf8');
    flags = (/^(flags|Features)\s*:(.*)$/m.exec(info)?.[2] ?? '').trim().split(/\s+/).sort().join(' ');
  } catch {
    flags = 'unknown';
  }
  return createHash('sha256').update(flags).digest('hex').slice(0, 12);
}

const key = `${PACKAGE_VERSION}-${arch()}-${cpuKey()}`;
const dir = join(CACHE_ROOT, key);
const server = join(dir, 'bin', 'llama-server');
const writerHash = createHash('sha256').update(readFileSync(MODEL_WRITER)).digest('hex').slice(0, 8);
const model = join(dir, 'models', `tiny-qwen2-${writerHash}.gguf`);
const recordFile = join(dir, 'install.json');
const failureFile = join(dir, 'failed.json');
const buildLog = join(dir, 'build.log');

function serverVersion() {
  if (!existsSync(server)) return null;
  const r = run(server, ['--version'], { timeoutMs: VERSION_TIMEOUT_MS });
  // A binary that does not run (a CPU without the flags it was built for) counts as absent.
  if (!r.ok) return null;
  return (r.stderr + r.stdout).split('\n').find((l) => /version/.test(l))?.trim() ?? 'unknown';
}

function record() {
  try {
    return JSON.parse(readFileSync(recordFile, 'utf8'));
  } catch {
    return {};
  }
}

function missingTools(needBuild, needModel) {
  const missing = [];
  const has = (cmd, argv = ['--version']) => run(cmd, argv, { timeoutMs: VERSION_TIMEOUT_MS }).ok;
  if (needBuild || needModel) {
    if (!has('npm')) missing.push('npm');
    if (!has('tar')) missing.push('tar');
    if (!has('git')) missing.push('git');
  }
  if (needBuild) {
    if (!has('cmake')) missing.push('cmake (apt-get install cmake)');
    if (!has('c++') && !has('g++')) missing.push('a C++ compiler (apt-get install g++)');
  }
  if (needModel) {
    if (!has('python3')) missing.push('python3');
    else if (!run('python3', ['-c', 'import numpy'], { timeoutMs: VERSION_TIMEOUT_MS }).ok) missing.push('numpy for python3 (apt-get install python3-numpy)');
  }
  return missing;
}

/** One install of this key at a time; a lock whose owner died is taken over. */
function lock() {
  const path = `${dir}.lock`;
  const deadline = Date.now() + LOCK_WAIT_MS;
  mkdirSync(CACHE_ROOT, { recursive: true });
  for (let announced = false; ; ) {
    try {
      mkdirSync(path);
      writeFileSync(join(path, 'pid'), String(process.pid));
      return () => rmSync(path, { recursive: true, force: true });
    } catch (err) {
      if (err.code !== 'EEXIST') throw err;
    }
    let owner = 0;
    try {
      owner = Number(readFileSync(join(path, 'pid'), 'utf8').trim());
    } catch {
      // Created a moment ago, its pid not written yet: wait for it like for a live owner.
      owner = -1;
    }
    let alive = owner === -1;
    try {
      if (owner > 0) process.kill(owner, 0);
      alive ||= owner > 0;
    } catch {
      alive = false;
    }
    if (!alive) {
      rmSync(path, { recursive: true, force: true });
      continue;
    }
    if (Date.now() > deadline) fail(1, `another install (pid ${owner}) holds ${path} for too long`);
    if (!announced) say(`waiting for another install (pid ${owner}) to finish`);
    announced = true;
    spawnSync('sleep', ['5']);
  }
}

/** The llama.cpp source, cloned from the npm package's git bundle into `work`. */
function fetchSource(work) {
  const pack = join(work, 'pack');
  mkdirSync(pack, { recursive: true });
  say(`fetching node-llama-cpp@${PACKAGE_VERSION} through npm (its npm cache when present)`);
  let r = run('npm', ['pack', `node-llama-cpp@${PACKAGE_VERSION}`, '--prefer-offline', '--loglevel=error', '--pack-destination', pack], { timeoutMs: PACK_TIMEOUT_MS });
  const tgz = readdirSync(pack).find((f) => f.endsWith('.tgz'));
  if (!r.ok || tgz === undefined) throw new Error(`npm pack node-llama-cpp@${PACKAGE_VERSION} failed: ${lastLine(r.stderr) ?? r.error?.message ?? `exit ${r.status}`}`);
  r = run('tar', ['-xzf', join(pack, tgz), '-C', pack, 'package/llama/gitRelease.bundle', 'package/llama/llama.cpp.info.json'], { timeoutMs: PACK_TIMEOUT_MS });
  if (!r.ok) throw new Error(`node-llama-cpp@${PACKAGE_VERSION} carries no llama/gitRelease.bundle: ${r.stderr.trim()}`);
  const src = join(work, 'src');
  r = run('git', ['clone', '--quiet', join(pack, 'package/llama/gitRelease.bundle'), src], { timeoutMs: CLONE_TIMEOUT_MS, env: { GIT_TERMINAL_PROMPT: '0' } });
  if (!r.ok) throw new Error(`git clone of the bundle failed: ${lastLine(r.stderr) ?? `exit ${r.status}`}`);
  const info = JSON.parse(readFileSync(join(pack, 'package/llama/llama.cpp.info.json'), 'utf8'));
  const commit = run('git', ['-C', src, 'rev-parse', 'HEAD'], { timeoutMs: VERSION_TIMEOUT_MS }).stdout.trim();
  rmSync(pack, { recursive: true, force: true });
  return { src, llamaCppTag: info.tag ?? null, llamaCppCommit: commit };
}

function build(src, work) {
  const jobs = String(availableParallelism());
  const logFd = openSync(buildLog, 'w');
  try {
    const bdir = join(work, 'build');
    let r = run('cmake', ['-S', src, '-B', bdir, ...CMAKE_FLAGS], { timeoutMs: CONFIGURE_TIMEOUT_MS, logFd });
    if (!r.ok) throw new Error(`cmake configure failed${r.timedOut ? ' (timed out)' : ''}; see ${buildLog}`);
    say(`building llama-server with ${jobs} jobs (about 12 min on 2 free cores; log: ${buildLog})`);
    r = run('cmake', ['--build', bdir, '--target', 'llama-server', '-j', jobs], { timeoutMs: BUILD_TIMEOUT_MS, logFd });
    if (!r.ok) throw new Error(`the llama-server build failed${r.timedOut ? ` (timed out after ${BUILD_TIMEOUT_MS / 60_000} min)` : ''}; see ${buildLog}`);
    const built = join(bdir, 'bin', 'llama-server');
    if (!existsSync(built)) throw new Error(`the build made no ${built}; see ${buildLog}`);
    mkdirSync(join(dir, 'bin'), { recursive: true });
    renameSync(built, `${server}.tmp`);
    renameSync(`${server}.tmp`, server);
  } finally {
    closeSync(logFd);
  }
}

function writeModel(src) {
  mkdirSync(join(dir, 'models'), { recursive: true });
  say(`writing the tiny model ${model}`);
  const r = run('python3', [MODEL_WRITER, '--vocab', join(src, VOCAB), '--out', model], { timeoutMs: MODEL_TIMEOUT_MS, env: { PYTHONPATH: join(src, 'gguf-py') } });
  if (!r.ok) throw new Error(`writing the model failed: ${lastLine(r.stderr) ?? r.error?.message ?? `exit ${r.status}`}`);
  // Models of an older writer are dead weight.
  for (const f of readdirSync(join(dir, 'models'))) if (join(dir, 'models', f) !== model) rmSync(join(dir, 'models', f), { force: true });
}

function du(path) {
  if (!existsSync(path)) return 0;
  const s = statSync(path);
  return s.isDirectory() ? readdirSync(path).reduce((n, f) => n + du(join(path, f)), 0) : s.size;
}

function main() {
  let version = serverVersion();
  const haveModel = existsSync(model);
  if (version !== null && haveModel) return finish(version, false);
  if (args.has('--check')) fail(3, `not installed in ${dir} (run: node scripts/install-llama.mjs)`);
  if (existsSync(failureFile) && !args.has('--retry')) {
    const f = JSON.parse(readFileSync(failureFile, 'utf8'));
    fail(1, `an earlier install failed (${f.at}): ${f.reason} — run with --retry to try again`);
  }
  const missing = missingTools(version === null, !haveModel);
  if (missing.length > 0) fail(2, `cannot install llama-server: missing ${missing.join(', ')}`);
  const unlock = lock();
  const started = Date.now();
  const work = join(dir, 'work');
  let failure = null;
  try {
    // Another install may have finished while this one waited for the lock.
    version = serverVersion();
    if (version !== null && existsSync(model)) return finish(version, false);
    rmSync(work, { recursive: true, force: true });
    mkdirSync(work, { recursive: true });
    const source = fetchSource(work);
    let built = {};
    if (version === null) {
      build(source.src, work);
      // From the start of the install: the clone is part of what a cold install costs.
      built = { buildMs: Date.now() - started, builtAt: new Date().toISOString() };
    }
    if (!existsSync(model)) writeModel(source.src);
    version = serverVersion();
    if (version === null) throw new Error(`${server} does not run (--version failed)`);
    const rec = { ...record(), packageVersion: PACKAGE_VERSION, llamaCppTag: source.llamaCppTag, llamaCppCommit: source.llamaCppCommit, cmakeFlags: CMAKE_FLAGS, ...built, modelWrittenAt: new Date().toISOString() };
    delete rec.installMs;
    delete rec.installedAt;
    writeFileSync(recordFile, `${JSON.stringify(rec, null, 2)}\n`);
    rmSync(failureFile, { force: true });
  } catch (err) {
    failure = err.message;
    mkdirSync(dir, { recursive: true });
    writeFileSync(failureFile, `${JSON.stringify({ at: new Date().toISOString(), reason: failure }, null, 2)}\n`);
  } finally {
    rmSync(work, { recursive: true, force: true });
    unlock();
  }
  if (failure !== null) fail(1, failure);
  // After the work directory is gone, so the size is what stays on disk.
  finish(version, true);
}

function finish(version, installed) {
  const out = { server, model, cacheDir: dir, cacheBytes: du(dir), serverVersion: version, ...record() };
  say(`${installed ? 'installed' : 'present'}: ${server} and ${model} (${Math.round(out.cacheBytes / 1e6)} MB in ${dir})`);
  if (args.has('--json')) process.stdout.write(`${JSON.stringify(out)}\n`);
}

main();
