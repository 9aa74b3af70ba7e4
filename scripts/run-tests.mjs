#!/usr/bin/env node
// Runs every compiled node:test file, listed explicitly: on Node 20, `node --test` given a
// directory or a glob can find zero tests and still exit 0. This runner fails when a file
// fails, when no file is found and when the files ran no test.
//
//   node scripts/run-tests.mjs            every suite
//   node scripts/run-tests.mjs mesh fleet only files whose path contains one of the words
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

const tapFile = join(mkdtempSync(join(tmpdir(), 'synkti-tests-')), 'report.tap');
const args = [
  '--enable-source-maps',
  '--import', join(root, 'scripts/polyfills.mjs'),
  '--test',
  `--test-concurrency=${process.env.SYNKTI_TEST_CONCURRENCY ?? '2'}`,
  '--test-reporter=spec', '--test-reporter-destination=stdout',
  '--test-reporter=tap', `--test-reporter-destination=${tapFile}`,
  ...files,
];
console.log(`run-tests: ${files.length} files`);
const child = spawn(process.execPath, args, { stdio: 'inherit', cwd: root });
child.on('exit', (code, signal) => {
  const tap = readFileSync(tapFile, 'utf8');
  const count = (key) => Number((tap.match(new RegExp(`^# ${key} (\\d+)$`, 'm')) ?? [])[1] ?? 0);
  const tests = count('tests');
  const pass = count('pass');
  const fail = count('fail');
  console.log(`run-tests: ${tests} tests, ${pass} passed, ${fail} failed`);
  if (signal !== null) {
    console.error(`run-tests: test runner killed by ${signal}`);
    process.exit(1);
  }
  if (tests === 0) {
    console.error('run-tests: zero tests ran; failing on purpose');
    process.exit(1);
  }
  process.exit(code === 0 && fail === 0 ? 0 : 1);
});
