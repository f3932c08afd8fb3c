// A small graph beside the decoder: the attention mass one KV head's query heads put on
// each cached position, summed over those heads and over query rows. Evidence needs it for
// a few heads after a generation; running it through onnxruntime (a matrix product over
// the cached keys, fed in place) costs a small share of the generation, where the same
// product in JS would cost more than the generation itself.

import { DataType } from '../onnx/onnxProto';
import { GraphBuilder, float } from '../onnx/graphBuilder';

export const attentionMassNames = {
  /** [group, rows, headDim]: the query heads of one KV head, after RoPE, one row per query. */
  queries: 'queries',
  /** [length, headDim]: the KV head's cached keys after RoPE. */
  keys: 'keys',
  /** [rows, length]: 0 where a row may look, a large negative number where it may not (causal). */
  mask: 'mask',
  /** [length]: Σ over heads and rows of softmax(q·k / √headDim + mask) to the graph's power (evidence.ts: 2). */
  mass: 'mass',
} as const;

export function buildAttentionMassGraph(headDim: number, power = 1): Uint8Array {
  const g = new GraphBuilder();
  const n = attentionMassNames;
  const queries = g.input(n.queries, DataType.FLOAT, ['group', 'rows', headDim]);
  const keys = g.input(n.keys, DataType.FLOAT, ['length', headDim]);
  const mask = g.input(n.mask, DataType.FLOAT, ['rows', 'length']);
  const scores = g.msOp('FusedMatMul', [queries, keys], { transB: 1, alpha: float(1 / Math.sqrt(headDim)) }, 'scores'); // [group, rows, length]
  const probs = g.op('Softmax', [g.op('Add', [scores, mask])], { axis: -1 }, 'probs'); // [group, rows, length]
  const weighted = power === 1 ? probs : g.op('Pow', [probs, g.constFloat(power)], {}, 'probs_pow');
  const mass = g.op('ReduceSum', [weighted, g.constInt64([0, 1])], { keepdims: 0 }, 'mass_sum'); // [length]
  g.output(mass, n.mass, DataType.FLOAT, ['length']);
  return g.encode('heed_attention_mass');
}
