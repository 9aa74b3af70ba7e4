import assert from 'node:assert/strict';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { repoRoot } from '../harness/paths.js';
import { violations } from './layering.js';

describe('architecture', () => {
  it('every package imports only lower layers and declared dependencies; the fleet core, engine machine and sim core are pure', () => {
    assert.deepEqual(violations(repoRoot), []);
  });
});

/** A copy of the sources (and manifests) only, to break on purpose. */
function sandbox(): string {
  const dir = mkdtempSync(join(tmpdir(), 'synkti-layering-'));
  cpSync(join(repoRoot, 'package.json'), join(dir, 'package.json'));
  for (const rel of ['packages', 'agent']) {
    cpSync(join(repoRoot, rel), join(dir, rel), { recursive: true, filter: (src) => !/node_modules|\/dist(\/|$)|tsbuildinfo/.test(src) });
  }
  return dir;
}

describe('architecture checks catch what they guard', () => {
  const dir = sandbox();
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('an upward import, an undeclared dependency and a clock read in the fleet core are each reported', () => {
    const file = join(dir, 'packages/fleet/src/membership.ts');
    const original = readFileSync(file, 'utf8');
    writeFileSync(file, `import { Mesh } from '@synkti/mesh';\nimport { z } from 'zod';\n${original}\nexport const stamp = () => Date.now();\n`);
    const found = violations(dir);
    assert.ok(found.some((v) => v.includes('imports @synkti/mesh (layer 3): against the dependency order')), found.join('\n'));
    assert.ok(found.some((v) => v.includes('imports zod, not a dependency')), found.join('\n'));
    assert.ok(found.some((v) => v.includes('pure code uses Date.now')), found.join('\n'));
    writeFileSync(file, original);
    assert.deepEqual(violations(dir), []);
  });
});
