// The JS-owned KV cache of one sequence.
//
// Layout: per layer, keys and values are each one Float32Array [numKvHeads, capacity,
// headDim]. The graph reads a layer's whole buffer in place (ORT does not copy inputs) and
// masks the unfilled slots [length, capacity), so no token ever copies the cache. One
// head's filled rows [0, length) are a contiguous subarray too (pastKeys), for code that
// reads keys in JS. The price of the layout: growing the capacity moves every head's rows,
// and attention also runs over the unfilled tail. Capacity therefore grows in steps of an
// eighth (rounded up to 256 tokens): the tail stays under an eighth of the buffer, and the
// moves cost O(1) per token amortized. Truncating to half the capacity or less shrinks it
// again (see truncate).
//
// Appending copies only the new tokens' rows: O(numKvHeads * seqLen * headDim) per layer.

import { sliceRows, type LayerRows } from './kvSegment';

export interface KvShape {
  numLayers: number;
  numKvHeads: number;
  headDim: number;
  maxPositions: number; // capacity never grows beyond this
  /** Heads held per layer when layers differ (a head-aware cache's full heads); numKvHeads in every layer otherwise. */
  headsPerLayer?: number[];
}

const capacityStepTokens = 256; // capacities are multiples of this
const growthDivisor = 8; // grow by at least capacity / 8
const shrinkDivisor = 2; // truncating to half the capacity or less shrinks it
const shrinkAboveTokens = 1024; // small caches never shrink

export class KvCache {
  private keys: Float32Array[] = []; // per layer: [numKvHeads, capacity, headDim]
  private values: Float32Array[] = []; // per layer: [numKvHeads, capacity, headDim]
  private capacityTokens = 0;
  private lengthTokens = 0;

  constructor(readonly shape: KvShape) {}

  /** KV heads the cache holds in `layer`. */
  headsOf(layer: number): number {
    return this.shape.headsPerLayer?.[layer] ?? this.shape.numKvHeads;
  }

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

  /** The layer's whole key buffer [headsOf(layer), capacity, headDim], filled in [0, length). Valid until the capacity grows. */
  layerKeys(layer: number): Float32Array {
    return this.keys[layer];
  }

  /** The layer's whole value buffer [headsOf(layer), capacity, headDim], filled in [0, length). */
  layerValues(layer: number): Float32Array {
    return this.values[layer];
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
   * [headsOf(layer), seqLen, headDim]. Call for every layer, then `commit(seqLen)`.
   * A source of more rows ([heads, sourceRows, headDim]: a KV segment) gives its rows
   * [sourceFrom, sourceFrom + seqLen).
   */
  appendLayer(layer: number, newKeys: Float32Array, newValues: Float32Array, seqLen: number, sourceRows = seqLen, sourceFrom = 0): void {
    const { headDim } = this.shape;
    const numKvHeads = this.headsOf(layer);
    if (newKeys.length !== numKvHeads * sourceRows * headDim || newValues.length !== newKeys.length || sourceFrom + seqLen > sourceRows) {
      throw new Error(`layer ${layer}: new K/V hold ${newKeys.length}/${newValues.length} values, expected ${numKvHeads * sourceRows * headDim}`);
    }
    this.reserve(this.lengthTokens + seqLen);
    for (let h = 0; h < numKvHeads; h++) {
      const to = (h * this.capacityTokens + this.lengthTokens) * headDim;
      const from = (h * sourceRows + sourceFrom) * headDim;
      this.keys[layer].set(newKeys.subarray(from, from + seqLen * headDim), to);
      this.values[layer].set(newValues.subarray(from, from + seqLen * headDim), to);
    }
  }

  /** A copy of one layer's rows at positions [from, to): keys and values [headsOf(layer), to - from, headDim]. */
  copyRows(layer: number, from: number, to: number): LayerRows {
    if (!(0 <= from && from <= to && to <= this.lengthTokens)) throw new RangeError(`KV cache: rows [${from}, ${to}) of ${this.lengthTokens}`);
    const { headDim } = this.shape;
    const heads = this.headsOf(layer);
    if (!this.keys[layer]) return { keys: new Float32Array(0), values: new Float32Array(0) };
    return {
      keys: sliceRows(this.keys[layer], heads, this.capacityTokens, headDim, from, to),
      values: sliceRows(this.values[layer], heads, this.capacityTokens, headDim, from, to),
    };
  }

  /** Makes `seqLen` appended tokens part of the cache (after appendLayer for every layer). */
  commit(seqLen: number): void {
    if (this.lengthTokens + seqLen > this.capacityTokens) throw new Error('commit without appendLayer');
    this.lengthTokens += seqLen;
  }

  /**
   * Forgets positions [length, this.length). The buffers are kept for reuse, unless what
   * remains fills at most half of them: then they shrink to fit, because attention runs
   * over the whole capacity and a prompt resumed far before the end (an edit in the middle
   * of the workspace) would pay for the old capacity in every chunk of its prefill.
   */
  truncate(length: number): void {
    if (!Number.isInteger(length) || length < 0) throw new RangeError(`truncate(${length}): not a length`);
    this.lengthTokens = Math.min(this.lengthTokens, length);
    if (this.capacityTokens > shrinkAboveTokens && this.lengthTokens * shrinkDivisor <= this.capacityTokens) {
      this.resize(Math.max(capacityStepTokens, Math.ceil(this.lengthTokens / capacityStepTokens) * capacityStepTokens));
    }
  }

  /** Ensures room for `tokens` positions, growing by at least an eighth (bounded by maxPositions). */
  reserve(tokens: number): void {
    const { maxPositions } = this.shape;
    if (tokens > maxPositions) throw new RangeError(`KV cache: ${tokens} tokens exceed the model's ${maxPositions} positions`);
    if (tokens <= this.capacityTokens) return;
    const wanted = Math.max(tokens, this.capacityTokens + Math.ceil(this.capacityTokens / growthDivisor));
    this.resize(Math.min(Math.ceil(wanted / capacityStepTokens) * capacityStepTokens, maxPositions));
  }

  /** New buffers of `capacity` tokens holding the filled rows (capacity >= length). */
  private resize(capacity: number): void {
    for (let l = 0; l < this.shape.numLayers; l++) {
      this.keys[l] = this.regrow(this.keys[l], capacity, this.headsOf(l));
      this.values[l] = this.regrow(this.values[l], capacity, this.headsOf(l));
    }
    this.capacityTokens = capacity;
  }

  private regrow(old: Float32Array | undefined, capacity: number, numKvHeads: number): Float32Array {
    const { headDim } = this.shape;
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
