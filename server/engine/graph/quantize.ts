// Block quantization of linear weights for com.microsoft MatMulNBits: each output row's K
// inputs in blocks of 32, each block a float scale and 32 unsigned codes around the
// kernel's default zero point, so the range is symmetric: 4 bits as nibbles with zero
// point 8 (w ≈ (q - 8) * scale, q in 1..15), 8 bits as bytes with zero point 128
// (w ≈ (q - 128) * scale, q in 1..255).

export const nbitsBlockSize = 32;

export interface QuantizedMatrix {
  /** [N, K / blockSize, blockSize * bits / 8]: 4 bits two nibbles a byte, the lower one first; 8 bits a byte each. */
  packed: Uint8Array;
  /** [N, K / blockSize] */
  scales: Float32Array;
  rows: number; // N (outputs)
  cols: number; // K (inputs)
}

/** Quantizes a Hugging Face Linear weight [N, K] (K a multiple of the block size) to 4 or 8 bits. */
export function quantizeBlocks(weight: Float32Array, rows: number, cols: number, bits: 4 | 8): QuantizedMatrix {
  return bits === 4 ? quantize4(weight, rows, cols) : quantize8(weight, rows, cols);
}

function checkBlocks(cols: number, bits: number): number {
  if (cols % nbitsBlockSize !== 0) throw new Error(`${bits}-bit weights need inputs in multiples of ${nbitsBlockSize}, not ${cols}`);
  return cols / nbitsBlockSize;
}

/** The largest magnitude of each block of 32 in row n: [blocks]. */
function blockMaxAbs(weight: Float32Array, n: number, cols: number, blocks: number): Float32Array {
  const out = new Float32Array(blocks);
  for (let b = 0; b < blocks; b++) {
    const from = n * cols + b * nbitsBlockSize;
    let maxAbs = 0;
    for (let i = 0; i < nbitsBlockSize; i++) maxAbs = Math.max(maxAbs, Math.abs(weight[from + i]));
    out[b] = maxAbs;
  }
  return out;
}

/** 8 bits: bytes 1..255 map to -127..127 around the zero point 128; the largest magnitude is exact. */
export function quantize8(weight: Float32Array, rows: number, cols: number): QuantizedMatrix {
  const blocks = checkBlocks(cols, 8);
  const packed = new Uint8Array(rows * cols);
  const scales = new Float32Array(rows * blocks);
  for (let n = 0; n < rows; n++) {
    const maxAbs = blockMaxAbs(weight, n, cols, blocks);
    for (let b = 0; b < blocks; b++) {
      const scale = maxAbs[b] / 127;
      scales[n * blocks + b] = scale;
      const from = n * cols + b * nbitsBlockSize;
      for (let i = 0; i < nbitsBlockSize; i++) packed[from + i] = scale === 0 ? 128 : Math.min(255, Math.max(1, Math.round(weight[from + i] / scale) + 128));
    }
  }
  return { packed, scales, rows, cols };
}

/** 4 bits: see the header. */
export function quantize4(weight: Float32Array, rows: number, cols: number): QuantizedMatrix {
  const blocks = checkBlocks(cols, 4);
  const packed = new Uint8Array(rows * blocks * (nbitsBlockSize / 2));
  const scales = new Float32Array(rows * blocks);
  for (let n = 0; n < rows; n++) {
    const maxAbs = blockMaxAbs(weight, n, cols, blocks);
    for (let b = 0; b < blocks; b++) {
      const from = n * cols + b * nbitsBlockSize;
      // Nibbles 1..15 map to -7..7 around the zero point: the largest magnitude is exact.
      const scale = maxAbs[b] / 7;
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
