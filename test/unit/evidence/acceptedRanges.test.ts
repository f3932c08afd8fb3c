// Accepted completions followed through edits: ranges over data, one case a row.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { AcceptedRanges, changedSpan, moveRange } from '../../../server/features/evidence/acceptedRanges';

// The accepted text is [5, 10) of "0123456789abcdef": "56789".
const base = '01234' + '56789' + 'abcdef';
const cases: Array<[string, string, [number, number] | undefined]> = [
  ['typing after it', '01234' + '56789' + 'Xabcdef', [5, 10]],
  ['typing right after it', '01234' + '56789' + 'XYZ' + 'abcdef', [5, 10]],
  ['typing before it', 'XX01234' + '56789' + 'abcdef', [7, 12]],
  ['typing right before it', '01234X' + '56789' + 'abcdef', [6, 11]],
  ['editing inside it', '01234' + '56XX789' + 'abcdef', [5, 12]],
  ['deleting inside it', '01234' + '59' + 'abcdef', [5, 7]],
  ['deleting it whole', '01234' + 'abcdef', undefined],
  ['replacing its start and what is before', '012' + 'ZZ' + '789' + 'abcdef', [5, 8]],
  ['replacing its end and what is after', '01234' + '56' + 'QQ' + 'cdef', [5, 9]],
  ['no change', base, [5, 10]],
];

for (const [name, after, expected] of cases) {
  test(`an accepted range after ${name}`, () => {
    const moved = moveRange({ start: 5, end: 10 }, base, after);
    assert.deepEqual(moved && [moved.start, moved.end], expected);
  });
}

test('changedSpan finds the common start and end', () => {
  assert.deepEqual(changedSpan('abcdef', 'abXYef'), { start: 2, oldEnd: 4, newEnd: 4 });
  assert.deepEqual(changedSpan('aaa', 'aaaa'), { start: 3, oldEnd: 3, newEnd: 4 });
  assert.equal(changedSpan('same', 'same'), undefined);
});

test('AcceptedRanges follows a document and answers the latest completion at an offset', () => {
  const ranges = new AcceptedRanges(2);
  ranges.add('u', base, 'a', 5, 5);
  ranges.add('u', base, 'b', 12, 2);
  assert.equal(ranges.at('u', 7)?.id, 'a');
  assert.equal(ranges.at('u', 10)?.id, 'a', 'the cursor right after it still hovers it');
  assert.equal(ranges.at('u', 11), undefined);
  ranges.changed('u', 'XX' + base);
  assert.equal(ranges.at('u', 7)?.id, 'a');
  assert.deepEqual(ranges.at('u', 14)?.range, { start: 14, end: 16 });
  ranges.add('u', 'XX' + base, 'c', 0, 1);
  assert.equal(ranges.at('u', 8), undefined, 'the oldest went past the limit');
  ranges.closed('u');
  assert.equal(ranges.at('u', 0), undefined);
});
