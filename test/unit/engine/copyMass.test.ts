import { test } from 'node:test';
import assert from 'node:assert/strict';
import { TokenPositions, addCopySums, lineOfPositions } from '../../../server/engine/copyMass';
import { seededRandom } from '../../../server/engine/sampling';

test('TokenPositions lists each token\'s positions in order, from a first position on', () => {
  const random = seededRandom(3);
  const ids = Array.from({ length: 500 }, () => Math.floor(random() * 20));
  for (const from of [0, 7]) {
    const positions = new TokenPositions(ids, 20, from);
    for (let token = 0; token < 20; token++) {
      const expected = ids.flatMap((id, p) => (id === token && p >= from ? [p] : []));
      assert.deepEqual(Array.from(positions.of(token)), expected, `token ${token}, from ${from}`);
    }
    assert.equal(positions.of(20).length, 0, 'a token outside the vocabulary is nowhere');
    assert.equal(positions.of(-1).length, 0);
  }
  assert.equal(new TokenPositions([], 5).of(0).length, 0);
});

test('lineOfPositions maps runs to lines, leaving sinks, gaps and positions past the prompt out', () => {
  // [start, end, line]: positions 0–3 on line 0, 5–7 on line 1 (4 is a special token), 8–11 on line 2.
  const runs = Int32Array.from([0, 4, 0, 5, 8, 1, 8, 12, 2]);
  assert.deepEqual(Array.from(lineOfPositions(runs, 10, 2)), [-1, -1, 0, 0, -1, 1, 1, 1, 2, 2]);
});

test('addCopySums adds each copy\'s mass times the bonus to its line, positions on no line left out', () => {
  const sums = new Float64Array(3);
  const lineOf = Int32Array.from([-1, 0, 0, 2, -1]);
  addCopySums(sums, { positions: Int32Array.from([0, 1, 2, 3, 4]), mass: Float32Array.from([5, 0.5, 0.25, 1, 7]) }, lineOf, 10);
  assert.deepEqual(Array.from(sums), [7.5, 0, 10]);
});
