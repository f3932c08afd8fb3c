// What a Sequence's forward pass needs from its KV cache: the past tensors to feed, and
// where the pass's new keys and values go. Two policies:
// - dense: every KV head keeps every token (kvCache.ts), fed as past_key.{l}/past_value.{l}.
// - head-aware: per layer, the retrieval heads keep every token (a KvCache holding only
//   them) and the streaming heads keep S sinks and a ring of the W most recent tokens
//   (window_key.{l}/window_value.{l} [streaming, S + W, headDim] with window_mask), in the
//   graph's head order (graph/headLayout.ts).
// Both are owned by JS and fed in place; the graph returns only the new rows. The heads that
// keep every token are fp32 (kvCache.ts) or int8 (kvCacheInt8.ts), under either policy.

import { graphNames, maskedScore } from './graph/decoderGraph';
import type { HeadLayout } from './graph/headLayout';
import { KvCache, type FullHeadsCache, type KvShape } from './kvCache';
import { QuantizedKvCache } from './kvCacheInt8';
import { KvSegment, sameHeads, type KvSegmentHeads } from './kvSegment';
import type { FeedTensor } from './runtime/ortRuntime';

export interface KvStore {
  readonly length: number;
  /** Bytes of every buffer the store holds, exactly. */
  readonly bytes: number;
  /**
   * Makes room for `count` more tokens, adds the past tensors to `feeds`, and returns what
   * the causal mask spans: the full past's capacity, of which [0, buffered) is filled.
   */
  feedPast(count: number, feeds: Record<string, FeedTensor>): { capacity: number; buffered: number };
  /** Stores the pass's new_key.{l}/new_value.{l} ([numKvHeads, count, headDim] each, graph order) and counts the tokens. */
  append(out: Record<string, Float32Array>, count: number): void;
  truncate(length: number): void;
  /** A KV head's cached keys [length, headDim] (original head numbering). */
  keys(layer: number, kvHead: number): Float32Array;
  values(layer: number, kvHead: number): Float32Array;
  /** One layer's queries [numHeads, n, headDim] from graph order to the original head order. */
  originalQueryOrder(layer: number, queries: Float32Array, n: number): Float32Array;
  /** The heads its segments hold, per layer. */
  readonly segmentHeads: KvSegmentHeads;
  /** A copy of the KV of positions [from, to) (the streaming heads' rows it still holds, when head-aware). */
  exportSegment(from: number, to: number): KvSegment;
  /**
   * Appends the KV of a segment's offsets [from, to) (the whole segment by default) as the
   * next positions; the first of them must be position `length`. No intermediate copy.
   */
  importSegment(segment: KvSegment, from?: number, to?: number): void;
  /**
   * Positions the streaming heads' sinks and window should hold at the current length but
   * do not (after an import or a truncation); 0 when dense. Attention over such a window
   * is shorter than the one a fresh prefill would have seen.
   */
  readonly windowGapTokens: number;
  /** The streaming heads' window W (0 when dense): re-running the W tokens before a position refills its window. */
  readonly windowTokens: number;
}

function checkImport(store: KvStore, segment: KvSegment, from: number, to: number): void {
  if (!(0 <= from && from <= to && to <= segment.length)) throw new RangeError(`KV segment offsets [${from}, ${to}) of ${segment.length}`);
  if (segment.start + from !== store.length) throw new Error(`KV segment part starts at ${segment.start + from}, the cache holds ${store.length} positions`);
  if (!sameHeads(segment.heads, store.segmentHeads)) throw new Error('KV segment of another head layout');
}

function tensor(data: Float32Array, dims: number[]): FeedTensor {
  return { type: 'float32', data, dims };
}

/** The cache of the heads that keep every token: int8 in blocks of `int8Block` positions, else fp32. */
function fullHeadsCache(shape: KvShape, int8Block: number | undefined): FullHeadsCache {
  return int8Block ? new QuantizedKvCache(shape, int8Block) : new KvCache(shape);
}

