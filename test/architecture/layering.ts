import { readdirSync, readFileSync, statSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { join } from 'node:path';

/**
 * design.md §5's dependency order: a package imports only packages of a lower layer. Siblings
 * on one layer never import each other (the agent composes them).
 */
const LAYER: Readonly<Record<string, number>> = {
  '@synkti/interface': 0,
  '@synkti/protocol': 1,
  '@synkti/fleet': 2,
  '@synkti/mesh': 3,
  '@synkti/engine': 3,
  '@synkti/cloud': 3,
  '@synkti/gateway': 3,
  '@synkti/sim': 3,
  '@synkti/fake-vllm': 3,
  'synkti-agent': 4,
};

/** Pure code: no I/O, no clock, no randomness — every input comes in as data (design.md §5.3). */
const PURE: readonly string[] = ['packages/fleet/src', 'packages/engine/src/machine.ts', 'packages/sim/src'];
/** The sim's shells around its pure core: its command line, bench timer and HTML writer. */
const PURE_EXCEPT = new Set(['packages/sim/src/cli.ts', 'packages/sim/src/bench.ts', 'packages/sim/src/html-file.ts']);

interface Pkg {
  name: string;
  dir: string;
  deps: Set<string>;
}

function packages(root: string): Pkg[] {
  const dirs = [...readdirSync(join(root, 'packages')).map((d) => join('packages', d)), 'agent'];
  return dirs.flatMap((dir) => {
    const manifest = JSON.parse(readFileSync(join(root, dir, 'package.json'), 'utf8')) as { name: string; dependencies?: Record<string, string> };
    return [{ name: manifest.name, dir, deps: new Set(Object.keys(manifest.dependencies ?? {})) }];
  });
}

function sources(root: string, rel: string): string[] {
  const full = join(root, rel);
  if (statSync(full).isFile()) return [rel];
  return readdirSync(full).flatMap((name) => {
    const child = join(rel, name);
    if (statSync(join(root, child)).isDirectory()) return sources(root, child);
    return name.endsWith('.ts') && !name.endsWith('.test.ts') && !name.endsWith('.d.ts') ? [child] : [];
  });
}

/** Module specifiers a file imports (static and dynamic, type-only included: they still couple the packages). */
export function importsOf(text: string): string[] {
  return [...text.matchAll(/(?:from\s+|import\s*\(\s*)'([^']+)'/g)].map((m) => m[1]!);
}

/** The package a specifier names: `@scope/name/sub` → `@scope/name`, `name/sub` → `name`. */
export function packageOf(spec: string): string {
  const parts = spec.split('/');
  return spec.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0]!;
}

/** Every violation of the dependency order, undeclared dependency or impurity in the tree at `root`. */
export function violations(root: string): string[] {
  const out: string[] = [];
  const builtins = new Set(builtinModules);
  const devDeps = new Set(Object.keys((JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { devDependencies?: Record<string, string> }).devDependencies ?? {}));
  for (const pkg of packages(root)) {
    const layer = LAYER[pkg.name];
    if (layer === undefined) {
      out.push(`${pkg.name}: not in the dependency order`);
      continue;
    }
    for (const file of sources(root, join(pkg.dir, 'src'))) {
      for (const spec of importsOf(readFileSync(join(root, file), 'utf8'))) {
        if (spec.startsWith('.') || spec.startsWith('node:') || builtins.has(spec)) continue;
        const target = packageOf(spec);
        if (target === pkg.name) continue;
        // Helpers only tests import may use the workspace's dev dependencies (the official openai client).
        const testOnly = file.endsWith('test-helpers.ts') && devDeps.has(target);
        if (!pkg.deps.has(target) && !testOnly) out.push(`${file}: imports ${target}, not a dependency in ${pkg.dir}/package.json`);
        const targetLayer = LAYER[target];
        if (targetLayer !== undefined && targetLayer >= layer) out.push(`${file}: ${pkg.name} (layer ${layer}) imports ${target} (layer ${targetLayer}): against the dependency order`);
      }
    }
  }
  for (const rel of PURE) {
    for (const file of sources(root, rel)) {
      if (PURE_EXCEPT.has(file)) continue;
      const text = readFileSync(join(root, file), 'utf8');
      for (const spec of importsOf(text)) {
        if (!spec.startsWith('.') && !spec.startsWith('@synkti/interface') && !spec.startsWith('@synkti/protocol') && !spec.startsWith('@synkti/fleet')) out.push(`${file}: pure code imports ${spec}`);
      }
      const impure = /\bDate\.now\b|\bMath\.random\b|\bsetTimeout\b|\bsetInterval\b|\bperformance\.now\b/.exec(text);
      if (impure !== null) out.push(`${file}: pure code uses ${impure[0]}`);
    }
  }
  return out;
}
