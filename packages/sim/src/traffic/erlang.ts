/**
 * Erlang C for an M/M/c queue: the probability that an arrival waits. Computed through the
 * stable Erlang B recursion, O(c). `offered` = λ·E[S] in erlangs.
 */
export function erlangC(servers: number, offered: number): number {
  if (servers <= 0) return 1;
  if (offered >= servers) return 1;
  let b = 1;
  for (let k = 1; k <= servers; k++) b = (offered * b) / (k + offered * b);
  return (servers * b) / (servers - offered * (1 - b));
}

/** P(wait > t) for M/M/c: C · exp(−(cμ − λ) t). */
export function waitTail(c: number, pWait: number, mu: number, lambda: number, tMs: number): number {
  const rate = c * mu - lambda;
  if (rate <= 0) return 1;
  return pWait * Math.exp((-rate * tMs) / 1000);
}