/** A segment of the full heads' rows [from, to) of `cache`, with the streamed rows given. */
function segmentOf(cache: FullHeadsCache, heads: KvSegmentHeads, from: number, to: number, streamedPositions: Int32Array, streamed: KvSegment['streamed']): KvSegment {
  const { full, quantized } = cache.exportRows(from, to);
  return new KvSegment(heads, from, to - from, full, streamedPositions, streamed, quantized);
}

export class DenseKvStore implements KvStore {
  private readonly cache: FullHeadsCache;

  constructor(
    private readonly shape: KvShape,
    private readonly int8Block?: number,
  ) {
    this.cache = fullHeadsCache(shape, int8Block);
  }

  get length(): number {
    return this.cache.length;
  }

  get bytes(): number {
    return this.cache.bytes;
  }

  feedPast(count: number, feeds: Record<string, FeedTensor>): { capacity: number; buffered: number } {
    // Grown per pass, not for a whole append: attention runs over the whole capacity (the
    // unfilled tail masked), so a prefill's early chunks must not see its final size.
    this.cache.reserve(this.cache.length + count);
    this.cache.feed(feeds);
    return { capacity: this.cache.capacity, buffered: this.cache.bufferedLength };
  }

  append(out: Record<string, Float32Array>, count: number): void {
    for (let l = 0; l < this.shape.numLayers; l++) this.cache.appendLayer(l, out[graphNames.newKey(l)], out[graphNames.newValue(l)], count);
    this.cache.commit(count);
  }

  truncate(length: number): void {
    this.cache.truncate(length);
  }

  keys(layer: number, kvHead: number): Float32Array {
    return this.cache.pastKeys(layer, kvHead);
  }

  values(layer: number, kvHead: number): Float32Array {
    return this.cache.pastValues(layer, kvHead);
  }

  originalQueryOrder(_layer: number, queries: Float32Array): Float32Array {
    return queries;
  }

  get segmentHeads(): KvSegmentHeads {
    const { numLayers, numKvHeads, headDim } = this.shape;
    return { full: Array(numLayers).fill(numKvHeads), streaming: Array(numLayers).fill(0), headDim, ...(this.int8Block ? { int8Block: this.int8Block } : {}) };
  }

  exportSegment(from: number, to: number): KvSegment {
    const streamed = Array.from({ length: this.shape.numLayers }, () => ({ keys: new Float32Array(0), values: new Float32Array(0) }));
    return segmentOf(this.cache, this.segmentHeads, from, to, new Int32Array(0), streamed);
  }

  importSegment(segment: KvSegment, from = 0, to = segment.length): void {
    checkImport(this, segment, from, to);
    this.cache.importRows(segment, from, to);
  }

  readonly windowGapTokens = 0;
  readonly windowTokens = 0;
}

export interface WindowShape {
  sinks: number;
  window: number;
}

export class HeadAwareKvStore implements KvStore {
  private readonly full: FullHeadsCache; // retrieval heads, every token
  private readonly windowKeys: Float32Array[] = []; // per layer [streaming, slots, headDim]
  private readonly windowValues: Float32Array[] = [];
  private readonly slotPosition: Int32Array; // position held by each slot, -1 when empty
  private readonly windowMask: Float32Array; // [1, slots], rebuilt per pass
  private readonly slots: number;
  private lengthTokens = 0;

  constructor(
    private readonly shape: KvShape,
    private readonly layout: HeadLayout,
    private readonly windowShape: WindowShape,
    private readonly int8Block?: number,
  ) {
    this.full = fullHeadsCache({ ...shape, headsPerLayer: layout.retrievalCount }, int8Block);
    this.slots = windowShape.sinks + windowShape.window;
    if (this.slots < 1) throw new RangeError('a head-aware cache needs at least one sink or window slot');
    for (let l = 0; l < shape.numLayers; l++) {
      const streaming = shape.numKvHeads - layout.retrievalCount[l];
      this.windowKeys.push(new Float32Array(streaming * this.slots * shape.headDim));
      this.windowValues.push(new Float32Array(streaming * this.slots * shape.headDim));
    }
    this.slotPosition = new Int32Array(this.slots).fill(-1);
    this.windowMask = new Float32Array(this.slots);
  }

  get length(): number {
    return this.lengthTokens;
  }

