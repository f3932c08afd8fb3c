import { test } from 'node:test';
import assert from 'node:assert/strict';
import { tokenizePrompt } from '../../../server/engine/promptTokens';

// One token per character, specials above 1000: enough to check the budget arithmetic.
const tokenizer = {
  encode: (text: string) => [...text].map((ch) => ch.codePointAt(0)!),
  special: { eos: [1000], fimPrefix: 1001, fimSuffix: 1002, fimMiddle: 1003 },
};
const ids = (text: string) => tokenizer.encode(text);

const parts = (prefix: string, suffix: string) => [
  { special: 'fimPrefix' as const },
  { text: prefix, cut: 'start' as const },
  { special: 'fimSuffix' as const },
  { text: suffix, cut: 'end' as const },
  { special: 'fimMiddle' as const },
];

test('a prompt within budget is tokenized whole', () => {
  assert.deepEqual(tokenizePrompt(tokenizer, parts('abc', 'xy'), 100), [1001, ...ids('abc'), 1002, ...ids('xy'), 1003]);
});

test('over budget, the longer cuttable part loses tokens from its marked end first', () => {
  assert.deepEqual(tokenizePrompt(tokenizer, parts('abcdefghij', 'xy'), 10), [1001, ...ids('fghij'), 1002, ...ids('xy'), 1003]);
  assert.deepEqual(tokenizePrompt(tokenizer, parts('abcd', 'uvwxyz'), 9), [1001, ...ids('bcd'), 1002, ...ids('uvw'), 1003]);
});

test('a missing special token or fixed parts over budget are clear errors', () => {
  assert.throws(() => tokenizePrompt(tokenizer, [{ special: 'fileSep' }], 10), /no fileSep token/);
  assert.throws(() => tokenizePrompt(tokenizer, [{ text: 'abcdef' }], 3), /fixed parts take 6 tokens/);
});
