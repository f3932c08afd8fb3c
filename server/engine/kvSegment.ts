// A run of positions' keys and values copied out of a sequence's KV cache: what the prefix
// cache (prefixTree.ts) owns, what a sequence imports to resume from a cached prefix, and
// what a persisted cache file holds.
//
// Two parts, in the graph's head order (graph/headLayout.ts under the head-aware policy):
// - full: the heads that keep every token (all KV heads when dense, the retrieval heads
//   when head-aware): per layer keys and values [fullHeads_l, length, headDim].
// - streamed: the streaming heads' rows of the positions the segment kept of them (its
//   sinks and its last window; a head-aware cache never holds the rest): `positions`
//   ascending within [start, start + length), and per layer [streamingHeads_l, count, headDim].
// A dense segment has no streaming heads: streamed.positions is empty.

export interface KvSegmentHeads {
  /** Heads per layer that keep every token. */
  full: number[];
  /** Streaming heads per layer (0 everywhere when dense). */
  streaming: number[];
  headDim: number;
}

export interface LayerRows {
  keys: Float32Array; // [heads, rows, headDim]
  values: Float32Array; // [heads, rows, headDim]
}

export class KvSegment {
  constructor(
    readonly heads: KvSegmentHeads,
    /** First position held. */
    readonly start: number,
    /** Positions held: [start, start + length). */
    readonly length: number,
    /** Per layer: the full heads' rows [full_l, length, headDim]. */
    readonly full: LayerRows[],
    /** Positions whose streaming-head rows are kept, ascending. */
    readonly streamedPositions: Int32Array,
    /** Per layer: the streaming heads' rows [streaming_l, streamedPositions.length, headDim]. */
    readonly streamed: LayerRows[],
  ) {
    const { headDim } = heads;
    full.forEach((rows, l) => {
      if (rows.keys.length !== heads.full[l] * length * headDim || rows.values.length !== rows.keys.length) throw new Error(`KV segment: layer ${l} holds the wrong number of full rows`);
    });
    streamed.forEach((rows, l) => {
      if (rows.keys.length !== heads.streaming[l] * streamedPositions.length * headDim || rows.values.length !== rows.keys.length) {
        throw new Error(`KV segment: layer ${l} holds the wrong number of streamed rows`);
      }
    });
  }

  get end(): number {
    return this.start + this.length;
  }

  /** Bytes of its arrays, exactly. */
  get bytes(): number {
    let total = this.streamedPositions.byteLength;
    for (const rows of this.full) total += rows.keys.byteLength + rows.values.byteLength;
    for (const rows of this.streamed) total += rows.keys.byteLength + rows.values.byteLength;
    return total;
  }

  /** A copy of positions [start + from, start + to), owning its own memory. */
  slice(from: number, to: number): KvSegment {
    if (!(0 <= from && from <= to && to <= this.length)) throw new RangeError(`KV segment slice [${from}, ${to}) of ${this.length} positions`);
    const { headDim } = this.heads;
    const full = this.full.map((rows, l) => ({
      keys: sliceRows(rows.keys, this.heads.full[l], this.length, headDim, from, to),
      values: sliceRows(rows.values, this.heads.full[l], this.length, headDim, from, to),
    }));
    let first = 0;
    while (first < this.streamedPositions.length && this.streamedPositions[first] < this.start + from) first++;
    let last = first;
    while (last < this.streamedPositions.length && this.streamedPositions[last] < this.start + to) last++;
    const count = this.streamedPositions.length;
    const streamed = this.streamed.map((rows, l) => ({
      keys: sliceRows(rows.keys, this.heads.streaming[l], count, headDim, first, last),
      values: sliceRows(rows.values, this.heads.streaming[l], count, headDim, first, last),
    }));
    return new KvSegment(this.heads, this.start + from, to - from, full, this.streamedPositions.slice(first, last), streamed);
  }
}

/** Rows [from, to) of every head of a [heads, rows, headDim] buffer, as a new [heads, to - from, headDim] buffer. */
export function sliceRows(buffer: Float32Array, heads: number, rows: number, headDim: number, from: number, to: number): Float32Array {
  const out = new Float32Array(heads * (to - from) * headDim);
  for (let h = 0; h < heads; h++) out.set(buffer.subarray((h * rows + from) * headDim, (h * rows + to) * headDim), h * (to - from) * headDim);
  return out;
}

/** Whether two segments' head layouts match (a segment only imports into a cache of its layout). */
export function sameHeads(a: KvSegmentHeads, b: KvSegmentHeads): boolean {
  return a.headDim === b.headDim && a.full.length === b.full.length && a.full.every((n, l) => n === b.full[l] && a.streaming[l] === b.streaming[l]);
}
