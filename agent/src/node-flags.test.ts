import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { AGENT_NODE_FLAGS } from './node-flags.js';

const binPath = fileURLToPath(new URL('./agent-bin.js', import.meta.url));

describe('the synkti-agent bin', () => {
  it('carries exactly the agent V8 flags in its shebang', () => {
    const shebang = readFileSync(binPath, 'utf8').split('\n')[0];
    assert.equal(shebang, ['#!/usr/bin/env -S node', ...AGENT_NODE_FLAGS].join(' '));
  });

  // Through node here (the build does not mark dist files executable); the packaging test runs
  // the installed bin through its shebang.
  const runBin = (args: string[]) => spawnSync(process.execPath, [...AGENT_NODE_FLAGS, binPath, ...args], { encoding: 'utf8', timeout: 30_000 });

  it('runs the agent command, with or without a leading "agent", and answers --version', () => {
    const version = runBin(['--version']);
    assert.equal(version.status, 0, version.stderr);
    assert.match(version.stdout, /^\d+\.\d+\.\d+/);
    for (const args of [['--help'], ['agent', '--help']]) {
      const help = runBin(args);
      assert.equal(help.status, 0, help.stderr);
      assert.match(help.stdout, /^Usage: synkti agent /m, `help for ${args.join(' ')}`);
    }
  });
});
