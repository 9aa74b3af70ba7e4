#!/usr/bin/env node
// Runs every compiled node:test file, listed explicitly: on Node 20, `node --test` given a
// directory or a glob can find zero tests and still exit 0. This runner fails when a file
// fails, when no file is found and when the files ran no test.
//
//   node scripts/run-tests.mjs            every suite
//   node scripts/run-tests.mjs mesh fleet only files whose path contains one of the words
//
// Files named `*.alone.test.ts` load the machine on purpose (dozens of concurrent streams across
// real agent processes) or measure how load spreads over peers (which a concurrent file skews);
// they run after the others, one at a time, so they neither starve the timing-sensitive suites
// (heartbeat-based failure detection) nor each other.
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
const roots = ['packages', 'agent', 'test'];
const filters = process.argv.slice(2);

function findTests(dir, out) {
  for (const name of readdirSync(dir)) {
    if (name === 'node_modules') continue;
    const path = join(dir, name);
    if (statSync(path).isDirectory()) findTests(path, out);
    else if (name.endsWith('.test.js') && path.includes(`${'/'}dist${'/'}`)) out.push(path);
  }
  return out;
}

const files = roots
  .flatMap((r) => findTests(join(root, r), []))
  .filter((f) => filters.length === 0 || filters.some((w) => relative(root, f).includes(w)))
  .sort();
if (files.length === 0) {
  console.error('run-tests: no test files found (did `tsc -b` run?)');
  process.exit(1);
}

const alone = files.filter((f) => f.endsWith('.alone.test.js'));
const shared = files.filter((f) => !f.endsWith('.alone.test.js'));
const tapDir = mkdtempSync(join(tmpdir(), 'synkti-tests-'));
console.log(`run-tests: ${files.length} files (${alone.length} run alone)`);

/** Runs one batch under node:test; resolves with its exit status and TAP counts. */
function runBatch(batch, concurrency, name) {
  const tapFile = join(tapDir, `${name}.tap`);
  const args = [
    '--enable-source-maps',
    '--import', join(root, 'scripts/polyfills.mjs'),
    '--test',
    `--test-concurrency=${concurrency}`,
    '--test-reporter=spec', '--test-reporter-destination=stdout',
    '--test-reporter=tap', `--test-reporter-destination=${tapFile}`,
    ...batch,
  ];
  return new Promise((resolve) => {
    const child = spawn(process.execPath, args, { stdio: 'inherit', cwd: root });
    child.on('exit', (code, signal) => {
      const tap = readFileSync(tapFile, 'utf8');
      const count = (key) => Number((tap.match(new RegExp(`^# ${key} (\\d+)$`, 'm')) ?? [])[1] ?? 0);
      // A cancelled test (its promise never settled, a parent failed) did not pass: it counts as failed.
      resolve({ code, signal, tests: count('tests'), pass: count('pass'), fail: count('fail') + count('cancelled') });
    });
  });
}

const results = [];
if (shared.length > 0) results.push(await runBatch(shared, process.env.SYNKTI_TEST_CONCURRENCY ?? '2', 'shared'));
if (alone.length > 0) results.push(await runBatch(alone, '1', 'alone'));
const sum = (key) => results.reduce((s, r) => s + r[key], 0);
const tests = sum('tests');
const fail = sum('fail');
console.log(`run-tests: ${tests} tests, ${sum('pass')} passed, ${fail} failed`);
const killed = results.find((r) => r.signal !== null);
if (killed !== undefined) {
  console.error(`run-tests: test runner killed by ${killed.signal}`);
  process.exit(1);
}
if (tests === 0) {
  console.error('run-tests: zero tests ran; failing on purpose');
  process.exit(1);
}
process.exit(results.every((r) => r.code === 0) && fail === 0 ? 0 : 1);
