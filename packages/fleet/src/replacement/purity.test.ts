import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';

describe('replacement purity', () => {
  it('imports no node: module, no I/O package, and never reads the clock or Math.random', () => {
    const dir = join(fileURLToPath(new URL('.', import.meta.url)), '../../src/replacement');
    for (const name of readdirSync(dir).filter((f) => f.endsWith('.ts') && !f.endsWith('.test.ts'))) {
      const text = readFileSync(join(dir, name), 'utf8');
      const imports = [...text.matchAll(/from '([^']+)'/g)].map((m) => m[1]!);
      for (const spec of imports) assert.ok(spec.startsWith('.') || spec.startsWith('@synkti/interface') || spec.startsWith('@synkti/protocol'), `${name} imports ${spec}`);
      assert.doesNotMatch(text, /Date\.now|Math\.random|setTimeout/, name);
    }
  });
});
