import { test } from 'node:test';
import assert from 'node:assert/strict';
import { argmax, chooseToken, logSoftmaxAt, seededRandom } from '../../../server/engine/sampling';
import { cutAtStop, IncrementalDecoder } from '../../../server/engine/generate';

test('greedy picks the largest logit; log-softmax sums to one', () => {
  const logits = new Float32Array([0.5, 3, -1, 2.9]);
  assert.equal(argmax(logits), 1);
  assert.equal(chooseToken(logits, 0, 1, seededRandom(1)), 1);
  const total = [0, 1, 2, 3].reduce((sum, i) => sum + Math.exp(logSoftmaxAt(logits, i)), 0);
  assert.ok(Math.abs(total - 1) < 1e-6, `probabilities sum to ${total}`);
});

test('sampling is repeatable with a seed and respects top-p', () => {
  const logits = new Float32Array([2, 1.9, -5, -6]);
  const draw = (seed: number) => Array.from({ length: 50 }, ((r) => () => chooseToken(logits, 1, 0.9, r))(seededRandom(seed)));
  assert.deepEqual(draw(7), draw(7));
  const seen = new Set(draw(3));
  assert.ok(!seen.has(2) && !seen.has(3), 'tokens outside the nucleus were drawn');
  assert.ok(seen.has(0) && seen.has(1), 'both nucleus tokens should appear in 50 draws');
});

test('cutAtStop cuts before the earliest stop string', () => {
  assert.equal(cutAtStop('abc\ndef', ['\n']), 'abc');
  assert.equal(cutAtStop('abc;def\n', ['\n', ';']), 'abc');
  assert.equal(cutAtStop('abc', ['\n', '']), undefined);
});

test('IncrementalDecoder gives the text a whole decode gives, across split characters', () => {
  // A byte-level stand-in: each token is one UTF-8 byte.
  const tokenizer = { decode: (ids: number[]) => new TextDecoder().decode(Uint8Array.from(ids)) };
  const bytes = Array.from(new TextEncoder().encode('a = "日本語 😀";\r\nok'));
  const decoder = new IncrementalDecoder(tokenizer);
  bytes.forEach((b, i) => {
    const whole = tokenizer.decode(bytes.slice(0, i + 1)).replace(/\uFFFD$/, '');
    assert.equal(decoder.push(b), whole, `after ${i + 1} tokens`);
  });
});

test('IncrementalDecoder keeps leading-space markers that depend on the token before', () => {
  // A SentencePiece-like stand-in: "▁" is a space, except at the very start of a decode.
  const vocab = ['▁const', '▁total', '▁=', '▁items', '.', 'map', '(', ')'];
  const tokenizer = { decode: (ids: number[]) => ids.map((id) => vocab[id]).join('').replace(/▁/g, ' ').replace(/^ /, '') };
  const ids = [0, 1, 2, 3, 4, 5, 6, 7];
  const decoder = new IncrementalDecoder(tokenizer);
  let text = '';
  for (const id of ids) text = decoder.push(id);
  assert.equal(text, tokenizer.decode(ids));
  assert.equal(text, 'const total = items.map()');
});
