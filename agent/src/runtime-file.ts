import { readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

export const RUNTIME_FILE = 'agent.json';

export interface RuntimeInfo {
  pid: number;
  peerId: string;
  apiUrl: string;
  enginePid: number | null;
  engineState: string | null;
}

let writeSeq = 0;

/** Written atomically (temp file + rename) so a reader never sees half a file. */
export async function writeRuntimeFile(stateDir: string, info: RuntimeInfo): Promise<void> {
  const path = join(stateDir, RUNTIME_FILE);
  // Unique per write: transitions can overlap, and two writers must not share a temp file.
  const tmp = `${path}.${process.pid}.${++writeSeq}.tmp`;
  await writeFile(tmp, `${JSON.stringify(info, null, 2)}\n`);
  await rename(tmp, path);
}

export async function readRuntimeFile(stateDir: string): Promise<RuntimeInfo | undefined> {
  try {
    return JSON.parse(await readFile(join(stateDir, RUNTIME_FILE), 'utf8')) as RuntimeInfo;
  } catch {
    return undefined;
  }
}
