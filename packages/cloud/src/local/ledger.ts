import { mkdir, open, readdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { SynktiError } from '@synkti/interface';

export interface LocalInstanceRecord {
  instanceId: string;
  index: number;
  fleet: string;
  slot: string | null;
  token: string | null;
  replaces: string | null;
  pid: number | null;
  createdAt: string;
  terminated: boolean;
}

/** How long a second launcher waits for the first to finish recording the instance for a token. */
const TOKEN_WAIT_MS = 30_000;
const TOKEN_POLL_MS = 50;

/**
 * The local provider's ledger, shared by every agent process of a local fleet through the file
 * system. Tokens are claimed with an exclusive create (`wx`): of two processes launching the
 * same token, exactly one wins, the other reads the winner's instance. Records are written
 * atomically (temp file + rename) so a reader never sees half of one.
 */
export class LocalLedger {
  readonly dir: string;

  constructor(dir: string) {
    this.dir = dir;
  }

  async init(): Promise<void> {
    await mkdir(join(this.dir, 'tokens'), { recursive: true });
    await mkdir(join(this.dir, 'instances'), { recursive: true });
  }

  /** Claims `token`; returns true for the first claimant, false when it was claimed before. */
  async claimToken(token: string, params: string): Promise<boolean> {
    try {
      const handle = await open(this.#tokenPath(token), 'wx');
      await handle.writeFile(JSON.stringify({ params, instanceId: null }));
      await handle.close();
      return true;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'EEXIST') return false;
      throw err;
    }
  }

  async bindToken(token: string, params: string, instanceId: string): Promise<void> {
    await this.#atomicWrite(this.#tokenPath(token), JSON.stringify({ params, instanceId }));
  }

  /** The instance and parameters recorded for a token, waiting while its claimant is mid-launch. */
  async readToken(token: string): Promise<{ params: string; instanceId: string }> {
    const deadline = Date.now() + TOKEN_WAIT_MS;
    for (;;) {
      const entry = JSON.parse(await readFile(this.#tokenPath(token), 'utf8').catch(() => '{}')) as { params?: string; instanceId?: string | null };
      if (entry.params !== undefined && typeof entry.instanceId === 'string') return { params: entry.params, instanceId: entry.instanceId };
      if (Date.now() > deadline) throw new SynktiError('PROVIDER_FAILED', `token ${token} was claimed but never bound to an instance`);
      await new Promise((r) => setTimeout(r, TOKEN_POLL_MS));
    }
  }

  /** Reserves the next free node index (an exclusive mkdir), race-free across processes. */
  async reserveIndex(nodesDir: string, from = 0): Promise<number> {
    await mkdir(nodesDir, { recursive: true });
    for (let index = from; index < 10_000; index++) {
      try {
        await mkdir(join(nodesDir, `node-${index}`));
        return index;
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      }
    }
    throw new SynktiError('PROVIDER_FAILED', 'no free node index');
  }

  async writeInstance(record: LocalInstanceRecord): Promise<void> {
    await this.#atomicWrite(join(this.dir, 'instances', `${record.instanceId}.json`), JSON.stringify(record, null, 2));
  }

  async readInstance(instanceId: string): Promise<LocalInstanceRecord | undefined> {
    try {
      return JSON.parse(await readFile(join(this.dir, 'instances', `${instanceId}.json`), 'utf8')) as LocalInstanceRecord;
    } catch {
      return undefined;
    }
  }

  async instances(): Promise<LocalInstanceRecord[]> {
    const names = await readdir(join(this.dir, 'instances')).catch(() => [] as string[]);
    const records = await Promise.all(names.filter((n) => n.endsWith('.json')).map((n) => this.readInstance(n.slice(0, -5))));
    return records.filter((r): r is LocalInstanceRecord => r !== undefined).sort((a, b) => a.index - b.index);
  }

  #tokenPath(token: string): string {
    return join(this.dir, 'tokens', encodeURIComponent(token));
  }

  async #atomicWrite(path: string, text: string): Promise<void> {
    const tmp = `${path}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`;
    await writeFile(tmp, text);
    await rename(tmp, path);
  }
}
