import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { generateKeyPair, privateKeyFromProtobuf, privateKeyToProtobuf } from '@libp2p/crypto/keys';
import type { PrivateKey } from '@libp2p/interface';
import { PeerKeyError } from './errors.js';

export const PEER_KEY_FILE = 'peer.key';

/**
 * Loads the agent's Ed25519 key from its state directory, creating it on first start, so the
 * peer ID (the ID the launcher rule orders) survives restarts. Written atomically, mode 0600.
 */
export async function loadOrCreatePeerKey(stateDir: string): Promise<PrivateKey> {
  const path = join(stateDir, PEER_KEY_FILE);
  let bytes: Buffer | undefined;
  try {
    bytes = await readFile(path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') {
      throw new PeerKeyError(`cannot read peer key ${path}: ${(err as Error).message}`, { cause: err });
    }
  }
  if (bytes !== undefined) {
    try {
      return privateKeyFromProtobuf(bytes);
    } catch (err) {
      throw new PeerKeyError(`peer key ${path} is corrupt; move it away to get a new peer ID`, { cause: err });
    }
  }
  const key = await generateKeyPair('Ed25519');
  await mkdir(stateDir, { recursive: true, mode: 0o700 });
  const tmp = `${path}.${process.pid}.tmp`;
  await writeFile(tmp, privateKeyToProtobuf(key), { mode: 0o600 });
  await rename(tmp, path);
  return key;
}

/** The peer ID an agent with this state directory has (creating its key if needed). */
export async function peerIdOfStateDir(stateDir: string): Promise<string> {
  const { peerIdFromPrivateKey } = await import('@libp2p/peer-id');
  return peerIdFromPrivateKey(await loadOrCreatePeerKey(stateDir)).toString();
}
