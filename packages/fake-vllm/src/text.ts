import { CHARS_PER_TOKEN } from './constants.js';

/**
 * Deterministic "model output": words taken in turn from a fixed list, starting at a place
 * chosen by a hash of the prompt and the seed, so the same request always gets the same text
 * and different prompts get visibly different text.
 */
const WORDS = [
  'the', 'fleet', 'serves', 'tokens', 'from', 'spot', 'nodes', 'while', 'peers', 'gossip',
  'their', 'state', 'every', 'second', 'and', 'route', 'around', 'a', 'lost', 'engine',
  'quickly', 'so', 'no', 'request', 'fails', 'when', 'capacity', 'moves', 'between', 'zones',
  'of', 'cheap', 'GPUs', 'that', 'vanish', 'with', 'two', 'minutes', 'notice', 'yet',
  'answers', 'keep', 'streaming', 'to', 'patient', 'clients', 'over', 'loopback',
] as const;

/** FNV-1a, 32 bit: a tiny stable string hash (not for security). */
export function hashText(text: string, seed = 0): number {
  let h = (0x811c9dc5 ^ seed) >>> 0;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h;
}

/** The text of output token `index` for a generation started from `textSeed`. */
export function tokenText(textSeed: number, index: number): string {
  const word = WORDS[(textSeed + index) % WORDS.length] ?? 'token';
  return index === 0 ? word : ` ${word}`;
}

/** The whole text of `count` tokens: what concatenating every streamed delta gives. */
export function generatedText(textSeed: number, count: number): string {
  let text = '';
  for (let i = 0; i < count; i++) text += tokenText(textSeed, i);
  return text;
}

/** Prompt length in tokens: ~4 characters per token, at least one for any non-empty text. */
export function countTokens(text: string): number {
  return Math.ceil(text.length / CHARS_PER_TOKEN);
}
