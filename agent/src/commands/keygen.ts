import { access, mkdir, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { SynktiError } from '@synkti/interface';
import { generateSwarmKey } from '@synkti/mesh';
import type { Command } from 'commander';

export function registerKeygenCommand(program: Command): void {
  program
    .command('keygen')
    .description('Write a new pre-shared swarm key; every agent of a fleet needs the same key.')
    .option('--out <file>', 'where to write the key ("-" for stdout)', '-')
    .option('--force', 'overwrite an existing file', false)
    .action(async (opts: { out: string; force: boolean }) => {
      const key = generateSwarmKey();
      if (opts.out === '-') {
        process.stdout.write(key);
        return;
      }
      if (!opts.force && (await exists(opts.out))) {
        throw new SynktiError('FILE_EXISTS', `${opts.out} exists; pass --force to replace it (agents with the old key will no longer connect)`);
      }
      await mkdir(dirname(opts.out), { recursive: true });
      await writeFile(opts.out, key, { mode: 0o600 });
      process.stderr.write(`synkti: wrote swarm key to ${opts.out}\n`);
    });
}

async function exists(path: string): Promise<boolean> {
  try {
    await access(path);
    return true;
  } catch {
    return false;
  }
}
