import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { SwarmKeyError } from './errors.js';

const HEADER = '/key/swarm/psk/1.0.0/';
const ENCODING = '/base16/';
const KEY_HEX_CHARS = 64;

/** A new pre-shared swarm key in the go-ipfs/libp2p text format. */
export function generateSwarmKey(): string {
  return `${HEADER}\n${ENCODING}\n${randomBytes(KEY_HEX_CHARS / 2).toString('hex')}\n`;
}

/** Checks the key's format up front, so a bad file fails with a clear message, not a handshake error. */
export function parseSwarmKey(text: string, source = 'swarm key'): Uint8Array {
  const lines = text.trim().split(/\r?\n/);
  if (lines[0] !== HEADER || lines[1] !== ENCODING || lines.length !== 3) {
    throw new SwarmKeyError(`${source}: expected the lines "${HEADER}", "${ENCODING}" and 64 hex characters`);
  }
  if (!new RegExp(`^[0-9a-fA-F]{${KEY_HEX_CHARS}}$`).test(lines[2] ?? '')) {
    throw new SwarmKeyError(`${source}: the key line must be exactly ${KEY_HEX_CHARS} hex characters`);
  }
  return new TextEncoder().encode(`${lines.join('\n')}\n`);
}

export async function readSwarmKey(path: string): Promise<Uint8Array> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    throw new SwarmKeyError(`cannot read swarm key ${path}: ${(err as Error).message}`, { cause: err });
  }
  return parseSwarmKey(text, path);
}
