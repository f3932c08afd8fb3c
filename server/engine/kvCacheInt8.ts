// int8 KV for the heads that keep every token: about a quarter of fp32's bytes.
//
//   keys    Uint8Array [heads, capacity, headDim]: q + 128, scales [heads, capacity];
//   values  Int8Array [heads, capacity, headDim]: q, scales [heads, capacity].
// Symmetric, one scale per position and head: x ≈ q · scale with q in [-127, 127] and
// scale = max|x| / 127 over the row. One scale per key row (not per channel) lets a decode
// step take every position's scores in one integer product (graph/attention.ts, int8Part:
// onnxruntime's MatMulInteger, whose fast kernels take unsigned rows with a zero point,
// hence the keys' offset of 128), the scales applied to the products afterwards.
//
// A block of B positions is quantized when its B-th position arrives. Until then its rows
// stay exact in recentKeys / recentValues [heads, B, headDim], and the graph attends to
// them as a part of their own (decoderGraph.ts). So positions [0, quantizedLength) are int8,
// with quantizedLength = floor(length / B) · B, and [quantizedLength, length) are exact: the
// most recent tokens, the ones attention leans on most, are never rounded. Blocks are
// aligned on absolute positions, so every copy of a sequence quantizes the same rows
// (KvSegment).
//
// A truncation inside an int8 block cuts at the block's start instead (its exact rows are
// gone; the caller recomputes them, see Sequence.truncate), so a block is never quantized
// from rows rounded once already. A segment imported from a position inside a block puts its
// int8 rows back among the recent ones, dequantized; when the block fills it is quantized
// again, and since each row's largest value comes back exactly as scale · 127, the same
// scales and integers come out (up to float rounding).

import { graphNames, maskedScore } from './graph/decoderGraph';
import { grownCapacity, headsIn, regrowHeads, shrunkCapacity, type FullHeadsCache, type KvShape } from './kvCache';
import { sliceRows, type KvSegment, type LayerRows, type QuantizedLayerRows, type QuantizedPart } from './kvSegment';
import type { FeedTensor } from './runtime/ortRuntime';

/** Positions per int8 block unless asked otherwise: the block still filling stays exact, so a larger block keeps more recent rows exact, for its fp32 rows' bytes (B · headDim · 8 per head). */
export const defaultInt8BlockTokens = 256;

const qMax = 127;
/** Keys are stored offset-binary (q + 128, uint8): the integer product's fast kernels take unsigned rows with a zero point. */
const keyOffset = 128;

/** Block sizes the cache takes: divisors of the 256-token capacity step, so every capacity is whole blocks. */
export function checkInt8Block(blockTokens: number): void {
  if (![16, 32, 64, 128, 256].includes(blockTokens)) throw new RangeError(`int8 KV block of ${blockTokens} positions: use 16, 32, 64, 128 or 256`);
}

export class QuantizedKvCache implements FullHeadsCache {
  private keys: Uint8Array[] = []; // per layer [heads, capacity, headDim], offset by 128
  private keyScales: Float32Array[] = []; // per layer [heads, capacity]
  private values: Int8Array[] = []; // per layer [heads, capacity, headDim]
  private valueScales: Float32Array[] = []; // per layer [heads, capacity]
  private readonly recentKeys: Float32Array[] = []; // per layer [heads, B, headDim]: positions [quantizedLength, length)
  private readonly recentValues: Float32Array[] = [];
  private readonly recentMask: Float32Array; // [1, B], rebuilt per pass
  private int8Mask = new Float32Array(0); // [1, 1, capacity], rebuilt per pass
  private capacityTokens = 0;
  private lengthTokens = 0;

  constructor(
    readonly shape: KvShape,
    readonly blockTokens: number,
  ) {
    checkInt8Block(blockTokens);
    for (let l = 0; l < shape.numLayers; l++) {
      this.recentKeys.push(new Float32Array(this.headsOf(l) * blockTokens * shape.headDim));
      this.recentValues.push(new Float32Array(this.headsOf(l) * blockTokens * shape.headDim));
    }
    this.recentMask = new Float32Array(blockTokens);
  }

  headsOf(layer: number): number {
    return headsIn(this.shape, layer);
  }

  get length(): number {
    return this.lengthTokens;
  }

  get capacity(): number {
    return this.capacityTokens;
  }

  /** Positions in the int8 buffers: whole blocks. */
  get quantizedLength(): number {
    return Math.floor(this.lengthTokens / this.blockTokens) * this.blockTokens;
  }

  get bufferedLength(): number {
    return this.quantizedLength;
  }

