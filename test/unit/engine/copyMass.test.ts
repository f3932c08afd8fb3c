import { test } from 'node:test';
import assert from 'node:assert/strict';
import { TokenPositions } from '../../../server/engine/copyMass';
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
