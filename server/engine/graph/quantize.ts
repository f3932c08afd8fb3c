// 4-bit block quantization of linear weights for com.microsoft MatMulNBits: each output
// row's K inputs in blocks of 32, each block a float scale and 32 unsigned nibbles with the
// kernel's default zero point of 8 (so the range is symmetric: w ≈ (q - 8) * scale).

export const nbitsBlockSize = 32;

export interface QuantizedMatrix {
  /** [N, K / blockSize, blockSize / 2]: two nibbles a byte, the lower one first. */
  packed: Uint8Array;
  /** [N, K / blockSize] */
  scales: Float32Array;
  rows: number; // N (outputs)
  cols: number; // K (inputs)
}

/** Quantizes a Hugging Face Linear weight [N, K] (K a multiple of the block size). */
export function quantize4(weight: Float32Array, rows: number, cols: number): QuantizedMatrix {
  if (cols % nbitsBlockSize !== 0) throw new Error(`4-bit weights need inputs in multiples of ${nbitsBlockSize}, not ${cols}`);
  const blocks = cols / nbitsBlockSize;
  const packed = new Uint8Array(rows * blocks * (nbitsBlockSize / 2));
  const scales = new Float32Array(rows * blocks);
  for (let n = 0; n < rows; n++) {
    for (let b = 0; b < blocks; b++) {
      const from = n * cols + b * nbitsBlockSize;
      let maxAbs = 0;
      for (let i = 0; i < nbitsBlockSize; i++) maxAbs = Math.max(maxAbs, Math.abs(weight[from + i]));
      // Nibbles 1..15 map to -7..7 around the zero point: the largest magnitude is exact.
      const scale = maxAbs / 7;
      scales[n * blocks + b] = scale;
      const to = (n * blocks + b) * (nbitsBlockSize / 2);
      for (let i = 0; i < nbitsBlockSize; i += 2) {
        const q0 = scale === 0 ? 8 : Math.min(15, Math.max(0, Math.round(weight[from + i] / scale) + 8));
        const q1 = scale === 0 ? 8 : Math.min(15, Math.max(0, Math.round(weight[from + i + 1] / scale) + 8));
        packed[to + i / 2] = q0 | (q1 << 4);
      }
    }
  }
  return { packed, scales, rows, cols };
}
