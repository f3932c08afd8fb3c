// The JS-owned KV cache: growth, truncation, and shrinking after a deep truncation.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { KvCache } from '../../../server/engine/kvCache';

const shape = { numLayers: 2, numKvHeads: 3, headDim: 4, maxPositions: 8192 };

/** Appends `count` tokens whose every value encodes (layer, head, position). */
function fill(cache: KvCache, count: number): void {
  const { numLayers, numKvHeads, headDim } = shape;
  const start = cache.length;
  for (let l = 0; l < numLayers; l++) {
    const keys = new Float32Array(numKvHeads * count * headDim); // [numKvHeads, count, headDim]
    for (let h = 0; h < numKvHeads; h++) for (let t = 0; t < count; t++) keys.fill(l * 1e6 + h * 1e4 + start + t, (h * count + t) * headDim, (h * count + t + 1) * headDim);
    cache.appendLayer(l, keys, keys.map((x) => -x), count);
  }
  cache.commit(count);
}

function assertRows(cache: KvCache): void {
  for (let l = 0; l < shape.numLayers; l++) {
    for (let h = 0; h < shape.numKvHeads; h++) {
      const rows = cache.pastKeys(l, h);
      assert.equal(rows.length, cache.length * shape.headDim);
      for (let t = 0; t < cache.length; t++) assert.equal(rows[t * shape.headDim], l * 1e6 + h * 1e4 + t, `layer ${l} head ${h} position ${t}`);
    }
  }
}

test('capacity grows in steps of 256 and keeps every row', () => {
  const cache = new KvCache(shape);
  fill(cache, 100);
  assert.equal(cache.capacity, 256);
  fill(cache, 3000);
  assert.ok(cache.capacity >= 3100 && cache.capacity % 256 === 0);
  assertRows(cache);
  assert.equal(cache.bytes, 2 * shape.numLayers * shape.numKvHeads * cache.capacity * shape.headDim * 4);
});

test('a shallow truncation keeps the buffers; a deep one shrinks them to fit', () => {
  const cache = new KvCache(shape);
  fill(cache, 4000);
  const capacity = cache.capacity;
  cache.truncate(3000);
  assert.equal(cache.capacity, capacity, 'three quarters kept: same buffers');
  cache.truncate(300);
  assert.equal(cache.capacity, 512, 'a tenth kept: shrunk to the 256-step above 300');
  assertRows(cache);
  fill(cache, 50);
  assertRows(cache);
  cache.truncate(0);
  assert.equal(cache.length, 0);
  assert.equal(cache.capacity, 512, 'small caches do not shrink further');
});
