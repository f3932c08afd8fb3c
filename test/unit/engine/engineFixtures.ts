// Shared fixtures for the engine tests: temp folders, a small code corpus, random
// checkpoints, and a plain-JS reference forward pass of the Qwen2/Llama decoder.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after } from 'node:test';
import { TensorF32, writeSafetensors } from '../../../server/engine/checkpoint/safetensors';
import { expectedWeightShapes } from '../../../server/engine/graph/decoderGraph';
import { makeTinyModel } from '../../../server/engine/tinyModel';
import { DecoderConfig } from '../../../server/engine/types';
import { seededRandom } from '../../../server/engine/sampling';
import { chooseRetrievalHeads, rankHeads, type HeadPattern } from '../../../server/engine/headPattern';

/**
 * Real code to prompt the shipped model with: a frozen copy of an engine source file, so
 * that editing the engine does not change what the tests compute.
 */
export const codePromptFile = resolve(__dirname, '../../../../test/fixtures/code-prompt.txt');

/** A two-layer GQA model (4 query heads over 2 KV heads) for random-weight tests over the tiny byte tokenizer. */
export const smallRandomConfig: DecoderConfig = {
  modelType: 'qwen2',
  vocabSize: 259,
  hiddenSize: 32,
  intermediateSize: 48,
  numLayers: 2,
  numHeads: 4,
  numKvHeads: 2,
  headDim: 8,
  ropeTheta: 10000,
  rmsNormEps: 1e-6,
  maxPositions: 256,
  tieWordEmbeddings: false,
  attentionBias: true,
};

/** A fresh folder under the OS temp dir, removed when the test file ends. */
export function tempDir(prefix = 'heed-engine-'): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

export const codeCorpus = [
  `export function add(a: number, b: number): number {\n  return a + b;\n}\n\nexport function greet(name: string): string {\n  return \`Hello, \${name}!\`;\n}\n`,
  `import { readFileSync } from 'node:fs';\n\nconst config = JSON.parse(readFileSync('config.json', 'utf8'));\nfor (const key of Object.keys(config)) {\n  console.log(key, config[key]);\n}\n`,
  `def fibonacci(n):\n    if n < 2:\n        return n\n    return fibonacci(n - 1) + fibonacci(n - 2)\n\n\nif __name__ == "__main__":\n    print(fibonacci(10))\n`,
  `class Stack<T> {\n  private items: T[] = [];\n  push(item: T): void {\n    this.items.push(item);\n  }\n  pop(): T | undefined {\n    return this.items.pop();\n  }\n}\n`,
];

/** A tiny-model folder (tokenizer and all) written into a temp dir. */
export async function tinyModelDir(): Promise<string> {
  const dir = tempDir('heed-tiny-');
  await makeTinyModel(dir, codeCorpus);
  return dir;
}

/** Random weights of every expected shape; norms near 1 so that activations stay tame. */
export function randomWeights(config: DecoderConfig, seed: number, scale = 0.2): Map<string, TensorF32> {
  const random = seededRandom(seed);
  const weights = new Map<string, TensorF32>();
  for (const [name, shape] of expectedWeightShapes(config)) {
    const data = new Float32Array(shape.reduce((a, b) => a * b, 1));
    const isNorm = name.endsWith('norm.weight');
    for (let i = 0; i < data.length; i++) data[i] = isNorm ? 1 + (random() - 0.5) * 0.2 : (random() * 2 - 1) * scale;
    weights.set(name, { shape, data });
  }
  return weights;
}

/** Writes config.json and model.safetensors for `config` over an existing tokenizer folder. */
export function writeCheckpoint(dir: string, config: DecoderConfig, weights: Map<string, TensorF32>): void {
  writeFileSync(
    join(dir, 'config.json'),
    JSON.stringify({
      model_type: config.modelType,
      vocab_size: config.vocabSize,
      hidden_size: config.hiddenSize,
      intermediate_size: config.intermediateSize,
      num_hidden_layers: config.numLayers,
      num_attention_heads: config.numHeads,
      num_key_value_heads: config.numKvHeads,
      max_position_embeddings: config.maxPositions,
      rope_theta: config.ropeTheta,
      rms_norm_eps: config.rmsNormEps,
      tie_word_embeddings: config.tieWordEmbeddings,
    }),
  );
  writeSafetensors(join(dir, 'model.safetensors'), weights, 'F32');
}

/** Plain-JS float64 forward pass over a whole sequence; returns the last position's logits. */
/** Attention probabilities of one query head at one position, over positions [0, pos]. */
export type AttentionObserver = (layer: number, head: number, pos: number, probs: number[]) => void;