  get bytes(): number {
    let total = 0;
    for (let l = 0; l < this.shape.numLayers; l++) {
      total += this.recentKeys[l].byteLength + this.recentValues[l].byteLength;
      if (this.keys[l]) total += this.keys[l].byteLength + this.keyScales[l].byteLength + this.values[l].byteLength + this.valueScales[l].byteLength;
    }
    return total;
  }

  reserve(tokens: number): void {
    // Whole blocks, even where the model's last position is not on one: the block still filling lies inside the capacity (the graph pads its rows' attention mass into their slots).
    const grown = Math.ceil(grownCapacity(this.capacityTokens, tokens, this.shape.maxPositions) / this.blockTokens) * this.blockTokens;
    if (grown !== this.capacityTokens) this.resize(grown);
  }

  feed(feeds: Record<string, FeedTensor>): void {
    const { numLayers, headDim } = this.shape;
    const B = this.blockTokens;
    const capacity = this.capacityTokens;
    let any = false;
    for (let l = 0; l < numLayers; l++) {
      const heads = this.headsOf(l);
      if (heads === 0) continue;
      any = true;
      feeds[graphNames.pastKeyQ(l)] = { type: 'uint8', data: this.keys[l], dims: [heads, capacity, headDim] };
      feeds[graphNames.pastKeyScale(l)] = { type: 'float32', data: this.keyScales[l], dims: [heads, 1, capacity] };
      feeds[graphNames.pastValueQ(l)] = { type: 'int8', data: this.values[l], dims: [heads, capacity, headDim] };
      feeds[graphNames.pastValueScale(l)] = { type: 'float32', data: this.valueScales[l], dims: [heads, 1, capacity] };
      feeds[graphNames.recentKey(l)] = { type: 'float32', data: this.recentKeys[l], dims: [heads, B, headDim] };
      feeds[graphNames.recentValue(l)] = { type: 'float32', data: this.recentValues[l], dims: [heads, B, headDim] };
    }
    if (any) {
      const recent = this.lengthTokens - this.quantizedLength;
      for (let s = 0; s < B; s++) this.recentMask[s] = s < recent ? 0 : maskedScore;
      feeds[graphNames.recentMask] = { type: 'float32', data: this.recentMask, dims: [1, B] };
      if (this.int8Mask.length !== capacity) this.int8Mask = new Float32Array(capacity);
      const quantized = this.quantizedLength;
      this.int8Mask.fill(0, 0, quantized);
      this.int8Mask.fill(maskedScore, quantized);
      feeds[graphNames.int8Mask] = { type: 'float32', data: this.int8Mask, dims: [1, 1, capacity] };
    }
  }

  /**
   * Appends exact keys and values of `seqLen` positions for one layer, [headsOf(layer),
   * sourceRows, headDim] each, rows [sourceFrom, sourceFrom + seqLen); each block they
   * complete is quantized. Call for every layer, then commit(seqLen); reserve first.
   */
  appendLayer(layer: number, newKeys: Float32Array, newValues: Float32Array, seqLen: number, sourceRows = seqLen, sourceFrom = 0): void {
    const { headDim } = this.shape;
    const B = this.blockTokens;
    const heads = this.headsOf(layer);
    if (newKeys.length !== heads * sourceRows * headDim || newValues.length !== newKeys.length || sourceFrom + seqLen > sourceRows) {
      throw new Error(`layer ${layer}: new K/V hold ${newKeys.length}/${newValues.length} values, expected ${heads * sourceRows * headDim}`);
    }
    if (this.lengthTokens + seqLen > this.capacityTokens) throw new Error('appendLayer past the reserved capacity');
    for (let h = 0; h < heads; h++) {
      let filled = this.lengthTokens - this.quantizedLength;
      let block = this.quantizedLength / B;
      for (let i = 0; i < seqLen; i++) {
        const from = (h * sourceRows + sourceFrom + i) * headDim;
        const to = (h * B + filled) * headDim;
        this.recentKeys[layer].set(newKeys.subarray(from, from + headDim), to);
        this.recentValues[layer].set(newValues.subarray(from, from + headDim), to);
        if (++filled === B) {
          this.quantizeBlock(layer, h, block++);
          filled = 0;
        }
      }
    }
  }

  commit(seqLen: number): void {
    if (this.lengthTokens + seqLen > this.capacityTokens) throw new Error('commit without appendLayer');
    this.lengthTokens += seqLen;
  }

