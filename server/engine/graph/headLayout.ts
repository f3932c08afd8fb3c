// The head-aware graph's head order. Each layer's KV heads are reordered so its retrieval
// heads (kept in full) come first and its streaming heads (sinks + window) after; the
// query heads of each group and the output projection's columns follow their KV head.
// Reordering the weights once at build time makes each part a contiguous slice of the
// layer's heads: two attention calls per layer, no gathers at run time.

import type { TensorF32 } from '../checkpoint/safetensors';
import type { DecoderConfig } from '../types';

export interface HeadLayout {
  /** Per layer, the original KV head at each graph position: retrieval heads ascending, then streaming heads ascending. */
  order: number[][];
  /** Per layer, how many of `order`'s first heads are retrieval heads. */
  retrievalCount: number[];
}

export function headLayout(retrieval: number[][], numKvHeads: number): HeadLayout {
  const order = retrieval.map((kept) => {
    const set = new Set(kept);
    const rest = Array.from({ length: numKvHeads }, (_, h) => h).filter((h) => !set.has(h));
    return [...[...set].sort((a, b) => a - b), ...rest];
  });
  return { order, retrievalCount: retrieval.map((kept) => new Set(kept).size) };
}

/** Rows [block * blockRows, (block + 1) * blockRows) of a row-major [rows, cols] matrix, in `blocks` order. */
function permuteRowBlocks(t: TensorF32, blocks: number[], blockRows: number): TensorF32 {
  const cols = t.data.length / t.shape[0];
  const out = new Float32Array(t.data.length);
  blocks.forEach((from, to) => out.set(t.data.subarray(from * blockRows * cols, (from + 1) * blockRows * cols), to * blockRows * cols));
  return { shape: t.shape, data: out };
}

/** Column blocks of a row-major [rows, cols] matrix, in `blocks` order. */
function permuteColumnBlocks(t: TensorF32, blocks: number[], blockCols: number): TensorF32 {
  const [rows, cols] = t.shape;
  const out = new Float32Array(t.data.length);
  for (let r = 0; r < rows; r++) {
    blocks.forEach((from, to) => out.set(t.data.subarray(r * cols + from * blockCols, r * cols + (from + 1) * blockCols), r * cols + to * blockCols));
  }
  return { shape: t.shape, data: out };
}

/**
 * The weights with each layer's q/k/v projections (and biases) and o_proj columns in the
 * layout's head order; other tensors are shared, not copied.
 */
export function permuteHeadWeights(c: DecoderConfig, weights: Map<string, TensorF32>, layout: HeadLayout): Map<string, TensorF32> {
  const group = c.numHeads / c.numKvHeads;
  const D = c.headDim;
  const out = new Map(weights);
  for (let l = 0; l < c.numLayers; l++) {
    const kvOrder = layout.order[l];
    if (kvOrder.every((h, i) => h === i)) continue;
    const queryOrder = kvOrder.flatMap((kv) => Array.from({ length: group }, (_, g) => kv * group + g));
    const p = `model.layers.${l}.self_attn`;
    const get = (name: string) => {
      const t = weights.get(name);
      if (!t) throw new Error(`weight ${name} missing`);
      return t;
    };
    out.set(`${p}.q_proj.weight`, permuteRowBlocks(get(`${p}.q_proj.weight`), queryOrder, D));
    out.set(`${p}.k_proj.weight`, permuteRowBlocks(get(`${p}.k_proj.weight`), kvOrder, D));
    out.set(`${p}.v_proj.weight`, permuteRowBlocks(get(`${p}.v_proj.weight`), kvOrder, D));
    out.set(`${p}.o_proj.weight`, permuteColumnBlocks(get(`${p}.o_proj.weight`), queryOrder, D));
    if (c.attentionBias) {
      // A bias [n] is a matrix [n, 1] for the permutation.
      const bias = (name: string, order: number[]) => {
        const t = get(name);
        return { shape: t.shape, data: permuteRowBlocks({ shape: [t.data.length, 1], data: t.data }, order, D).data };
      };
      out.set(`${p}.q_proj.bias`, bias(`${p}.q_proj.bias`, queryOrder));
      out.set(`${p}.k_proj.bias`, bias(`${p}.k_proj.bias`, kvOrder));
      out.set(`${p}.v_proj.bias`, bias(`${p}.v_proj.bias`, kvOrder));
    }
  }
  return out;
}
