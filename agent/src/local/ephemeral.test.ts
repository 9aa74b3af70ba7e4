import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { ephemeralOverlap, ephemeralPortRange } from './ephemeral.js';

describe("local fleets and the kernel's ephemeral ports", () => {
  it("reads the kernel's range, and falls back to Linux's default", () => {
    const file = join(mkdtempSync(join(tmpdir(), 'synkti-eph-')), 'range');
    writeFileSync(file, '49152\t65535\n');
    assert.deepEqual(ephemeralPortRange(file), [49_152, 65_535]);
    assert.deepEqual(ephemeralPortRange(join(file, 'missing')), [32_768, 60_999]);
  });

  it('finds the overlap of a port block with the range', () => {
    assert.equal(ephemeralOverlap(8_080, 8_479, [32_768, 60_999]), null);
    assert.deepEqual(ephemeralOverlap(32_500, 32_899, [32_768, 60_999]), [32_768, 32_899]);
    assert.deepEqual(ephemeralOverlap(45_000, 45_399, [32_768, 60_999]), [45_000, 45_399]);
    assert.equal(ephemeralOverlap(61_000, 61_399, [32_768, 60_999]), null);
  });
});
