// A small graph beside the decoder: the attention mass each chosen KV head's query heads
// put on each cached position, summed over those heads and over the query rows of each
// part (evidence's: the prompt's rows, the decoded tokens'). Evidence needs
// it for a few heads after a generation; running it through onnxruntime (a matrix product
// over each head's cached keys, fed in place) costs a small share of the generation, where
// the same products in JS would cost more than the generation itself. Every head is in one
// graph, so one run computes them all.

import { DataType } from '../onnx/onnxProto';
import { GraphBuilder, float } from '../onnx/graphBuilder';

export const attentionMassNames = {
  /** [group, rows, headDim]: the query heads of chosen KV head `head`, after RoPE, one row per query. */
  queries: (head: number) => `queries_${head}`,
  /** [length, headDim]: chosen KV head `head`'s cached keys after RoPE. */
  keys: (head: number) => `keys_${head}`,
  /** [rows, length], shared by every head: 0 where a row may look, a large negative number where it may not (causal). */
  mask: 'mask',
  /** [parts, rows], shared by every head: 1 where row r counts in part k, else 0. */
  rowParts: 'row_parts',
  /** [parts, length]: per part, Σ over head `head`'s query heads and the part's rows of softmax(q·k / √headDim + mask) to the graph's power (evidence.ts: 2). */
  mass: (head: number) => `mass_${head}`,
  /** [copies] int64, shared by every head: flat indices row · length + position of the (row, position) pairs whose mass copyMass gives (at least one). */
  copyIndex: 'copy_index',
  /** [group, copies]: head `head`'s query heads' mass (to the graph's power) at each pair of copyIndex, not summed. */
  copyMass: (head: number) => `copy_mass_${head}`,
} as const;

/** The graph for `heads` KV heads of `headDim`; `power` 2 squares by a product (cheaper than Pow). */
export function buildAttentionMassGraph(headDim: number, heads: number, power = 1): Uint8Array {
  if (!Number.isInteger(heads) || heads < 1) throw new Error(`the attention-mass graph needs at least one head, got ${heads}`);
  const g = new GraphBuilder();
  const n = attentionMassNames;
  const mask = g.input(n.mask, DataType.FLOAT, ['rows', 'length']);
  const rowParts = g.input(n.rowParts, DataType.FLOAT, ['parts', 'rows']);
  const copyIndex = g.input(n.copyIndex, DataType.INT64, ['copies']);
  const byGroup = g.constInt64([0, -1]);
  const groupAxis = g.constInt64([0]);
  for (let head = 0; head < heads; head++) {
    const queries = g.input(n.queries(head), DataType.FLOAT, ['group', 'rows', headDim]);
    const keys = g.input(n.keys(head), DataType.FLOAT, ['length', headDim]);
    // keys · queriesᵀ, then a transpose: the product's large operand is its left one, used
    // in place, where queries · keysᵀ packs all the keys again in every run (most of a
    // run's time at a few rows: 8 heads of 13k keys, one row, 5.3 ms against 3.4).
    const rows = g.op('Reshape', [queries, g.constInt64([-1, headDim])], {}, `rows_${head}`); // [group*rows, headDim]
    const byKey = g.msOp('FusedMatMul', [keys, rows], { transB: 1, alpha: float(1 / Math.sqrt(headDim)) }, `scores_t_${head}`); // [length, group*rows]
    const shape = g.op('Concat', [g.op('Shape', [queries], { start: 0, end: 2 }), g.op('Shape', [keys], { start: 0, end: 1 })], { axis: 0 }, `scores_shape_${head}`); // [group, rows, length]
    const scores = g.op('Reshape', [g.op('Transpose', [byKey], { perm: [1, 0] }, `scores_tt_${head}`), shape], {}, `scores_${head}`); // [group, rows, length]
    const probs = g.op('Softmax', [g.op('Add', [scores, mask])], { axis: -1 }, `probs_${head}`); // [group, rows, length]
    const weighted = power === 1 ? probs : power === 2 ? g.op('Mul', [probs, probs], {}, `probs_sq_${head}`) : g.op('Pow', [probs, g.constFloat(power)], {}, `probs_pow_${head}`);
    const byPart = g.op('MatMul', [rowParts, weighted], {}, `mass_parts_${head}`); // [group, parts, length]
    const mass = g.op('ReduceSum', [byPart, groupAxis], { keepdims: 0 }, `mass_sum_${head}`); // [parts, length]
    g.output(mass, n.mass(head), DataType.FLOAT, ['parts', 'length']);
    // A few chosen entries of each row (evidence's copies), read before the rows are summed.
    const flat = g.op('Reshape', [weighted, byGroup], {}, `weighted_flat_${head}`); // [group, rows*length]
    g.output(g.op('Gather', [flat, copyIndex], { axis: 1 }, `copy_gather_${head}`), n.copyMass(head), DataType.FLOAT, ['group', 'copies']);
  }
  return g.encode('heed_attention_mass');
}
