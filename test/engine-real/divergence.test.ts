import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { divergence, NEAR_TIE_LOGPROB } from './llama.js';

/** A reference answer: each token with its logprob and one runner-up. */
function reference(...tokens: [token: string, logprob: number, runnerUp: string, runnerUpLogprob: number][]) {
  return tokens.map(([token, logprob, alt, altLogprob]) => ({ token, logprob, top_logprobs: [{ token, logprob }, { token: alt, logprob: altLogprob }] }));
}

const ref = reference([' a', -0.1, ' x', -3], [' b', -0.5, ' y', -0.5 - NEAR_TIE_LOGPROB / 5], [' c', -0.2, ' z', -2], [' d', -0.3, ' w', -1]);

describe('divergence: where a continued stream may leave the uninterrupted answer', () => {
  it('none when the texts are equal', () => {
    assert.equal(divergence(' a b c d', ref, 0), null);
  });

  it('a near-tie after the loss: the runner-up within the bound, and the rest is free', () => {
    const d = divergence(' a y q r', ref, 1);
    assert.deepEqual({ ...d, gap: undefined }, { atToken: 1, gap: undefined, chosen: ' y', reference: ' b' });
    assert.ok(Math.abs(d!.gap - NEAR_TIE_LOGPROB / 5) < 1e-12, `gap ${d!.gap}`);
  });

  it('fails a departure before the loss, even at a tie', () => {
    assert.throws(() => divergence(' a y q r', ref, 2), /before the loss, at token 1/);
  });

  it('fails a runner-up that is no tie', () => {
    assert.throws(() => divergence(' a b z d', ref, 0), /token 2 .* below it, no tie/);
  });

  it('fails dropped, repeated or garbled text: not the runner-up', () => {
    assert.throws(() => divergence(' a b d', ref, 0), /token 2 .*not the runner-up/, 'dropped');
    assert.throws(() => divergence(' a b b c d', ref, 0), /token 2 .*not the runner-up/, 'repeated');
    assert.throws(() => divergence(' a b c', ref, 0), /token 3 .*not the runner-up/, 'cut short');
    assert.throws(() => divergence(' a b c d e', ref, 0), /runs on past/, 'too long');
  });
});