export function referenceLogits(c: DecoderConfig, w: Map<string, TensorF32>, ids: number[], onAttention?: AttentionObserver): Float64Array {
  const get = (name: string): Float32Array => w.get(name)!.data;
  const H = c.hiddenSize;
  const D = c.headDim;
  // y[out] = sum_in W[out, in] x[in] (+ b[out]): Hugging Face's Linear layout.
  const linear = (x: Float64Array, weight: Float32Array, outDim: number, bias?: Float32Array): Float64Array => {
    const inDim = x.length;
    const y = new Float64Array(outDim);
    for (let o = 0; o < outDim; o++) {
      let sum = bias ? bias[o] : 0;
      for (let i = 0; i < inDim; i++) sum += weight[o * inDim + i] * x[i];
      y[o] = sum;
    }
    return y;
  };
  const rmsNorm = (x: Float64Array, weight: Float32Array): Float64Array => {
    let ms = 0;
    for (const v of x) ms += v * v;
    const inv = 1 / Math.sqrt(ms / x.length + c.rmsNormEps);
    return x.map((v, i) => v * inv * weight[i]);
  };
  const rope = (vec: Float64Array, heads: number, pos: number): void => {
    for (let h = 0; h < heads; h++) {
      for (let i = 0; i < D / 2; i++) {
        const angle = pos / Math.pow(c.ropeTheta, (2 * i) / D);
        const a = vec[h * D + i];
        const b = vec[h * D + i + D / 2];
        vec[h * D + i] = a * Math.cos(angle) - b * Math.sin(angle);
        vec[h * D + i + D / 2] = b * Math.cos(angle) + a * Math.sin(angle);
      }
    }
  };
  const keys: Float64Array[][] = Array.from({ length: c.numLayers }, () => []); // [layer][pos] -> [numKvHeads*D]
  const values: Float64Array[][] = Array.from({ length: c.numLayers }, () => []);
  let x = new Float64Array(H);
  const embed = get('model.embed_tokens.weight');
  for (let pos = 0; pos < ids.length; pos++) {
    x = Float64Array.from(embed.subarray(ids[pos] * H, (ids[pos] + 1) * H));
    for (let l = 0; l < c.numLayers; l++) {
      const p = `model.layers.${l}`;
      const h = rmsNorm(x, get(`${p}.input_layernorm.weight`));
      const bias = (n: string) => (c.attentionBias ? get(`${p}.self_attn.${n}.bias`) : undefined);
      const q = linear(h, get(`${p}.self_attn.q_proj.weight`), c.numHeads * D, bias('q_proj'));
      const k = linear(h, get(`${p}.self_attn.k_proj.weight`), c.numKvHeads * D, bias('k_proj'));
      const v = linear(h, get(`${p}.self_attn.v_proj.weight`), c.numKvHeads * D, bias('v_proj'));
      rope(q, c.numHeads, pos);
      rope(k, c.numKvHeads, pos);
      keys[l].push(k);
      values[l].push(v);
      const attn = new Float64Array(c.numHeads * D);
      const group = c.numHeads / c.numKvHeads;
      for (let head = 0; head < c.numHeads; head++) {
        const kv = Math.floor(head / group);
        const scores = keys[l].map((key) => {
          let s = 0;
          for (let d = 0; d < D; d++) s += q[head * D + d] * key[kv * D + d];
          return s / Math.sqrt(D);
        });
        const max = Math.max(...scores);
        const exps = scores.map((s) => Math.exp(s - max));
        const total = exps.reduce((a, b) => a + b, 0);
        onAttention?.(l, head, pos, exps.map((e) => e / total));
        for (let t = 0; t <= pos; t++) {
          for (let d = 0; d < D; d++) attn[head * D + d] += (exps[t] / total) * values[l][t][kv * D + d];
        }
      }
      const o = linear(attn, get(`${p}.self_attn.o_proj.weight`), H);
      x = x.map((val, i) => val + o[i]);
      const h2 = rmsNorm(x, get(`${p}.post_attention_layernorm.weight`));
      const gate = linear(h2, get(`${p}.mlp.gate_proj.weight`), c.intermediateSize);
      const up = linear(h2, get(`${p}.mlp.up_proj.weight`), c.intermediateSize);
      const act = gate.map((g, i) => (g / (1 + Math.exp(-g))) * up[i]);
      const down = linear(act, get(`${p}.mlp.down_proj.weight`), H);
      x = x.map((val, i) => val + down[i]);
    }
  }
  const normed = rmsNorm(x, get('model.norm.weight'));
  return linear(normed, get(c.tieWordEmbeddings ? 'model.embed_tokens.weight' : 'lm_head.weight'), c.vocabSize);
}

export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new Error(`lengths differ: ${a.length} vs ${b.length}`);
  let max = 0;
  for (let i = 0; i < a.length; i++) max = Math.max(max, Math.abs(a[i] - b[i]));
  return max;
}

/** A head pattern for heed-code-30m (8 layers, 4 KV heads) in `dir`, keeping a quarter of the heads: any fixed choice serves the cache's tests. */
export function writePattern(dir: string, sha256: string, sinks: number, window: number): string {
  // Scores that favour (layer + head) odd heads: any fixed choice works for these checks.
  const heads = rankHeads(
    Array.from({ length: 32 }, (_, i) => ({ layer: Math.floor(i / 4), kvHead: i % 4, retrievalScore: ((Math.floor(i / 4) + i) % 2) * ((i % 7) + 1) / 8, windowError: (i % 5) / 5 })),
  );
  const pattern: HeadPattern = {
    format: 'heed-head-pattern',
    version: 1,
    model: { name: 'heed-code-30m', sha256, numLayers: 8, numHeads: 8, numKvHeads: 4 },
    sinks,
    window,
    method: { test: true },
    heads,
    retrievalRatio: 0.25,
    retrieval: chooseRetrievalHeads(heads, 8, 0.25),
  };
  const file = join(dir, 'head-pattern.json');
  writeFileSync(file, JSON.stringify(pattern));
  return file;
}
