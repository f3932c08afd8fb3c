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

import { graphNames } from './graph/decoderGraph';
import { sliceRows, type KvSegment, type LayerRows, type QuantizedPart } from './kvSegment';
import type { FeedTensor } from './runtime/ortRuntime';

export interface KvShape {
  numLayers: number;
  numKvHeads: number;
  headDim: number;
  maxPositions: number; // capacity never grows beyond this
  /** Heads held per layer when layers differ (a head-aware cache's full heads); numKvHeads in every layer otherwise. */
  headsPerLayer?: number[];
}

/**
 * The cache of the heads that keep every token (all KV heads when dense, the retrieval heads
 * when head-aware): fp32 (KvCache) or int8 (kvCacheInt8.ts). Positions are [0, length).
 */
export interface FullHeadsCache {
  readonly length: number;
  readonly capacity: number;
  /** Bytes of every buffer it holds, exactly. */
  readonly bytes: number;
  /** Positions [0, bufferedLength) are in the past buffers the graph masks with past_mask; int8 feeds the rest apart. */
  readonly bufferedLength: number;
  headsOf(layer: number): number;
  /** Ensures room for `tokens` positions. */
  reserve(tokens: number): void;
  /** Adds the graph inputs of every layer that has full heads. */
  feed(feeds: Record<string, FeedTensor>): void;
  /** Appends `seqLen` positions of one layer ([headsOf(layer), seqLen, headDim] keys and values, fp32); then commit. */
  appendLayer(layer: number, newKeys: Float32Array, newValues: Float32Array, seqLen: number): void;
  commit(seqLen: number): void;
  /** Forgets positions [length, this.length), or a few more where it cannot cut exactly there (int8): `length` says where it cut. */
  truncate(length: number): void;
  /** One head's keys [length, headDim] as fp32 (a view when fp32, a copy when int8). */
  pastKeys(layer: number, head: number): Float32Array;
  pastValues(layer: number, head: number): Float32Array;
  /** Copies of positions [from, to): exact rows per layer, and under int8 the int8 rows of the blocks already quantized. */
  exportRows(from: number, to: number): { full: LayerRows[]; quantized?: QuantizedPart };
  /** Appends a segment's offsets [from, to) as the next positions (the segment's start + from must be `length`). */
  importRows(segment: KvSegment, from: number, to: number): void;
}

/** KV heads a cache of `shape` holds in `layer`. */
export function headsIn(shape: KvShape, layer: number): number {
  return shape.headsPerLayer?.[layer] ?? shape.numKvHeads;
}

export const capacityStepTokens = 256; // capacities are multiples of this
const growthDivisor = 8; // grow by at least capacity / 8
const shrinkDivisor = 2; // truncating to half the capacity or less shrinks it
const shrinkAboveTokens = 1024; // small caches never shrink

/**
 * A per-head buffer [heads, oldRows, width] moved to [heads, newRows, width], keeping each
 * head's first `kept` rows (the rest zeros); a new one of zeros where there was none.
 */
export function regrowHeads<T extends Int8Array | Uint8Array | Float32Array>(old: T | undefined, heads: number, oldRows: number, newRows: number, kept: number, width: number, type: new (length: number) => T): T {
  const grown = new type(heads * newRows * width);
  if (old) for (let h = 0; h < heads; h++) grown.set(old.subarray(h * oldRows * width, (h * oldRows + kept) * width), h * newRows * width);
  return grown;
}

/** The capacity to grow to for `tokens` positions: at least an eighth more, in steps of 256, at most maxPositions; `current` when it fits. */
export function grownCapacity(current: number, tokens: number, maxPositions: number): number {
  if (tokens > maxPositions) throw new RangeError(`KV cache: ${tokens} tokens exceed the model's ${maxPositions} positions`);
  if (tokens <= current) return current;
  const wanted = Math.max(tokens, current + Math.ceil(current / growthDivisor));
  return Math.min(Math.ceil(wanted / capacityStepTokens) * capacityStepTokens, maxPositions);
}

/** The capacity after a truncation to `length`: shrunk to fit when that keeps half of it or less (see KvCache.truncate), else `current`. */
export function shrunkCapacity(current: number, length: number): number {
  if (current > shrinkAboveTokens && length * shrinkDivisor <= current) return Math.max(capacityStepTokens, Math.ceil(length / capacityStepTokens) * capacityStepTokens);
  return current;
}

export class KvCache implements FullHeadsCache {
  private keys: Float32Array[] = []; // per layer: [numKvHeads, capacity, headDim]
  private values: Float32Array[] = []; // per layer: [numKvHeads, capacity, headDim]
  private capacityTokens = 0;
  private lengthTokens = 0;

  constructor(readonly shape: KvShape) {}

  /** KV heads the cache holds in `layer`. */
  headsOf(layer: number): number {
    return headsIn(this.shape, layer);
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

  get bufferedLength(): number {
    return this.lengthTokens;
  }

  feed(feeds: Record<string, FeedTensor>): void {
    const { numLayers, headDim } = this.shape;
    for (let l = 0; l < numLayers; l++) {
      const heads = this.headsOf(l);
      if (heads === 0) continue;
      feeds[graphNames.pastKey(l)] = { type: 'float32', data: this.keys[l], dims: [heads, this.capacityTokens, headDim] };
      feeds[graphNames.pastValue(l)] = { type: 'float32', data: this.values[l], dims: [heads, this.capacityTokens, headDim] };
    }
  }

  exportRows(from: number, to: number): { full: LayerRows[] } {
    return { full: Array.from({ length: this.shape.numLayers }, (_, l) => this.copyRows(l, from, to)) };
  }

  importRows(segment: KvSegment, from: number, to: number): void {
    segment.full.forEach((rows, l) => this.appendLayer(l, rows.keys, rows.values, to - from, segment.length, from));
    this.commit(to - from);
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
    const capacity = shrunkCapacity(this.capacityTokens, this.lengthTokens);
    if (capacity !== this.capacityTokens) this.resize(capacity);
  }

  /** Ensures room for `tokens` positions, growing by at least an eighth (bounded by maxPositions). */
  reserve(tokens: number): void {
    const capacity = grownCapacity(this.capacityTokens, tokens, this.shape.maxPositions);
    if (capacity !== this.capacityTokens) this.resize(capacity);
  }

  /** New buffers of `capacity` tokens holding the filled rows (capacity >= length). */
  private resize(capacity: number): void {
    const { headDim } = this.shape;
    for (let l = 0; l < this.shape.numLayers; l++) {
      const heads = this.headsOf(l);
      this.keys[l] = regrowHeads(this.keys[l], heads, this.capacityTokens, capacity, this.lengthTokens, headDim, Float32Array);
      this.values[l] = regrowHeads(this.values[l], heads, this.capacityTokens, capacity, this.lengthTokens, headDim, Float32Array);
    }
    this.capacityTokens = capacity;
  }

}
