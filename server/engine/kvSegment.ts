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
//
// Under int8 KV (kvCacheInt8.ts) the full heads' rows of whole blocks are int8: the first
// `quantized.length` positions come as 8-bit rows with a scale per position, and `full`
// holds the exact rows of the rest (the block that was still filling when the segment was
// copied). Blocks of `blockTokens` positions are aligned on absolute positions (position p
// is in block floor(p / blockTokens)).

export interface KvSegmentHeads {
  /** Heads per layer that keep every token. */
  full: number[];
  /** Streaming heads per layer (0 everywhere when dense). */
  streaming: number[];
  headDim: number;
  /** Positions per int8 block when the full heads are int8; absent for fp32. */
  int8Block?: number;
}

export interface LayerRows {
  keys: Float32Array; // [heads, rows, headDim]
  values: Float32Array; // [heads, rows, headDim]
}

/** One layer's 8-bit rows of the full heads (symmetric: x ≈ q · scale, per position). */
export interface QuantizedLayerRows {
  keys: Uint8Array; // [heads, rows, headDim]: q + 128 (kvCacheInt8.ts)
  keyScales: Float32Array; // [heads, rows]
  values: Int8Array; // [heads, rows, headDim]: q
  valueScales: Float32Array; // [heads, rows]
}

/** The int8 part of a segment: its first `length` positions. */
export interface QuantizedPart {
  length: number;
  blockTokens: number;
  layers: QuantizedLayerRows[];
}

export class KvSegment {
  constructor(
    readonly heads: KvSegmentHeads,
    /** First position held. */
    readonly start: number,
    /** Positions held: [start, start + length). */
    readonly length: number,
    /** Per layer: the full heads' exact rows [full_l, length - quantizedLength, headDim], positions [start + quantizedLength, end). */
    readonly full: LayerRows[],
    /** Positions whose streaming-head rows are kept, ascending. */
    readonly streamedPositions: Int32Array,
    /** Per layer: the streaming heads' rows [streaming_l, streamedPositions.length, headDim]. */
    readonly streamed: LayerRows[],
    /** The full heads' int8 rows of positions [start, start + quantized.length) (int8 KV only). */
    readonly quantized?: QuantizedPart,
  ) {
    const { headDim } = heads;
    const exactRows = length - (quantized?.length ?? 0);
    if (exactRows < 0) throw new Error('KV segment: more quantized positions than positions');
    if ((quantized !== undefined) !== (heads.int8Block !== undefined) || (quantized && quantized.blockTokens !== heads.int8Block)) {
      throw new Error('KV segment: int8 rows and the head layout disagree');
    }
    full.forEach((rows, l) => {
      if (rows.keys.length !== heads.full[l] * exactRows * headDim || rows.values.length !== rows.keys.length) throw new Error(`KV segment: layer ${l} holds the wrong number of full rows`);
    });
    if (quantized) {
      quantized.layers.forEach((rows, l) => {
        const n = heads.full[l] * quantized.length;
        if (rows.keys.length !== n * headDim || rows.values.length !== n * headDim || rows.valueScales.length !== n || rows.keyScales.length !== n) {
          throw new Error(`KV segment: layer ${l} holds the wrong number of int8 rows or scales`);
        }
      });
    }
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
    for (const rows of this.quantized?.layers ?? []) total += rows.keys.byteLength + rows.keyScales.byteLength + rows.values.byteLength + rows.valueScales.byteLength;
    return total;
  }

  /** Positions whose full-head rows are int8 (the first ones); 0 for fp32. */
  get quantizedLength(): number {
    return this.quantized?.length ?? 0;
  }

  /** A copy of positions [start + from, start + to), owning its own memory. */
  slice(from: number, to: number): KvSegment {
    if (!(0 <= from && from <= to && to <= this.length)) throw new RangeError(`KV segment slice [${from}, ${to}) of ${this.length} positions`);
    const { headDim } = this.heads;
    // Offsets [from, to) split into int8 rows [from, qTo) and exact rows [eFrom, to).
    const q = this.quantizedLength;
    const qTo = Math.min(to, q);
    const eFrom = Math.max(from, q);
    const eTo = Math.max(eFrom, to);
    const exactRows = this.length - q;
    const full = this.full.map((rows, l) => ({
      keys: sliceRows(rows.keys, this.heads.full[l], exactRows, headDim, eFrom - q, eTo - q),
      values: sliceRows(rows.values, this.heads.full[l], exactRows, headDim, eFrom - q, eTo - q),
    }));
    const quantized = this.quantized && sliceQuantized(this.quantized, this.heads, from, Math.max(from, qTo));
    let first = 0;
    while (first < this.streamedPositions.length && this.streamedPositions[first] < this.start + from) first++;
    let last = first;
    while (last < this.streamedPositions.length && this.streamedPositions[last] < this.start + to) last++;
    const count = this.streamedPositions.length;
    const streamed = this.streamed.map((rows, l) => ({
      keys: sliceRows(rows.keys, this.heads.streaming[l], count, headDim, first, last),
      values: sliceRows(rows.values, this.heads.streaming[l], count, headDim, first, last),
    }));
    return new KvSegment(this.heads, this.start + from, to - from, full, this.streamedPositions.slice(first, last), streamed, quantized);
  }
}

/** The int8 rows of offsets [from, to) of a part, with their scales. */
function sliceQuantized(part: QuantizedPart, heads: KvSegmentHeads, from: number, to: number): QuantizedPart {
  const { headDim } = heads;
  const layers = part.layers.map((rows, l) => {
    const n = heads.full[l];
    return {
      keys: sliceRows(rows.keys, n, part.length, headDim, from, to),
      keyScales: sliceRows(rows.keyScales, n, part.length, 1, from, to),
      values: sliceRows(rows.values, n, part.length, headDim, from, to),
      valueScales: sliceRows(rows.valueScales, n, part.length, 1, from, to),
    };
  });
  return { length: to - from, blockTokens: part.blockTokens, layers };
}

/** Rows [from, to) of every head of a [heads, rows, headDim] buffer, as a new [heads, to - from, headDim] buffer. */
export function sliceRows<T extends Float32Array | Int8Array | Uint8Array>(buffer: T, heads: number, rows: number, headDim: number, from: number, to: number): T {
  const out = new (buffer.constructor as new (length: number) => T)(heads * (to - from) * headDim);
  for (let h = 0; h < heads; h++) out.set(buffer.subarray((h * rows + from) * headDim, (h * rows + to) * headDim), h * (to - from) * headDim);
  return out;
}

/** Whether two segments' head layouts match (a segment only imports into a cache of its layout). */
export function sameHeads(a: KvSegmentHeads, b: KvSegmentHeads): boolean {
  return a.headDim === b.headDim && a.int8Block === b.int8Block && a.full.length === b.full.length && a.full.every((n, l) => n === b.full[l] && a.streaming[l] === b.streaming[l]);
}
