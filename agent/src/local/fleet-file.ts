import { readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { isProcessAlive } from '@synkti/cloud';
import { SynktiError } from '@synkti/interface';

export const FLEET_FILE = 'fleet.json';

export interface LocalNode {
  index: number;
  stateDir: string;
  apiPort: number;
  p2pPort: number;
  enginePort: number;
  metadataPort: number;
  pid: number | null;
  peerId: string;
}

export interface LocalFleetFile {
  version: 1;
  /** The `synkti local up` process that owns the fleet. */
  supervisorPid: number;
  startedAt: string;
  dir: string;
  basePort: number;
  model: string;
  swarmKeyFile: string;
  /** Nodes the fleet keeps: the replacement target. */
  targetSize: number;
  launchTimeoutMs: number;
  /** Extra flags every agent gets, launched replacements included. */
  agentArgs: string[];
  /**
   * Address every agent binds its API and libp2p listener to (default 127.0.0.1). 0.0.0.0 makes
   * agents reachable from other network namespaces (the partition chaos test); `local up` keeps
   * the default so a laptop fleet is never exposed on the network.
   */
  bindHost?: string;
  /** The nodes `local up` started; replacements are in the provider ledger (see listNodes). */
  nodes: LocalNode[];
}

export class NoLocalFleetError extends SynktiError {
  constructor(dir: string, reason: string) {
    super('NO_LOCAL_FLEET', `no local fleet in ${dir} (${reason}); start one with \`synkti local up --dir ${dir}\``);
  }
}

export async function writeFleetFile(dir: string, fleet: LocalFleetFile): Promise<void> {
  const path = join(dir, FLEET_FILE);
  await writeFile(`${path}.tmp`, `${JSON.stringify(fleet, null, 2)}\n`);
  await rename(`${path}.tmp`, path);
}

export async function readFleetFile(dir: string): Promise<LocalFleetFile> {
  let text: string;
  try {
    text = await readFile(join(dir, FLEET_FILE), 'utf8');
  } catch {
    throw new NoLocalFleetError(dir, `${FLEET_FILE} not found`);
  }
  try {
    const fleet = JSON.parse(text) as LocalFleetFile;
    if (fleet.version !== 1 || !Array.isArray(fleet.nodes)) throw new Error('unknown format');
    return fleet;
  } catch (err) {
    throw new NoLocalFleetError(dir, `${FLEET_FILE} is unreadable: ${(err as Error).message}`);
  }
}

export async function removeFleetFile(dir: string): Promise<void> {
  await rm(join(dir, FLEET_FILE), { force: true });
}

export { isProcessAlive as isAlive };
