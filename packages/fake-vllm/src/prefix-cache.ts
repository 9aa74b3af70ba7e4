import { PREFIX_CACHE_PROMPTS } from './constants.js';

/**
 * vLLM's automatic prefix caching in miniature, for `vllm:prefix_cache_queries_total` and
 * `vllm:prefix_cache_hits_total`: a prompt's hit is the longest token prefix it shares with any
 * of the last `capacity` prompts prefilled. Deterministic and bounded. Unlike vLLM it counts
 * single tokens, not whole KV blocks, and never evicts under memory pressure.
 */
export class PrefixCache {
  readonly #capacity: number;
  /** A ring of the latest prompts; `#next` is where the next one goes. */
  readonly #prompts: (readonly number[])[] = [];
  #next = 0;

  constructor(capacity = PREFIX_CACHE_PROMPTS) {
    this.#capacity = Math.max(1, capacity);
  }

  /** The cached tokens of `tokenIds` (0..length), then remembers it as the latest prompt. */
  lookup(tokenIds: readonly number[]): number {
    let hit = 0;
    for (const seen of this.#prompts) {
      hit = Math.max(hit, commonPrefix(seen, tokenIds));
      if (hit === tokenIds.length) break;
    }
    this.#prompts[this.#next] = [...tokenIds];
    this.#next = (this.#next + 1) % this.#capacity;
    return hit;
  }
}

function commonPrefix(a: readonly number[], b: readonly number[]): number {
  const n = Math.min(a.length, b.length);
  let i = 0;
  while (i < n && a[i] === b[i]) i++;
  return i;
}
