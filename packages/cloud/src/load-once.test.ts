import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { loadOnce } from './load-once.js';

describe('loadOnce', () => {
  it('loads once for every caller, and tries again after a failed load', async () => {
    let calls = 0;
    let fail = true;
    const load = loadOnce(async () => {
      calls++;
      if (fail) throw new Error('not installed');
      return 'module';
    });
    await assert.rejects(load(), /not installed/);
    fail = false;
    assert.deepEqual(await Promise.all([load(), load()]), ['module', 'module']);
    assert.equal(await load(), 'module');
    assert.equal(calls, 2, 'one failed load, then one that is kept');
  });
});
