import { HASHED_TOKEN_PREFIX, MAX_TOKEN_CHARS } from './constants.js';

/** The facts a launch token is made of: every peer that knows them computes the same token. */
export interface TokenFacts {
  fleet: string;
  slot: string;
  /** Instance ID of the slot's last known holder, or null for a first launch. */
  replaces: string | null;
  /** 0 for the first attempt at (slot, replaces); +1 for each attempt that timed out. */
  generation: number;
  /** Index into the ordered placement list (instance type + subnet). */
  placementIndex: number;
  /**
   * The deployment the fleet belongs to (e.g. its launch template ID). EC2 remembers a
   * ClientToken, so a fleet recreated under the same name with the same tokens would get the
   * old fleet's instances back, or IdempotentParameterMismatch. Empty or absent: none.
   */
  epoch?: string;
}

const PLAIN = /^[A-Za-z0-9._-]*$/;

/**
 * The idempotency token (EC2 `ClientToken`) of one launch attempt. Readable when every field
 * is plain and the result fits in 64 characters (`:` cannot occur inside a field, so the
 * form is unambiguous); otherwise a 128-bit hash of an unambiguous encoding, `s1-<32 hex>`.
 * Deterministic: no clock, no randomness, no peer-specific input.
 */
export function launchToken(facts: TokenFacts): string {
  const replaces = facts.replaces ?? '-';
  const epoch = facts.epoch ?? '';
  const fields = [facts.fleet, facts.slot, replaces];
  if (fields.every((f) => PLAIN.test(f) && f.length > 0) && PLAIN.test(epoch)) {
    const plain = `${epoch === '' ? '' : `${epoch}:`}${facts.fleet}:${facts.slot}:${replaces}:g${facts.generation}:p${facts.placementIndex}`;
    if (plain.length <= MAX_TOKEN_CHARS) return plain;
  }
  const parts: unknown[] = [facts.fleet, facts.slot, facts.replaces, facts.generation, facts.placementIndex];
  if (epoch !== '') parts.push(epoch);
  const encoded = JSON.stringify(parts);
  return HASHED_TOKEN_PREFIX + hash128(encoded);
}

/**
 * cyrb128: a small non-cryptographic 128-bit string hash (four mixed 32-bit lanes). Tokens
 * are not secrets; the hash only has to be deterministic and collision-free in practice.
 */
export function hash128(text: string): string {
  let h1 = 1779033703;
  let h2 = 3144134277;
  let h3 = 1013904242;
  let h4 = 2773480762;
  for (let i = 0; i < text.length; i++) {
    const k = text.charCodeAt(i);
    h1 = h2 ^ Math.imul(h1 ^ k, 597399067);
    h2 = h3 ^ Math.imul(h2 ^ k, 2869860233);
    h3 = h4 ^ Math.imul(h3 ^ k, 951274213);
    h4 = h1 ^ Math.imul(h4 ^ k, 2716044179);
  }
  h1 = Math.imul(h3 ^ (h1 >>> 18), 597399067);
  h2 = Math.imul(h4 ^ (h2 >>> 22), 2869860233);
  h3 = Math.imul(h1 ^ (h3 >>> 17), 951274213);
  h4 = Math.imul(h2 ^ (h4 >>> 19), 2716044179);
  h1 ^= h2 ^ h3 ^ h4;
  h2 ^= h1;
  h3 ^= h1;
  h4 ^= h1;
  return [h1, h2, h3, h4].map((h) => (h >>> 0).toString(16).padStart(8, '0')).join('');
}
