// The flash path of attention (graph/attention.ts attentionWithFlashPast: com.microsoft
// MultiHeadAttention over the filled past, a sentinel key for its softmax sum, merged with
// the pass's own causal part) against a float64 softmax written here, and against the
// masked-scores path it replaces, on the shapes a prefill chunk gives it.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { attention, attentionWithFlashPast, plainPart, type QueryLayout } from '../../../server/engine/graph/attention';
import { GraphBuilder } from '../../../server/engine/onnx/graphBuilder';
import { DataType } from '../../../server/engine/onnx/onnxProto';
import { createSession, type FeedTensor } from '../../../server/engine/runtime/ortRuntime';
import { seededRandom } from '../../../server/engine/sampling';

const heads = 2; // KV heads
const group = 3; // query heads per KV head
const D = 8;
const scale = 1 / Math.sqrt(D);

/** One graph: grouped queries [heads, group, S, D] over a past [heads, capacity, D] and the pass's keys [heads, S, D]; masks [S, ·]. */
function graph(flash: boolean): Uint8Array {
  const g = new GraphBuilder();
  const q = g.input('q', DataType.FLOAT, [heads, group, 'S', D]);
  const pastK = g.input('past_k', DataType.FLOAT, [heads, 'capacity', D]);
  const pastV = g.input('past_v', DataType.FLOAT, [heads, 'capacity', D]);
  const newK = g.input('new_k', DataType.FLOAT, [heads, 'S', D]);
  const newV = g.input('new_v', DataType.FLOAT, [heads, 'S', D]);
  const newMask = g.input('new_mask', DataType.FLOAT, ['S', 'S']);
  const own = plainPart(g, newK, newV, newMask);
  const scaled = g.op('Mul', [q, g.constFloat(scale)]);
  // One product per query head whatever the pass, [heads, group, S, ·]: the masks broadcast from [S, ·].
  const perQueryHead: QueryLayout = { shape: (n) => g.constInt64([0, group, -1, n]) };
  let out: string;
  if (flash) {
    const length = g.input('past_length', DataType.INT64, [1]);
    out = attentionWithFlashPast(g, scaled, { keys: pastK, values: pastV, length }, [own], heads, perQueryHead, D, 'a');
  } else {
    const pastMask = g.input('past_mask', DataType.FLOAT, ['S', 'capacity']);
    out = attention(g, scaled, [plainPart(g, pastK, pastV, pastMask), own], 'a');
  }
  g.output(out, 'out', DataType.FLOAT, [heads, group, 'S', D]);
  return g.encode('attention_test');
}

interface Case {
  past: number; // filled positions
  capacity: number;
  S: number; // new tokens
  queryScale: number; // scores grow with it
}

/** Inputs for a case; the unfilled capacity holds huge values, which must never be read. */
function inputs(c: Case, seed: number) {
  const random = seededRandom(seed);
  const fill = (n: number, a: number) => Float32Array.from({ length: n }, () => (random() * 2 - 1) * a);
  const rows = group * c.S;
  const pastK = fill(heads * c.capacity * D, 1);
  const pastV = fill(heads * c.capacity * D, 1);
  for (let h = 0; h < heads; h++) {
    pastK.fill(1e6, (h * c.capacity + c.past) * D, (h + 1) * c.capacity * D);
    pastV.fill(1e6, (h * c.capacity + c.past) * D, (h + 1) * c.capacity * D);
  }
  const newMask = new Float32Array(c.S * c.S);
  for (let s = 0; s < c.S; s++) newMask.fill(-1e9, s * c.S + s + 1, (s + 1) * c.S); // token s sees [0, s]
  const pastMask = new Float32Array(c.S * c.capacity);
  for (let s = 0; s < c.S; s++) pastMask.fill(-1e9, s * c.capacity + c.past, (s + 1) * c.capacity);
  return { q: fill(heads * rows * D, c.queryScale), pastK, pastV, newK: fill(heads * c.S * D, 1), newV: fill(heads * c.S * D, 1), newMask, pastMask, rows };
}

