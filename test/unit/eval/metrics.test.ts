// EVAL.md's line metrics. The edit similarities are Python's difflib.SequenceMatcher(None, a, b).ratio() × 100.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { editSimilarity, identifiers, scoreLine, summarize } from '../../../server/eval/metrics';

test('edit similarity equals difflib ratio × 100', () => {
  const reference: Array<[string, string, number]> = [
    ['return json.load(f)', 'return json.loads(f.read())', 82.6086956521739],
    ['', 'abc', 0],
    ['abc', '', 0],
    ['', '', 100],
    ['const total = items.reduce((a, b) => a + b, 0);', 'const total = items.length;', 59.45945945945946],
    ['efault } from "./internal";', 'type NativeTouchEvent = TouchEvent;', 32.25806451612903],
    ['aaaa', 'aa', 66.66666666666666],
    ['abcabcabc', 'cbacbacba', 44.44444444444444],
  ];
  for (const [a, b, expected] of reference) assert.ok(Math.abs(editSimilarity(a, b) - expected) < 1e-9, `${JSON.stringify(a)} vs ${JSON.stringify(b)}: ${editSimilarity(a, b)} != ${expected}`);
});

test('scoreLine trims, and identifier match compares identifiers in order', () => {
  assert.deepEqual(scoreLine('  return a + b;\n', 'return a + b;'), { exactMatch: true, editSimilarity: 100, identifierMatch: true });
  const spaced = scoreLine('return a+b', 'return a + b;');
  assert.equal(spaced.exactMatch, false);
  assert.equal(spaced.identifierMatch, true);
  assert.equal(scoreLine('return b + a', 'return a + b').identifierMatch, false);
  assert.deepEqual(identifiers('const $el = this._x1 + 2;'), ['const', '$el', 'this', '_x1']);
});

test('summarize gives means per kind and over all cases', () => {
  const s = summarize([
    { kind: 'needle', score: scoreLine('42', '42') },
    { kind: 'needle', score: scoreLine('41', '42') },
    { kind: 'in_file', score: scoreLine('x', 'y') },
  ]);
  assert.equal(s.needle.cases, 2);
  assert.equal(s.needle.exact_match, 0.5);
  assert.equal(s.all.cases, 3);
  assert.equal(s.in_file.edit_similarity, 0);
});
