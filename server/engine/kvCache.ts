// The JS-owned KV cache of one sequence.
//
// Layout: per layer, keys and values are each one Float32Array [numKvHeads, capacity,
// headDim]. One head's filled rows [0, length) are then a contiguous subarray, which is fed
// to ORT as the input `past_key.{l}.{h}` without copying (ORT reads inputs in place). The
// alternatives cost more: a position-major [capacity, numKvHeads, headDim] buffer has a
// contiguous filled prefix, but the graph would have to transpose it, an O(cache) copy per
// layer per token inside ORT; and a [numKvHeads, length, headDim] input needs exactly
// capacity == length, i.e. a copy of the cache every token. The price of this layout is
// that growing the capacity moves every head's rows (done by doubling, so amortized O(1)
// per token), and that the graph has one past input per KV head.
//
// Appending copies only the new tokens' rows: O(numKvHeads * seqLen * headDim) per layer.

export interface KvShape {
  numLayers: number;
  numKvHeads: number;
  headDim: number;
  maxPositions: number; // capacity never grows beyond this
}

const initialCapacity = 64; // tokens; small so that short sequences stay small

export class KvCache {
  private keys: Float32Array[] = []; // per layer: [numKvHeads, capacity, headDim]
  private values: Float32Array[] = []; // per layer: [numKvHeads, capacity, headDim]
  private capacityTokens = 0;
  private lengthTokens = 0;

  constructor(readonly shape: KvShape) {}

  /** Tokens held: positions [0, length). */
  get length(): number {
    return this.lengthTokens;
  }

  get capacity(): number {
    return this.capacityTokens;
  }

  /** Bytes of the allocated buffers (keys and values, every layer), exactly. */
  get bytes(): number {
    let total = 0;
    for (let l = 0; l < this.keys.length; l++) total += this.keys[l].byteLength + this.values[l].byteLength;
    return total;
  }

  /** Zero-copy view of one head's filled keys: [length, headDim]. Valid until the next append. */
  pastKeys(layer: number, head: number): Float32Array {
    return this.headRows(this.keys[layer], head);
  }

  /** Zero-copy view of one head's filled values: [length, headDim]. Valid until the next append. */
  pastValues(layer: number, head: number): Float32Array {
    return this.headRows(this.values[layer], head);
  }

  private headRows(buffer: Float32Array | undefined, head: number): Float32Array {
    const { headDim } = this.shape;
    if (!buffer) return new Float32Array(0);
    const start = head * this.capacityTokens * headDim;
    return buffer.subarray(start, start + this.lengthTokens * headDim);
  }

  /**
   * Appends the keys and values of `seqLen` new tokens for one layer, each given as
   * [numKvHeads, seqLen, headDim]. Call for every layer, then `commit(seqLen)`.
   */
  appendLayer(layer: number, newKeys: Float32Array, newValues: Float32Array, seqLen: number): void {
    const { numKvHeads, headDim } = this.shape;
    if (newKeys.length !== numKvHeads * seqLen * headDim || newValues.length !== newKeys.length) {
      throw new Error(`layer ${layer}: new K/V hold ${newKeys.length}/${newValues.length} values, expected ${numKvHeads * seqLen * headDim}`);
    }
    this.reserve(this.lengthTokens + seqLen);
    const rowValues = seqLen * headDim;
    for (let h = 0; h < numKvHeads; h++) {
      const to = (h * this.capacityTokens + this.lengthTokens) * headDim;
      this.keys[layer].set(newKeys.subarray(h * rowValues, (h + 1) * rowValues), to);
      this.values[layer].set(newValues.subarray(h * rowValues, (h + 1) * rowValues), to);
    }
  }

  /** Makes `seqLen` appended tokens part of the cache (after appendLayer for every layer). */
  commit(seqLen: number): void {
    if (this.lengthTokens + seqLen > this.capacityTokens) throw new Error('commit without appendLayer');
    this.lengthTokens += seqLen;
  }

  /** Forgets positions [length, this.length); keeps the buffers for reuse. */
  truncate(length: number): void {
    if (!Number.isInteger(length) || length < 0) throw new RangeError(`truncate(${length}): not a length`);
    this.lengthTokens = Math.min(this.lengthTokens, length);
  }

  /** Ensures room for `tokens` positions, doubling the capacity (bounded by maxPositions). */
  reserve(tokens: number): void {
    const { numLayers, maxPositions } = this.shape;
    if (tokens > maxPositions) throw new RangeError(`KV cache: ${tokens} tokens exceed the model's ${maxPositions} positions`);
    if (tokens <= this.capacityTokens) return;
    let capacity = Math.max(this.capacityTokens, initialCapacity);
    while (capacity < tokens) capacity *= 2;
    capacity = Math.min(capacity, maxPositions);
    for (let l = 0; l < numLayers; l++) {
      this.keys[l] = this.regrow(this.keys[l], capacity);
      this.values[l] = this.regrow(this.values[l], capacity);
    }
    this.capacityTokens = capacity;
  }

  private regrow(old: Float32Array | undefined, capacity: number): Float32Array {
    const { numKvHeads, headDim } = this.shape;
    const grown = new Float32Array(numKvHeads * capacity * headDim); // [numKvHeads, capacity, headDim]
    if (old) {
      const filled = this.lengthTokens * headDim;
      for (let h = 0; h < numKvHeads; h++) {
        const from = h * this.capacityTokens * headDim;
        grown.set(old.subarray(from, from + filled), h * capacity * headDim);
      }
    }
    return grown;
  }
}