/** Softmax attention in float64: row r (token r % S) sees the filled past and new tokens [0, r % S]. */
function reference(c: Case, x: ReturnType<typeof inputs>): Float64Array {
  const out = new Float64Array(heads * x.rows * D);
  for (let h = 0; h < heads; h++) {
    for (let r = 0; r < x.rows; r++) {
      const q = x.q.subarray((h * x.rows + r) * D, (h * x.rows + r + 1) * D);
      const keys: Array<[Float32Array, Float32Array]> = [];
      for (let t = 0; t < c.past; t++) keys.push([x.pastK.subarray((h * c.capacity + t) * D, (h * c.capacity + t + 1) * D), x.pastV.subarray((h * c.capacity + t) * D, (h * c.capacity + t + 1) * D)]);
      for (let t = 0; t <= r % c.S; t++) keys.push([x.newK.subarray((h * c.S + t) * D, (h * c.S + t + 1) * D), x.newV.subarray((h * c.S + t) * D, (h * c.S + t + 1) * D)]);
      const scores = keys.map(([k]) => scale * k.reduce((sum, kj, j) => sum + kj * q[j], 0));
      const max = Math.max(...scores);
      const weights = scores.map((s) => Math.exp(s - max));
      const total = weights.reduce((a, b) => a + b, 0);
      for (let j = 0; j < D; j++) out[(h * x.rows + r) * D + j] = keys.reduce((sum, [, v], i) => sum + weights[i] * v[j], 0) / total;
    }
  }
  return out;
}

const cases: Case[] = [
  { past: 37, capacity: 64, S: 5, queryScale: 1 },
  { past: 0, capacity: 16, S: 4, queryScale: 1 }, // the first chunk: only the sentinel in the past
  { past: 200, capacity: 256, S: 7, queryScale: 40 }, // scores in the hundreds: exp() of them overflows fp32
  { past: 3, capacity: 8, S: 6, queryScale: 40 }, // the pass's own keys dominate
  { past: 50, capacity: 50, S: 1, queryScale: 3 }, // a full buffer, one new token
];

test('flash attention over the past matches a float64 softmax and the masked path, scores large or small', () => {
  const flash = createSession(graph(true), { threads: 1 }, ['out']);
  const masked = createSession(graph(false), { threads: 1 }, ['out']);
  try {
    cases.forEach((c, i) => {
      const x = inputs(c, 11 + i);
      const f = (data: Float32Array, dims: number[]): FeedTensor => ({ type: 'float32', data, dims });
      const common = {
        q: f(x.q, [heads, group, c.S, D]), // row r of a KV head is query head r / S, token r % S
        past_k: f(x.pastK, [heads, c.capacity, D]),
        past_v: f(x.pastV, [heads, c.capacity, D]),
        new_k: f(x.newK, [heads, c.S, D]),
        new_v: f(x.newV, [heads, c.S, D]),
        new_mask: f(x.newMask, [c.S, c.S]),
      };
      const got = flash.run({ ...common, past_length: { type: 'int64', data: BigInt64Array.of(BigInt(c.past)), dims: [1] } }).out;
      const plain = masked.run({ ...common, past_mask: f(x.pastMask, [c.S, c.capacity]) }).out;
      const expected = reference(c, x);
      let worst = 0;
      let worstMasked = 0;
      for (let j = 0; j < expected.length; j++) {
        assert.ok(Number.isFinite(got[j]), `case ${i}: output ${j} is ${got[j]}`);
        worst = Math.max(worst, Math.abs(got[j] - expected[j]));
        worstMasked = Math.max(worstMasked, Math.abs(plain[j] - expected[j]));
      }
      assert.ok(worst <= 1e-5, `case ${i} (${JSON.stringify(c)}): flash differs from the reference by ${worst} (masked path: ${worstMasked})`);
    });
  } finally {
    flash.dispose();
    masked.dispose();
  }
});
