import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { describe, it } from 'node:test';
import { isProcessAlive } from './process.js';

describe('process liveness', () => {
  it('counts a running process, and neither a gone one nor a zombie (an exited child nobody reaped)', async () => {
    assert.equal(isProcessAlive(process.pid), true);
    assert.equal(isProcessAlive(null), false);
    // `sleep 0.1` runs in the background of a shell that then becomes `sleep 5` by exec: that
    // parent never waits, so the short sleep stays a zombie once it exits.
    const parent = spawn('/bin/sh', ['-c', 'sleep 0.1 & echo $!; exec sleep 5'], { stdio: ['ignore', 'pipe', 'ignore'] });
    try {
      const zombie = await new Promise<number>((resolve) => parent.stdout.once('data', (d: Buffer) => resolve(Number(d.toString().trim()))));
      assert.equal(isProcessAlive(zombie), true, 'running at first');
      const deadline = Date.now() + 5_000;
      while (isProcessAlive(zombie) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
      assert.equal(isProcessAlive(zombie), false, 'its exit counts although nobody reaped it');
      let signalled = true;
      try {
        process.kill(zombie, 0);
      } catch {
        signalled = false;
      }
      assert.equal(signalled, true, 'signal 0 alone would still have found it (the bug this guards against)');
    } finally {
      parent.kill('SIGKILL');
    }
  });
});
