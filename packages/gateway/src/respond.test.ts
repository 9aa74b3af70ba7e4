import assert from 'node:assert/strict';
import type { ServerResponse } from 'node:http';
import { describe, it } from 'node:test';
import { silentLogger } from '@synkti/interface';
import { writeNodeResponse } from './respond.js';

describe('writeNodeResponse', () => {
  it('cancels the body when Node refuses a header, so the request releases what it holds', () => {
    const cancelled: unknown[] = [];
    const body = { read: async () => ({ bytes: undefined, last: true }), cancel: (reason: unknown) => cancelled.push(reason) };
    const res = { writeHead: () => { throw new TypeError('Invalid character in header content ["x-bad"]'); } } as unknown as ServerResponse;
    assert.throws(() => writeNodeResponse(res, 200, { 'x-bad': 'a\nb' }, body, silentLogger, 'r1'), /Invalid character/);
    assert.equal(cancelled.length, 1);
  });
});
