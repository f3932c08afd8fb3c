// Random-weight checkpoints of named shapes, for benchmarks: speed depends on the shape,
// not on what the weights learned. Written with the byte-level tokenizer; token ids above
// its vocabulary are still valid model inputs, and benchmarks feed ids directly.

import { TensorF32 } from '../engine/checkpoint/safetensors';
import { randomLayerWeights, writeByteModelFolder, type FolderShape } from '../engine/checkpoint/byteModelFolder';
import { seededRandom } from '../engine/sampling';

export const benchShapes: Record<string, FolderShape> = {
  // The embedded model's planned size (DESIGN.md): 16k vocabulary, 512 hidden, 8 layers,
  // 8 query / 4 KV heads; about 40M parameters with an untied head.
  'heed-30m': {
    modelType: 'qwen2',
    vocabSize: 16384,
    hiddenSize: 512,
    intermediateSize: 1408,
    numLayers: 8,
    numHeads: 8,
    numKvHeads: 4,
    maxPositions: 32768,
    ropeTheta: 1_000_000,
    rmsNormEps: 1e-6,
    tieWordEmbeddings: false,
  },
  // Qwen2.5-Coder-0.5B's config.json, so users know what a real small model costs.
  'qwen2.5-coder-0.5b': {
    modelType: 'qwen2',
    vocabSize: 151936,
    hiddenSize: 896,
    intermediateSize: 4864,
    numLayers: 24,
    numHeads: 14,
    numKvHeads: 2,
    maxPositions: 32768,
    ropeTheta: 1_000_000,
    rmsNormEps: 1e-6,
    tieWordEmbeddings: true,
  },
};

const weightScale = 0.02;

export function parameterCount(shape: FolderShape): number {
  const { vocabSize: v, hiddenSize: h, intermediateSize: i, numLayers: n, numHeads, numKvHeads } = shape;
  const kv = (h / numHeads) * numKvHeads;
  const bias = shape.modelType === 'qwen2' ? h + 2 * kv : 0;
  const layer = h * h * 2 + h * kv * 2 + bias + 3 * h * i + 2 * h;
  return v * h * (shape.tieWordEmbeddings ? 1 : 2) + n * layer + h;
}

export function makeRandomModel(outDir: string, shapeName: string, seed = 1): FolderShape {
  const shape = benchShapes[shapeName];
  if (!shape) throw new Error(`unknown shape "${shapeName}" (known: ${Object.keys(benchShapes).join(', ')})`);
  const random = seededRandom(seed);
  const weights = randomLayerWeights(shape, random, weightScale);
  const matrix = (rows: number, cols: number): TensorF32 => {
    const data = new Float32Array(rows * cols);
    const a = weightScale * Math.sqrt(3);
    for (let i = 0; i < data.length; i++) data[i] = (random() * 2 - 1) * a;
    return { shape: [rows, cols], data };
  };
  weights.set('model.embed_tokens.weight', matrix(shape.vocabSize, shape.hiddenSize));
  if (!shape.tieWordEmbeddings) weights.set('lm_head.weight', matrix(shape.vocabSize, shape.hiddenSize));
  const millions = (parameterCount(shape) / 1e6).toFixed(1);
  const readme = `# ${shapeName} (random weights)\n\nA benchmark fixture with ${shapeName}'s shape and seeded random weights (${millions}M parameters). It completes nothing; it measures speed.\n`;
  writeByteModelFolder(outDir, shape, weights, readme, 'F16');
  return shape;
}
