// The int8 past's integer attention (graph/attention.ts int8Part: queries and probabilities
// quantized, MatMulInteger over keys stored q + 128 and signed values) against fp32
// attention over the same dequantized rows, computed in JS: outputs within a small share of
// their size, and a long past's thin tail of probabilities kept, which one 8-bit part per
// row would round away.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { attention, int8Part, type QueryLayout } from '../../../server/engine/graph/attention';
import { GraphBuilder } from '../../../server/engine/onnx/graphBuilder';
import { DataType } from '../../../server/engine/onnx/onnxProto';
import { createSession } from '../../../server/engine/runtime/ortRuntime';
import { seededRandom } from '../../../server/engine/sampling';

const heads = 2;
const group = 2; // query rows per KV head, laid out as a decode step's: [heads, group, 1, D]
const D = 16;
const capacity = 512;
const held = 500; // positions [held, capacity) are masked

interface Past {
  keys: Uint8Array; // [heads, capacity, D]: q + 128
  keyScales: Float32Array; // [heads, capacity]
  values: Int8Array; // [heads, capacity, D]
  valueScales: Float32Array; // [heads, capacity]
}

function integerAttention(past: Past, queries: Float32Array): Float32Array {
  const g = new GraphBuilder();
  const layout: QueryLayout = { shape: (n) => g.constInt64([heads, group, 1, n]) };
  const q = g.input('q', DataType.FLOAT, [heads, group, 1, D]);
  const inputs = {
    keys: g.input('keys', DataType.UINT8, [heads, capacity, D]),
    keyScales: g.input('key_scales', DataType.FLOAT, [heads, 1, capacity]),
    values: g.input('values', DataType.INT8, [heads, capacity, D]),
    valueScales: g.input('value_scales', DataType.FLOAT, [heads, 1, capacity]),
    mask: g.input('mask', DataType.FLOAT, [1, 1, capacity]),
  };
  const out = attention(g, q, [int8Part(g, inputs, layout, D, 'p')], 'a');
  g.output(out, 'out', DataType.FLOAT, [heads, group, 1, D]);
  const session = createSession(g.encode('int8_attention'), { threads: 1 });
  try {
    const mask = Float32Array.from({ length: capacity }, (_, t) => (t < held ? 0 : -1e9));
    return session.run({
      q: { type: 'float32', data: queries, dims: [heads, group, 1, D] },
      keys: { type: 'uint8', data: past.keys, dims: [heads, capacity, D] },
      key_scales: { type: 'float32', data: past.keyScales, dims: [heads, 1, capacity] },
      values: { type: 'int8', data: past.values, dims: [heads, capacity, D] },
      value_scales: { type: 'float32', data: past.valueScales, dims: [heads, 1, capacity] },
      mask: { type: 'float32', data: mask, dims: [1, 1, capacity] },
    }).out;
  } finally {
    session.dispose();
  }
}

/** fp32 softmax attention over the dequantized rows of the held positions: [heads, group, D]. */
function referenceAttention(past: Past, queries: Float32Array): Float32Array {
  const out = new Float32Array(heads * group * D);
  for (let h = 0; h < heads; h++) {
    for (let r = 0; r < group; r++) {
      const q = queries.subarray((h * group + r) * D, (h * group + r + 1) * D);
      const scores = new Float64Array(held);
      for (let t = 0; t < held; t++) {
        let dot = 0;
        for (let d = 0; d < D; d++) dot += q[d] * (past.keys[(h * capacity + t) * D + d] - 128) * past.keyScales[h * capacity + t];
        scores[t] = dot;
      }
      const max = Math.max(...scores);
      let sum = 0;
      for (let t = 0; t < held; t++) sum += Math.exp(scores[t] - max);
      for (let t = 0; t < held; t++) {
        const p = Math.exp(scores[t] - max) / sum;
        for (let d = 0; d < D; d++) out[(h * group + r) * D + d] += p * past.values[(h * capacity + t) * D + d] * past.valueScales[h * capacity + t];
      }
    }
  }
  return out;
}

/** Largest |a - b| over the largest |b|. */
function relativeError(a: Float32Array, b: Float32Array): number {
  let diff = 0;
  let size = 0;
  for (let i = 0; i < a.length; i++) {
    diff = Math.max(diff, Math.abs(a[i] - b[i]));
    size = Math.max(size, Math.abs(b[i]));
  }
  return diff / size;
}

function randomPast(seed: number): Past {
  const random = seededRandom(seed);
  const n = heads * capacity;
  return {
    keys: Uint8Array.from({ length: n * D }, () => 1 + Math.floor(random() * 255)),
    keyScales: Float32Array.from({ length: n }, () => 0.01 + 0.02 * random()),
    values: Int8Array.from({ length: n * D }, () => Math.floor(random() * 255) - 127),
    valueScales: Float32Array.from({ length: n }, () => 0.005 + 0.01 * random()),
  };
}

test('int8 attention: integer products give fp32 attention over the same rows, within a thousandth', () => {
  const past = randomPast(1);
  const random = seededRandom(2);
  for (const sharpness of [0.5, 3, 12]) {
    // Queries aimed at one held key each, more or less sharply: flat to nearly one-hot attention.
    const queries = new Float32Array(heads * group * D);
    for (let h = 0; h < heads; h++) {
      for (let r = 0; r < group; r++) {
        const target = Math.floor(random() * held);
        for (let d = 0; d < D; d++) queries[(h * group + r) * D + d] = sharpness * ((past.keys[(h * capacity + target) * D + d] - 128) / 127) + 0.2 * (random() - 0.5);
      }
    }
    const error = relativeError(integerAttention(past, queries), referenceAttention(past, queries));
    assert.ok(error < 1e-3, `sharpness ${sharpness}: relative error ${error}`);
  }
});

test('int8 attention: a thin tail of probabilities over a long past is kept, not rounded to 0', () => {
  // One key takes two thirds of the attention; the last third spreads over the 499 other held
  // positions, each a 998th of the largest probability (one 8-bit part of step max / 255
  // rounds it to 0). The spike's value is 0 and the tail's are 1 in channel 0, so the output
  // there is the tail's share, a third.
  const past = randomPast(3);
  const queries = new Float32Array(heads * group * D);
  for (let h = 0; h < heads; h++) {
    for (let t = 0; t < capacity; t++) {
      const row = (h * capacity + t) * D;
      past.keys.fill(128, row, row + D); // score 0 …
      past.keyScales[h * capacity + t] = 1;
      past.values.fill(0, row, row + D);
      past.values[row] = 127;
      past.valueScales[h * capacity + t] = 1 / 127; // … and value 1 in channel 0
    }
    const spike = (h * capacity + 7) * D;
    past.keys[spike] = 128 + 100; // score 100 · q[0]
    past.values[spike] = 0;
    for (let r = 0; r < group; r++) queries[(h * group + r) * D] = Math.log(2 * (held - 1)) / 100;
  }
  const expected = referenceAttention(past, queries);
  const actual = integerAttention(past, queries);
  for (let row = 0; row < heads * group; row++) {
    assert.ok(Math.abs(expected[row * D] - 1 / 3) < 1e-3, `the reference's tail share ${expected[row * D]}`);
    // Each tail probability is within half the low part's step (the row's largest / 64,770)
    // of itself, 0.8 % here; one 8-bit part would give 0.
    assert.ok(Math.abs(actual[row * D] - expected[row * D]) < 0.01, `row ${row}: tail share ${actual[row * D]}, expected ${expected[row * D]}`);
  }
});
