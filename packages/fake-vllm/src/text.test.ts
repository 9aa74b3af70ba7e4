import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { expectedCompletion } from './expected.js';
import { countTokens, decodeTokenIds, encodeText, generateText, WORD_ID_BASE } from './text.js';

const MODEL = 'synkti/fake-model';

describe('the fake model and tokenizer', { timeout: 20_000 }, () => {
  it('makes each token a function of the context and the seed', () => {
    const a = generateText('hello', 20);
    assert.deepEqual(generateText('hello', 20), a, 'same context, same tokens');
    assert.notEqual(generateText('hellO', 20).text, a.text);
    assert.notEqual(generateText('hello', 20, 1).text, a.text, 'the seed changes the text');
    assert.match(a.text, /^ \S+( \S+){19}$/, 'a word after text joins with a space');
    assert.match(generateText('line\n', 3).text, /^\S+ \S+ \S+$/, 'no space at the start of a line');
    assert.match(generateText('', 2).text, /^\S+ \S+$/, 'no space at the very start');
    assert.ok(a.tokenIds.every((id) => id >= WORD_ID_BASE && id < WORD_ID_BASE + 48));
  });

  it('continues from any prefix of its own output with exactly the rest', () => {
    const context = '<|user|>\nwrite\n<|assistant|>\n';
    const whole = generateText(context, 300);
    for (const k of [0, 1, 2, 7, 63, 64, 65, 150, 299]) {
      const head = generateText(context, k);
      const rest = generateText(context + head.text, 300 - k);
      assert.equal(head.text + rest.text, whole.text, `k=${k}`);
      assert.deepEqual([...head.tokenIds, ...rest.tokenIds], whole.tokenIds, `k=${k}`);
    }
  });

  it('round-trips any text through token ids, ~4 ASCII characters a token', () => {
    for (const text of ['Once upon a time', 'a', 'tabs\tand\nlines', 'é ü 日本語 🙂 mixed ascii', '<|user|>\nhi\n']) {
      assert.equal(decodeTokenIds(encodeText(text)), text);
    }
    assert.equal(countTokens('Once upon a time'), 4);
    assert.equal(countTokens('abcdefghi'), 3);
    assert.equal(decodeTokenIds([5]), '<|5|>', 'an unknown id decodes to a stable placeholder');
  });

  it('decodes prompt ids + generated ids like the same text', () => {
    const prompt = 'The story so far';
    const whole = generateText(prompt, 30);
    const ids = [...encodeText(prompt), ...whole.tokenIds.slice(0, 10)];
    assert.equal(decodeTokenIds(ids), prompt + generateText(prompt, 10).text);
    assert.equal(generateText(decodeTokenIds(ids), 20).text, generateText(prompt + generateText(prompt, 10).text, 20).text);
    // Word ids alone: the first word takes no leading space, the next ones do.
    assert.equal(decodeTokenIds([WORD_ID_BASE, WORD_ID_BASE + 1]), 'the fleet');
    assert.equal(decodeTokenIds([WORD_ID_BASE], 'x\n'), 'the');
  });

  it('expectedCompletion tells what a chat continuation must add', () => {
    const messages = [{ role: 'user', content: 'tell me' }];
    const [whole] = expectedCompletion('chat', { model: MODEL, messages, max_tokens: 40, ignore_eos: true });
    assert.ok(whole !== undefined);
    assert.equal(whole.tokenIds.length, 40);
    const words = whole.text.split(' ');
    const partial = { role: 'assistant', content: words.slice(0, 15).join(' ') };
    const [rest] = expectedCompletion('chat', {
      model: MODEL,
      messages: [...messages, partial],
      continue_final_message: true,
      add_generation_prompt: false,
      max_tokens: 25,
      ignore_eos: true,
    });
    assert.equal(partial.content + (rest?.text ?? ''), whole.text);
    assert.deepEqual(rest?.tokenIds, whole.tokenIds.slice(15));
  });
});
