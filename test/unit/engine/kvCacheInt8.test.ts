// The int8 KV cache's bookkeeping, without a model: blocks are quantized when they fill and
// stay within half a step of the exact values, the rows of the block still filling are
// exact, chunking does not change what is stored, a truncation inside a block keeps the
// rest, and segments copied out at any boundaries and imported again rebuild the same cache.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { QuantizedKvCache } from '../../../server/engine/kvCacheInt8';
import { KvSegment, type KvSegmentHeads } from '../../../server/engine/kvSegment';
import { seededRandom } from '../../../server/engine/sampling';

const shape = { numLayers: 2, numKvHeads: 3, headDim: 8, maxPositions: 4096, headsPerLayer: [3, 1] };
const block = 16;
const heads: KvSegmentHeads = { full: shape.headsPerLayer, streaming: [0, 0], headDim: shape.headDim, int8Block: block };

/** Exact keys and values of every position: [layer][head][position * headDim + d]. Channel 3 of the keys is an outlier channel, as RoPE'd keys have. */
function rowsOf(positions: number, seed = 1): { keys: Float32Array[][]; values: Float32Array[][] } {
  const random = seededRandom(seed);
  const make = (outlier: number) =>
    shape.headsPerLayer.map((n) =>
      Array.from({ length: n }, () => Float32Array.from({ length: positions * shape.headDim }, (_, i) => (random() - 0.5) * (i % shape.headDim === 3 ? outlier : 1))),
    );
  return { keys: make(40), values: make(1) };
}

/** Appends positions [cache.length, cache.length + count) of `rows`. */
function append(cache: QuantizedKvCache, rows: ReturnType<typeof rowsOf>, count: number): void {
  const { headDim } = shape;
  const start = cache.length;
  cache.reserve(start + count);
  for (let l = 0; l < shape.numLayers; l++) {
    const n = shape.headsPerLayer[l];
    const keys = new Float32Array(n * count * headDim); // [heads, count, headDim]
    const values = new Float32Array(keys.length);
    for (let h = 0; h < n; h++) {
      keys.set(rows.keys[l][h].subarray(start * headDim, (start + count) * headDim), h * count * headDim);
      values.set(rows.values[l][h].subarray(start * headDim, (start + count) * headDim), h * count * headDim);
    }
    cache.appendLayer(l, keys, values, count);
  }
  cache.commit(count);
}

/** Every head's dequantized keys and values, flattened. */
function snapshot(cache: QuantizedKvCache): Float32Array[] {
  const out: Float32Array[] = [];
  for (let l = 0; l < shape.numLayers; l++) for (let h = 0; h < shape.headsPerLayer[l]; h++) out.push(cache.pastKeys(l, h), cache.pastValues(l, h));
  return out;
}

function maxDiff(a: Float32Array[], b: Float32Array[]): number {
  assert.equal(a.length, b.length);
  let max = 0;
  a.forEach((x, i) => {
    assert.equal(x.length, b[i].length);
    for (let j = 0; j < x.length; j++) max = Math.max(max, Math.abs(x[j] - b[i][j]));
  });
  return max;
}

test('int8 blocks stay within half a step of the exact values; the filling block is exact', () => {
  const rows = rowsOf(100);
  const cache = new QuantizedKvCache(shape, block);
  append(cache, rows, 100);
  assert.equal(cache.quantizedLength, 96);
  assert.equal(cache.bufferedLength, 96);
  const { headDim } = shape;
  let worstKey = 0;
  for (let l = 0; l < shape.numLayers; l++) {
    for (let h = 0; h < shape.headsPerLayer[l]; h++) {
      const keys = cache.pastKeys(l, h);
      const values = cache.pastValues(l, h);
      for (let p = 0; p < 100; p++) {
        for (let d = 0; d < headDim; d++) {
          const exactKey = rows.keys[l][h][p * headDim + d];
          const exactValue = rows.values[l][h][p * headDim + d];
          if (p >= 96) {
            assert.equal(keys[p * headDim + d], exactKey, 'recent keys are exact');
            assert.equal(values[p * headDim + d], exactValue, 'recent values are exact');
            continue;
          }
          // Step: the row's largest magnitude / 127, for keys and values alike.
          let keyMax = 0;
          let valueMax = 0;
          for (let e = 0; e < headDim; e++) {
            keyMax = Math.max(keyMax, Math.abs(rows.keys[l][h][p * headDim + e]));
            valueMax = Math.max(valueMax, Math.abs(rows.values[l][h][p * headDim + e]));
          }
          const keyError = Math.abs(keys[p * headDim + d] - exactKey);
          assert.ok(keyError <= (keyMax / 127) * 0.5 + 1e-6, `key error ${keyError} at layer ${l} head ${h} position ${p} channel ${d}`);
          assert.ok(Math.abs(values[p * headDim + d] - exactValue) <= (valueMax / 127) * 0.5 + 1e-6);
          if (d !== 3) worstKey = Math.max(worstKey, keyError);
        }
      }
    }
  }
  // A key's scale is its row's: the outlier channel (40x larger) coarsens the row's others to
  // its step, the price of one integer product over every position (graph/attention.ts).
  assert.ok(worstKey > 0.5 / 127 && worstKey < (20 / 127) * 0.5 + 1e-6, `ordinary channels' key error ${worstKey}`);
  // Bytes: 8-bit rows, a key scale and a value scale per position, and the recent block in fp32.
  const capacity = cache.capacity;
  const perHead = 2 * capacity * headDim + 2 * capacity * 4 + 2 * block * headDim * 4;
  assert.equal(cache.bytes, 4 * perHead);
});

