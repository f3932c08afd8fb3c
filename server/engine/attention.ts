// Attention probabilities of chosen heads, computed in JS from the queries a forward pass
// returns (Sequence.appendWithQueries) and the keys the JS-owned cache holds. Calibration
// and evidence need a few heads' attention; computing it here keeps the graph's hot path
// free of extra outputs.

export interface QueryRef {
  /** One layer's queries after RoPE: [numHeads, n, headDim], as appendWithQueries returns them. */
  queries: Float32Array;
  /** Tokens in that pass (n) and which of them (0-based row) asks. */
  tokens: number;
  row: number;
  head: number;
}

/**
 * softmax(q · Kᵀ / sqrt(headDim)) over positions [0, position], where `keys` is the head's
 * cached keys [length, headDim] (length > position) and `position` the asking token's
 * absolute position. Returns Float32Array [position + 1].
 */
export function headAttention(ref: QueryRef, keys: Float32Array, position: number, headDim: number): Float32Array {
  const { queries, tokens, row, head } = ref;
  if (row < 0 || row >= tokens) throw new RangeError(`row ${row} outside the pass's ${tokens} tokens`);
  if (keys.length < (position + 1) * headDim) throw new RangeError(`keys hold ${keys.length / headDim} positions, need ${position + 1}`);
  const q = queries.subarray((head * tokens + row) * headDim, (head * tokens + row + 1) * headDim);
  const scale = 1 / Math.sqrt(headDim);
  const probs = new Float32Array(position + 1);
  let max = -Infinity;
  const scores = new Float64Array(position + 1);
  for (let t = 0; t <= position; t++) {
    let dot = 0;
    const k = t * headDim;
    for (let d = 0; d < headDim; d++) dot += q[d] * keys[k + d];
    scores[t] = dot * scale;
    if (scores[t] > max) max = scores[t];
  }
  let sum = 0;
  for (let t = 0; t <= position; t++) {
    scores[t] = Math.exp(scores[t] - max);
    sum += scores[t];
  }
  for (let t = 0; t <= position; t++) probs[t] = scores[t] / sum;
  return probs;
}