  get bytes(): number {
    let total = this.full.bytes;
    for (let l = 0; l < this.shape.numLayers; l++) total += this.windowKeys[l].byteLength + this.windowValues[l].byteLength;
    return total;
  }

  /** The slot of position p: sinks keep their own, the rest share a ring; -1 when neither (no window). */
  private slotOf(position: number): number {
    const { sinks, window } = this.windowShape;
    if (position < sinks) return position;
    return window > 0 ? sinks + ((position - sinks) % window) : -1;
  }

  feedPast(count: number, feeds: Record<string, FeedTensor>): { capacity: number; buffered: number } {
    this.full.reserve(this.lengthTokens + count);
    this.full.feed(feeds);
    const { numLayers, numKvHeads, headDim } = this.shape;
    for (let l = 0; l < numLayers; l++) {
      const retrieval = this.layout.retrievalCount[l];
      if (retrieval < numKvHeads) {
        feeds[graphNames.windowKey(l)] = tensor(this.windowKeys[l], [numKvHeads - retrieval, this.slots, headDim]);
        feeds[graphNames.windowValue(l)] = tensor(this.windowValues[l], [numKvHeads - retrieval, this.slots, headDim]);
      }
    }
    if (this.layout.retrievalCount.some((r) => r < numKvHeads)) {
      for (let s = 0; s < this.slots; s++) this.windowMask[s] = this.slotPosition[s] >= 0 ? 0 : maskedScore;
      feeds[graphNames.windowMask] = tensor(this.windowMask, [1, this.slots]);
    }
    return { capacity: this.full.capacity, buffered: this.full.bufferedLength };
  }

  append(out: Record<string, Float32Array>, count: number): void {
    const { numLayers, numKvHeads, headDim } = this.shape;
    const { sinks, window } = this.windowShape;
    const start = this.lengthTokens;
    // Of a long pass only the sinks and the last `window` tokens land in the ring.
    const kept: Array<{ row: number; slot: number }> = [];
    for (let i = 0; i < count; i++) {
      const position = start + i;
      if (position < sinks || i >= count - window) {
        const slot = this.slotOf(position);
        if (slot >= 0) kept.push({ row: i, slot });
      }
    }
    for (let l = 0; l < numLayers; l++) {
      const retrieval = this.layout.retrievalCount[l];
      const newKeys = out[graphNames.newKey(l)];
      const newValues = out[graphNames.newValue(l)];
      const split = retrieval * count * headDim;
      this.full.appendLayer(l, newKeys.subarray(0, split), newValues.subarray(0, split), count);
      for (let h = retrieval; h < numKvHeads; h++) {
        for (const { row, slot } of kept) {
          const from = (h * count + row) * headDim;
          const to = ((h - retrieval) * this.slots + slot) * headDim;
          this.windowKeys[l].set(newKeys.subarray(from, from + headDim), to);
          this.windowValues[l].set(newValues.subarray(from, from + headDim), to);
        }
      }
    }
    this.full.commit(count);
    for (const { row, slot } of kept) this.slotPosition[slot] = start + row;
    this.lengthTokens += count;
  }

  /** Forgets positions >= length (or from an int8 block's start: see FullHeadsCache.truncate). Ring slots they overwrote are lost: the window is shorter until new tokens fill it. */
  truncate(length: number): void {
    this.full.truncate(length);
    this.lengthTokens = this.full.length;
    for (let s = 0; s < this.slots; s++) if (this.slotPosition[s] >= this.lengthTokens) this.slotPosition[s] = -1;
  }

  private retrievalIndex(layer: number, kvHead: number): number {
    const index = this.layout.order[layer].indexOf(kvHead);
    if (index < 0 || index >= this.layout.retrievalCount[layer]) {
      throw new Error(`KV head ${kvHead} of layer ${layer} keeps only sinks and a window under the head-aware policy; its past is not all cached`);
    }
    return index;
  }

  keys(layer: number, kvHead: number): Float32Array {
    return this.full.pastKeys(layer, this.retrievalIndex(layer, kvHead));
  }