  /**
   * Forgets positions [length, this.length); a cut inside an int8 block cuts at the block's
   * start instead (its exact rows are gone), so `length` afterwards may be less than asked.
   */
  truncate(length: number): void {
    if (!Number.isInteger(length) || length < 0) throw new RangeError(`truncate(${length}): not a length`);
    if (length < this.lengthTokens) this.lengthTokens = length < this.quantizedLength ? Math.floor(length / this.blockTokens) * this.blockTokens : length;
    const capacity = shrunkCapacity(this.capacityTokens, this.lengthTokens);
    if (capacity !== this.capacityTokens) this.resize(capacity);
  }

  /** A KV head's keys [length, headDim], dequantized: a copy. */
  pastKeys(layer: number, head: number): Float32Array {
    return this.pastRows(layer, head, 'keys');
  }

  pastValues(layer: number, head: number): Float32Array {
    return this.pastRows(layer, head, 'values');
  }

  private pastRows(layer: number, head: number, which: 'keys' | 'values'): Float32Array {
    const { headDim } = this.shape;
    const out = new Float32Array(this.lengthTokens * headDim);
    const quantized = this.quantizedLength;
    // One pass over the int8 rows (evidence reads a few heads' keys after each completion).
    const rows = (which === 'keys' ? this.keys[layer] : this.values[layer]).subarray(head * this.capacityTokens * headDim, (head * this.capacityTokens + quantized) * headDim);
    const scales = which === 'keys' ? this.keyScales[layer] : this.valueScales[layer]; // [heads, capacity]
    const offset = which === 'keys' ? keyOffset : 0;
    for (let p = 0; p < quantized; p++) {
      const scale = scales[head * this.capacityTokens + p];
      for (let i = p * headDim, end = i + headDim; i < end; i++) out[i] = (rows[i] - offset) * scale;
    }
    const recent = which === 'keys' ? this.recentKeys[layer] : this.recentValues[layer];
    const from = head * this.blockTokens * headDim;
    out.set(recent.subarray(from, from + (this.lengthTokens - quantized) * headDim), quantized * headDim);
    return out;
  }

  exportRows(from: number, to: number): { full: LayerRows[]; quantized: QuantizedPart } {
    if (!(0 <= from && from <= to && to <= this.lengthTokens)) throw new RangeError(`KV cache: rows [${from}, ${to}) of ${this.lengthTokens}`);
    const { headDim } = this.shape;
    const B = this.blockTokens;
    const quantized = this.quantizedLength;
    const quantizedTo = Math.max(from, Math.min(to, quantized)); // int8 rows [from, quantizedTo), exact rows [quantizedTo, to)
    const layers: QuantizedLayerRows[] = [];
    const full: LayerRows[] = [];
    for (let l = 0; l < this.shape.numLayers; l++) {
      const heads = this.headsOf(l);
      const capacity = this.capacityTokens;
      const stored = Boolean(this.keys[l]);
      layers.push({
        keys: stored ? sliceRows(this.keys[l], heads, capacity, headDim, from, quantizedTo) : new Uint8Array(0),
        keyScales: stored ? sliceRows(this.keyScales[l], heads, capacity, 1, from, quantizedTo) : new Float32Array(0),
        values: stored ? sliceRows(this.values[l], heads, capacity, headDim, from, quantizedTo) : new Int8Array(0),
        valueScales: stored ? sliceRows(this.valueScales[l], heads, capacity, 1, from, quantizedTo) : new Float32Array(0),
      });
      full.push({
        keys: sliceRows(this.recentKeys[l], heads, B, headDim, quantizedTo - quantized, to - quantized),
        values: sliceRows(this.recentValues[l], heads, B, headDim, quantizedTo - quantized, to - quantized),
      });
    }
    return { full, quantized: { length: quantizedTo - from, blockTokens: B, layers } };
  }

