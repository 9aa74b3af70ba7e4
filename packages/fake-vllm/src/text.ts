/**
 * The fake model and its tokenizer. Each output token is a pure function of the context (the
 * rendered prompt plus the text generated so far) and the seed, so a request continued from a
 * prefix of its own output — chat with the partial answer as the final assistant message, or
 * completions with prompt + partial text or token ids — yields exactly the rest of the
 * uninterrupted answer. That is what makes request migration checkable end to end.
 */
const WORDS = [
  'the', 'fleet', 'serves', 'tokens', 'from', 'spot', 'nodes', 'while', 'peers', 'gossip',
  'their', 'state', 'every', 'second', 'and', 'route', 'around', 'a', 'lost', 'engine',
  'quickly', 'so', 'no', 'request', 'fails', 'when', 'capacity', 'moves', 'between', 'zones',
  'of', 'cheap', 'GPUs', 'that', 'vanish', 'with', 'two', 'minutes', 'notice', 'yet',
  'answers', 'keep', 'streaming', 'to', 'patient', 'clients', 'over', 'loopback',
] as const;

/** Id of WORDS[0]; generated tokens are the only ones in [WORD_ID_BASE, WORD_ID_BASE + WORDS.length). */
export const WORD_ID_BASE = 1_000;
/** A prompt character outside ASCII is one token: this + its code point. */
const CODE_POINT_ID_BASE = 100_000;
/** Up to four ASCII characters make one token (≈ 4 characters a token, like BPE on English). */
const ASCII_CHUNK_ID_BASE = 2_000_000;
const ASCII_CHUNK_CHARS = 4;
/** Offsets of 1-, 2-, 3- and 4-character chunks inside the chunk id range: every chunk has one id. */
const CHUNK_LENGTH_OFFSET = [0, 0, 128, 128 + 128 ** 2, 128 + 128 ** 2 + 128 ** 3];
const CHUNK_IDS_END = ASCII_CHUNK_ID_BASE + 128 + 128 ** 2 + 128 ** 3 + 128 ** 4;
/** How much of the context decides the next token: enough to tell contexts apart, cheap to hash. */
const CONTEXT_WINDOW_CHARS = 64;

/** FNV-1a, 32 bit: a tiny stable string hash (not for security). */
export function hashText(text: string, seed = 0): number {
  let h = (0x811c9dc5 ^ seed) >>> 0;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h;
}

/** murmur3's finaliser: FNV's low bits alone pick words unevenly. */
function mix(h: number): number {
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}

export interface Token {
  text: string;
  id: number;
}

/** A word joins the context with a space, except at the very start or after whitespace. */
function wordText(word: string, context: string): string {
  return context === '' || /\s$/.test(context) ? word : ` ${word}`;
}

/** The token the fake model produces after `context`. */
export function nextToken(context: string, seed: number): Token {
  const index = mix(hashText(context.slice(-CONTEXT_WINDOW_CHARS), seed)) % WORDS.length;
  return { text: wordText(WORDS[index] ?? 'token', context), id: WORD_ID_BASE + index };
}

/** The tokens after `context`, one at a time, as the engine produces them. */
export function* tokensAfter(context: string, seed: number): Generator<Token, never, undefined> {
  // Only the tail decides the next token, so a long prompt is not copied on every step.
  let tail = context.slice(-CONTEXT_WINDOW_CHARS);
  for (;;) {
    const token = nextToken(tail, seed);
    tail = (tail + token.text).slice(-CONTEXT_WINDOW_CHARS);
    yield token;
  }
}

/** The first `count` tokens after `context`: what concatenating every streamed delta gives. */
export function generateText(context: string, count: number, seed = 0): { text: string; tokenIds: number[] } {
  const tokens = tokensAfter(context, seed);
  let text = '';
  const tokenIds: number[] = [];
  for (let i = 0; i < count; i++) {
    const token = tokens.next().value;
    text += token.text;
    tokenIds.push(token.id);
  }
  return { text, tokenIds };
}

/**
 * The fake tokenizer: runs of ASCII in chunks of up to four characters, any other character
 * alone. Reversible (decodeTokenIds(encodeText(t)) === t), so a client that continues with
 * prompt_token_ids + token_ids gets the same context as one that continues with text.
 */
export function encodeText(text: string): number[] {
  const ids: number[] = [];
  let chunk: number[] = [];
  const flush = (): void => {
    if (chunk.length === 0) return;
    const packed = chunk.reduce((acc, cp) => acc * 128 + cp, 0);
    ids.push(ASCII_CHUNK_ID_BASE + (CHUNK_LENGTH_OFFSET[chunk.length] ?? 0) + packed);
    chunk = [];
  };
  for (const ch of text) {
    const cp = ch.codePointAt(0) ?? 0;
    if (cp < 128) {
      chunk.push(cp);
      if (chunk.length === ASCII_CHUNK_CHARS) flush();
    } else {
      flush();
      ids.push(CODE_POINT_ID_BASE + cp);
    }
  }
  flush();
  return ids;
}

/**
 * The text of `ids` when they follow `before`: word ids decode like generated tokens (leading
 * space rule included), other known ids to their characters, unknown ids to `<|id|>`.
 */
export function decodeTokenIds(ids: readonly number[], before = ''): string {
  let context = before;
  for (const id of ids) context += pieceOf(id, context);
  return context.slice(before.length);
}

function pieceOf(id: number, context: string): string {
  const word = WORDS[id - WORD_ID_BASE];
  if (word !== undefined) return wordText(word, context);
  if (id >= CODE_POINT_ID_BASE && id <= CODE_POINT_ID_BASE + 0x10ffff) return String.fromCodePoint(id - CODE_POINT_ID_BASE);
  if (id >= ASCII_CHUNK_ID_BASE && id < CHUNK_IDS_END) return unpackChunk(id - ASCII_CHUNK_ID_BASE);
  return `<|${id}|>`;
}

function unpackChunk(offset: number): string {
  let length = ASCII_CHUNK_CHARS;
  while (length > 1 && offset < (CHUNK_LENGTH_OFFSET[length] ?? 0)) length--;
  let packed = offset - (CHUNK_LENGTH_OFFSET[length] ?? 0);
  const codes: number[] = [];
  for (let i = 0; i < length; i++) {
    codes.unshift(packed % 128);
    packed = Math.floor(packed / 128);
  }
  return String.fromCharCode(...codes);
}

/** Prompt length in tokens, as the fake tokenizer counts it (~4 ASCII characters a token). */
export function countTokens(text: string): number {
  return encodeText(text).length;
}

/** Words already in an answer: the fake's tokens are words, so this is its token count. */
export function countWords(text: string): number {
  return text.split(/\s+/).filter((w) => w !== '').length;
}