test('how the positions arrive (chunks, one by one) does not change what is stored', () => {
  const rows = rowsOf(300, 7);
  const whole = new QuantizedKvCache(shape, block);
  append(whole, rows, 300);
  const pieces = new QuantizedKvCache(shape, block);
  for (const count of [1, 15, 1, 16, 40, 3, 100, 124]) append(pieces, rows, count);
  assert.equal(pieces.length, 300);
  assert.equal(maxDiff(snapshot(pieces), snapshot(whole)), 0);
});

test('a truncation inside an int8 block cuts at its start; inside the exact rows, where asked', () => {
  const rows = rowsOf(200, 3);
  const cache = new QuantizedKvCache(shape, block);
  append(cache, rows, 200);
  const before = snapshot(cache);
  cache.truncate(198); // among the exact rows of block 12 = [192, 208)
  assert.equal(cache.length, 198);
  cache.truncate(70); // inside int8 block 4 = [64, 80): its exact rows are gone, so the cut is at 64
  assert.equal(cache.length, 64);
  assert.equal(cache.quantizedLength, 64);
  const kept = snapshot(cache);
  kept.forEach((rowsNow, i) => assert.deepEqual(rowsNow, before[i].subarray(0, rowsNow.length)));
  append(cache, rows, 136); // positions 64..199 again
  assert.equal(cache.length, 200);
  assert.equal(maxDiff(snapshot(cache), before), 0, 'refilled to the same values');
  cache.truncate(0);
  assert.equal(cache.length, 0);
  append(cache, rows, 20);
  assert.equal(cache.quantizedLength, 16);
});

test('segments exported at any boundaries import into a fresh cache as the same KV, through slices too', () => {
  const rows = rowsOf(333, 5);
  const cache = new QuantizedKvCache(shape, block);
  append(cache, rows, 333);
  const expected = snapshot(cache);
  const segmentOf = (from: number, to: number): KvSegment => {
    const { full, quantized } = cache.exportRows(from, to);
    return new KvSegment(heads, from, to - from, full, new Int32Array(0), [0, 1].map(() => ({ keys: new Float32Array(0), values: new Float32Array(0) })), quantized);
  };
  for (const cuts of [[0, 333], [0, 64, 333], [0, 7, 100, 250, 333], [0, 16, 17, 320, 333], [0, 330, 333]]) {
    const rebuilt = new QuantizedKvCache(shape, block);
    for (let i = 1; i < cuts.length; i++) {
      const segment = segmentOf(cuts[i - 1], cuts[i]);
      assert.equal(segment.quantizedLength, Math.max(0, Math.min(cuts[i], 320) - cuts[i - 1]));
      rebuilt.importRows(segment, 0, segment.length);
    }
    assert.equal(rebuilt.length, 333);
    assert.ok(maxDiff(snapshot(rebuilt), expected) < 1e-5, `cuts ${cuts}`);
  }
  // A segment's slices (what the prefix tree keeps when it splits a node) import the same way.
  const whole = segmentOf(0, 333);
  const rebuilt = new QuantizedKvCache(shape, block);
  for (const [from, to] of [[0, 40], [40, 41], [41, 200], [200, 333]]) rebuilt.importRows(whole.slice(from, to), 0, to - from);
  assert.ok(maxDiff(snapshot(rebuilt), expected) < 1e-5);
  // Part of a segment: offsets [from, to).
  const partial = new QuantizedKvCache(shape, block);
  partial.importRows(whole, 0, 100);
  partial.importRows(whole, 100, 333);
  assert.ok(maxDiff(snapshot(partial), expected) < 1e-5);
  // A segment's bytes count its int8 rows and scales.
  assert.ok(whole.bytes < 0.45 * 2 * 4 * 333 * shape.headDim * 4, `segment of ${whole.bytes} bytes`);
});

test('int8 blocks must divide the capacity step', () => {
  assert.throws(() => new QuantizedKvCache(shape, 48), /use 16, 32, 64, 128 or 256/);
});