  /**
   * Appends a segment's offsets [from, to) as the next positions. Whole blocks that are int8
   * in the segment and start where this cache's next block does are copied as they are;
   * other rows go through appendLayer (int8 rows dequantized first).
   */
  importRows(segment: KvSegment, from: number, to: number): void {
    const part = segment.quantized;
    if (!part || part.blockTokens !== this.blockTokens) throw new Error('KV segment without int8 rows of this block size');
    const B = this.blockTokens;
    const { headDim, numLayers } = this.shape;
    const end = segment.start + to;
    const quantizedEnd = segment.start + part.length; // positions [segment.start, quantizedEnd) are int8 in the segment
    const exactRows = segment.length - part.length;
    this.reserve(end);
    for (let p = segment.start + from; p < end; ) {
      const pieceEnd = Math.min(end, (Math.floor(p / B) + 1) * B);
      const n = pieceEnd - p;
      if (p % B === 0 && n === B && pieceEnd <= quantizedEnd) {
        for (let l = 0; l < numLayers; l++) {
          const rows = part.layers[l];
          for (let h = 0; h < this.headsOf(l); h++) {
            const source = h * part.length + (p - segment.start);
            const target = h * this.capacityTokens + p;
            this.keys[l].set(rows.keys.subarray(source * headDim, (source + B) * headDim), target * headDim);
            this.values[l].set(rows.values.subarray(source * headDim, (source + B) * headDim), target * headDim);
            this.keyScales[l].set(rows.keyScales.subarray(source, source + B), target);
            this.valueScales[l].set(rows.valueScales.subarray(source, source + B), target);
          }
        }
        this.lengthTokens += B;
      } else {
        for (let l = 0; l < numLayers; l++) {
          const heads = this.headsOf(l);
          const keys = new Float32Array(heads * n * headDim); // [heads, n, headDim]
          const values = new Float32Array(keys.length);
          for (let h = 0; h < heads; h++) {
            for (let i = 0; i < n; i++) {
              const position = p + i;
              const at = (h * n + i) * headDim;
              if (position < quantizedEnd) {
                dequantizeSegmentRow(part.layers[l], h, part.length, position - segment.start, headDim, keys, values, at);
              } else {
                const row = (h * exactRows + position - quantizedEnd) * headDim;
                keys.set(segment.full[l].keys.subarray(row, row + headDim), at);
                values.set(segment.full[l].values.subarray(row, row + headDim), at);
              }
            }
          }
          this.appendLayer(l, keys, values, n);
        }
        this.commit(n);
      }
      p = pieceEnd;
    }
  }

  /** Quantizes the B recent rows of one head into int8 block `block`. */
  private quantizeBlock(layer: number, head: number, block: number): void {
    const { headDim } = this.shape;
    const B = this.blockTokens;
    const keys = this.recentKeys[layer].subarray(head * B * headDim, (head + 1) * B * headDim); // [B, headDim]
    const values = this.recentValues[layer].subarray(head * B * headDim, (head + 1) * B * headDim);
    const rowBase = head * this.capacityTokens + block * B;
    quantizeRows(keys, B, headDim, this.keys[layer], this.keyScales[layer], rowBase, keyOffset);
    quantizeRows(values, B, headDim, this.values[layer], this.valueScales[layer], rowBase, 0);
  }

  private resize(capacity: number): void {
    const { headDim } = this.shape;
    const old = this.capacityTokens;
    const rows = this.quantizedLength; // int8 rows worth keeping
    for (let l = 0; l < this.shape.numLayers; l++) {
      const heads = this.headsOf(l);
      this.keys[l] = regrowHeads(this.keys[l], heads, old, capacity, rows, headDim, Uint8Array);
      this.values[l] = regrowHeads(this.values[l], heads, old, capacity, rows, headDim, Int8Array);
      this.valueScales[l] = regrowHeads(this.valueScales[l], heads, old, capacity, rows, 1, Float32Array);
      this.keyScales[l] = regrowHeads(this.keyScales[l], heads, old, capacity, rows, 1, Float32Array);
    }
    this.capacityTokens = capacity;
  }
}

/** `rows` rows [rows, headDim] of `exact`, each to 8 bits with its own scale (max|x| / 127), into rows [at, at + rows) of `out` (q + offset) and `scales`. */
function quantizeRows(exact: Float32Array, rows: number, headDim: number, out: Int8Array | Uint8Array, scales: Float32Array, at: number, offset: number): void {
  for (let t = 0; t < rows; t++) {
    let max = 0;
    for (let d = 0; d < headDim; d++) max = Math.max(max, Math.abs(exact[t * headDim + d]));
    const inverse = max > 0 ? qMax / max : 0;
    scales[at + t] = max / qMax;
    for (let d = 0; d < headDim; d++) out[(at + t) * headDim + d] = Math.round(exact[t * headDim + d] * inverse) + offset;
  }
}

/** Row `row` of head `head` of a segment's int8 layer rows, dequantized into keys/values at `at`. */
function dequantizeSegmentRow(rows: QuantizedLayerRows, head: number, rowCount: number, row: number, headDim: number, keys: Float32Array, values: Float32Array, at: number): void {
  const source = (head * rowCount + row) * headDim;
  const keyScale = rows.keyScales[head * rowCount + row];
  const valueScale = rows.valueScales[head * rowCount + row];
  for (let d = 0; d < headDim; d++) {
    keys[at + d] = (rows.keys[source + d] - keyOffset) * keyScale;
    values[at + d] = rows.values[source + d] * valueScale;
  }
}
