import { test } from 'node:test';
import assert from 'node:assert/strict';
import { TokenMemo, tokenizePrompt } from '../../../server/engine/promptTokens';

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

// Workspace files as droppable units: separator + path line + text, sharing a dropRank.
const file = (path: string, text: string, dropRank: number) => [
  { special: 'fileSep' as const, dropRank },
  { text: `${path}\n`, dropRank },
  { text, dropRank },
];
const withFiles = (prefix: string) => [
  ...file('a', 'AAAA', 3), // 7 tokens each
  ...file('b', 'BBBB', 1),
  ...file('c', 'CCCC', 2),
  { special: 'fileSep' as const },
  { text: prefix, cut: 'start' as const },
];
const unit = (path: string, text: string) => [1004, ...ids(`${path}\n${text}`)];
const tokenizerWithFiles = { ...tokenizer, special: { ...tokenizer.special, fileSep: 1004 } };

test('within budget, droppable units stay', () => {
  assert.deepEqual(tokenizePrompt(tokenizerWithFiles, withFiles('xyz'), 100), [...unit('a', 'AAAA'), ...unit('b', 'BBBB'), ...unit('c', 'CCCC'), 1004, ...ids('xyz')]);
});

test('over budget, whole units go highest dropRank first and the rest keep their order; cut parts are spared', () => {
  // 21 + 1 + 3 = 25 tokens; 18 drops a (rank 3) only, 11 drops c (rank 2) too.
  assert.deepEqual(tokenizePrompt(tokenizerWithFiles, withFiles('xyz'), 18), [...unit('b', 'BBBB'), ...unit('c', 'CCCC'), 1004, ...ids('xyz')]);
  const fit = { droppedUnits: 0 };
  assert.deepEqual(tokenizePrompt(tokenizerWithFiles, withFiles('xyz'), 11, fit), [...unit('b', 'BBBB'), 1004, ...ids('xyz')]);
  assert.equal(fit.droppedUnits, 2, 'the caller learns how many files were left out');
});

test('when dropping every unit is not enough, cut parts give up tokens as before', () => {
  assert.deepEqual(tokenizePrompt(tokenizerWithFiles, withFiles('abcdefgh'), 4), [1004, ...ids('fgh')]);
  assert.throws(() => tokenizePrompt(tokenizerWithFiles, [...file('a', 'AAAA', 1), { text: 'fixed' }], 3), /fixed parts take 5 tokens/);
});

test('a cut part keeps at most its own maxTokens, whatever room the budget leaves', () => {
  const parts = [...file('a', 'AAAA', 1), { special: 'fileSep' as const }, { text: 'abcdefgh', cut: 'start' as const, maxTokens: 3 }, { text: 'uvwxyz', cut: 'end' as const, maxTokens: 2 }];
  assert.deepEqual(tokenizePrompt(tokenizerWithFiles, parts, 100), [...unit('a', 'AAAA'), 1004, ...ids('fgh'), ...ids('uv')]);
  // Capped first, the current file no longer pushes the workspace file out.
  assert.deepEqual(tokenizePrompt(tokenizerWithFiles, parts, 13), [...unit('a', 'AAAA'), 1004, ...ids('fgh'), ...ids('uv')]);
});

test('a part cannot be both cut and dropped', () => {
  assert.throws(() => tokenizePrompt(tokenizer, [{ text: 'abc', cut: 'start', dropRank: 1 }], 10), /either cut or dropped/);
});

test('whole texts are tokenized once per tokenizer; cut texts every time', () => {
  let calls: string[] = [];
  const counting = { special: tokenizerWithFiles.special, encode: (text: string) => (calls.push(text), ids(text)) };
  const parts = [...file('a', 'AAAA', 1), { special: 'fileSep' as const }, { text: 'prefix', cut: 'start' as const }];
  const first = tokenizePrompt(counting, parts, 100);
  assert.deepEqual(calls, ['a\n', 'AAAA', 'prefix']);
  calls = [];
  assert.deepEqual(tokenizePrompt(counting, parts, 100), first);
  assert.deepEqual(calls, ['prefix']);
  // Another tokenizer (another model) does not see the first one's ids.
  const other = { special: tokenizerWithFiles.special, encode: (text: string) => (calls.push(`other:${text}`), ids(text)) };
  calls = [];
  tokenizePrompt(other, parts, 100);
  assert.deepEqual(calls, ['other:a\n', 'other:AAAA', 'other:prefix']);
});

test('the memo forgets the least recently used texts past its character budget', () => {
  let calls = 0;
  const counting = { special: tokenizer.special, encode: (text: string) => (calls++, ids(text)) };
  const memo = new TokenMemo(10);
  memo.encode(counting, 'aaaa');
  memo.encode(counting, 'bbbb');
  memo.encode(counting, 'aaaa'); // a is now the most recent
  memo.encode(counting, 'cccc'); // 12 chars: b goes
  assert.equal(calls, 3);
  assert.equal(memo.chars, 8);
  memo.encode(counting, 'aaaa');
  assert.equal(calls, 3, 'a was kept');
  memo.encode(counting, 'bbbb');
  assert.equal(calls, 4, 'b was forgotten');
  assert.deepEqual([...memo.encode(counting, 'x'.repeat(11))], ids('x'.repeat(11)), 'a text over the whole budget is tokenized, not kept');
  assert.ok(memo.chars <= 10);
});
