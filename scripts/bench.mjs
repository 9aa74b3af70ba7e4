#!/usr/bin/env node
// `npm run bench -- <name> [flags]`: runs one benchmark from test/dist/bench/<name>.js, prints
// its figures. Each bench module exports `main(argv: string[]): Promise<void>`.
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import './polyfills.mjs';

const root = new URL('..', import.meta.url).pathname;
const dir = join(root, 'test/dist/bench');
const [name, ...rest] = process.argv.slice(2);
const available = existsSync(dir) ? readdirSync(dir).filter((f) => f.endsWith('.js') && !f.includes('.test.')).map((f) => f.slice(0, -3)) : [];
if (name === undefined || !available.includes(name)) {
  console.error(`bench: ${name === undefined ? 'name a benchmark' : `unknown benchmark "${name}"`}; available: ${available.join(', ') || '(none built)'}`);
  process.exit(2);
}
const mod = await import(join(dir, `${name}.js`));
await mod.main(rest);
process.exit(0);