  values(layer: number, kvHead: number): Float32Array {
    return this.full.pastValues(layer, this.retrievalIndex(layer, kvHead));
  }

  get segmentHeads(): KvSegmentHeads {
    const { numKvHeads, headDim } = this.shape;
    const int8 = this.int8Block ? { int8Block: this.int8Block } : {};
    return { full: [...this.layout.retrievalCount], streaming: this.layout.retrievalCount.map((r) => numKvHeads - r), headDim, ...int8 };
  }

  exportSegment(from: number, to: number): KvSegment {
    const { numLayers, numKvHeads, headDim } = this.shape;
    // The streaming rows it still holds of [from, to): its sinks and what the ring has kept.
    const kept: Array<{ position: number; slot: number }> = [];
    for (let position = from; position < to; position++) {
      const slot = this.slotOf(position);
      if (slot >= 0 && this.slotPosition[slot] === position) kept.push({ position, slot });
    }
    const streamed = Array.from({ length: numLayers }, (_, l) => {
      const heads = numKvHeads - this.layout.retrievalCount[l];
      const keys = new Float32Array(heads * kept.length * headDim); // [streaming, kept, headDim]
      const values = new Float32Array(keys.length);
      for (let h = 0; h < heads; h++) {
        kept.forEach(({ slot }, i) => {
          const at = (h * this.slots + slot) * headDim;
          keys.set(this.windowKeys[l].subarray(at, at + headDim), (h * kept.length + i) * headDim);
          values.set(this.windowValues[l].subarray(at, at + headDim), (h * kept.length + i) * headDim);
        });
      }
      return { keys, values };
    });
    return segmentOf(this.full, this.segmentHeads, from, to, Int32Array.from(kept, (k) => k.position), streamed);
  }

  importSegment(segment: KvSegment, from = 0, to = segment.length): void {
    checkImport(this, segment, from, to);
    const { numLayers, numKvHeads, headDim } = this.shape;
    this.full.importRows(segment, from, to);
    const count = segment.streamedPositions.length;
    const [first, end] = [segment.start + from, segment.start + to];
    segment.streamedPositions.forEach((position, i) => {
      const slot = position >= first && position < end ? this.slotOf(position) : -1;
      if (slot < 0) return;
      for (let l = 0; l < numLayers; l++) {
        for (let h = 0; h < numKvHeads - this.layout.retrievalCount[l]; h++) {
          const from = (h * count + i) * headDim;
          const to = (h * this.slots + slot) * headDim;
          this.windowKeys[l].set(segment.streamed[l].keys.subarray(from, from + headDim), to);
          this.windowValues[l].set(segment.streamed[l].values.subarray(from, from + headDim), to);
        }
      }
      this.slotPosition[slot] = position;
    });
    this.lengthTokens += to - from;
    // A ring slot the segment did not refill may still hold a position from before the
    // window: it is no longer one of the W most recent, so it is emptied, not attended to.
    const oldest = this.lengthTokens - this.windowShape.window;
    for (let s = this.windowShape.sinks; s < this.slots; s++) if (this.slotPosition[s] >= 0 && this.slotPosition[s] < oldest) this.slotPosition[s] = -1;
  }

  get windowGapTokens(): number {
    const { sinks, window } = this.windowShape;
    const length = this.lengthTokens;
    const expected = Math.min(sinks, length) + Math.max(0, Math.min(window, length - sinks));
    let held = 0;
    for (let s = 0; s < this.slots; s++) if (this.slotPosition[s] >= 0) held++;
    return expected - held;
  }

  get windowTokens(): number {
    return this.windowShape.window;
  }

  originalQueryOrder(layer: number, queries: Float32Array, n: number): Float32Array {
    const { numKvHeads, headDim } = this.shape;
    const group = queries.length / (n * headDim) / numKvHeads; // query heads per KV head
    const out = new Float32Array(queries.length);
    const rows = n * headDim;
    this.layout.order[layer].forEach((kvHead, position) => {
      for (let g = 0; g < group; g++) out.set(queries.subarray((position * group + g) * rows, (position * group + g + 1) * rows), (kvHead * group + g) * rows);
    });
    return out;
  }
}
