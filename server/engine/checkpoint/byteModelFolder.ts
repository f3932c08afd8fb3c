// Writes a Hugging Face model folder with Heed's byte-level tokenizer: the shared part of
// the generated models (the tiny embedded fixture and the random-weight benchmark shapes).
// Same inputs give byte-identical files: no clocks, fixed key order.

import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { TensorF32, writeSafetensors, type WriteDtype } from './safetensors';
import { specialTokenNames } from '../tokenizer';

export const byteTokens = 256;
// No fill-in-the-middle tokens: generated models are not trained to fill in; without them
// Heed prompts with the text before the cursor alone.
export const byteSpecialNames = [specialTokenNames.endOfText, specialTokenNames.fileSep, specialTokenNames.repoName]; // ids 256… in this order
export const byteVocabSize = byteTokens + byteSpecialNames.length;
export const endOfTextId = byteTokens;

/** Architecture numbers of a generated Qwen2-family checkpoint. */
export interface FolderShape {
  modelType: 'qwen2' | 'llama';
  /** At least byteVocabSize; ids past the tokenizer's are valid for the model, never produced by text. */
  vocabSize: number;
  hiddenSize: number;
  intermediateSize: number;
  numLayers: number;
  numHeads: number;
  numKvHeads: number;
  maxPositions: number;
  ropeTheta: number;
  rmsNormEps: number;
  tieWordEmbeddings: boolean;
}

/** GPT-2's byte-to-unicode table: the printable stand-in of each byte in vocab strings. */
function bytesToUnicode(): string[] {
  const table: string[] = new Array(256);
  let extra = 0;
  for (let b = 0; b < 256; b++) {
    const printable = (b >= 33 && b <= 126) || (b >= 161 && b <= 172) || (b >= 174 && b <= 255);
    table[b] = String.fromCharCode(printable ? b : 256 + extra++);
  }
  return table;
}

function tokenizerJson(): object {
  const unicode = bytesToUnicode();
  const vocab: Record<string, number> = {};
  for (let b = 0; b < byteTokens; b++) vocab[unicode[b]] = b;
  const byteLevel = { type: 'ByteLevel', add_prefix_space: false, trim_offsets: false, use_regex: true };
  return {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: byteSpecialNames.map((content, i) => ({
      id: byteTokens + i,
      content,
      single_word: false,
      lstrip: false,
      rstrip: false,
      normalized: false,
      special: true,
    })),
    normalizer: null,
    pre_tokenizer: byteLevel,
    post_processor: byteLevel,
    decoder: byteLevel,
    model: {
      type: 'BPE',
      dropout: null,
      unk_token: null,
      continuing_subword_prefix: null,
      end_of_word_suffix: null,
      fuse_unk: false,
      byte_fallback: false,
      ignore_merges: false,
      vocab,
      merges: [],
    },
  };
}

/**
 * Seeded uniform weights of std `scale` for every layer tensor (attention with Qwen2's
 * biases when modelType is qwen2, SwiGLU MLP) and ones for the norms.
 */
export function randomLayerWeights(shape: FolderShape, random: () => number, scale: number): Map<string, TensorF32> {
  const { hiddenSize: hidden, intermediateSize: inter, numLayers, numHeads, numKvHeads } = shape;
  const headDim = hidden / numHeads;
  const uniformScale = scale * Math.sqrt(3); // uniform [-a, a] has std a/sqrt(3)
  const randomTensor = (dims: number[]): TensorF32 => {
    const data = new Float32Array(dims.reduce((a, b) => a * b, 1));
    for (let i = 0; i < data.length; i++) data[i] = (random() * 2 - 1) * uniformScale;
    return { shape: dims, data };
  };
  const ones = (n: number): TensorF32 => ({ shape: [n], data: new Float32Array(n).fill(1) });
  const weights = new Map<string, TensorF32>();
  for (let l = 0; l < numLayers; l++) {
    const p = `model.layers.${l}`;
    weights.set(`${p}.input_layernorm.weight`, ones(hidden));
    weights.set(`${p}.self_attn.q_proj.weight`, randomTensor([numHeads * headDim, hidden]));
    weights.set(`${p}.self_attn.k_proj.weight`, randomTensor([numKvHeads * headDim, hidden]));
    weights.set(`${p}.self_attn.v_proj.weight`, randomTensor([numKvHeads * headDim, hidden]));
    if (shape.modelType === 'qwen2') {
      weights.set(`${p}.self_attn.q_proj.bias`, randomTensor([numHeads * headDim]));
      weights.set(`${p}.self_attn.k_proj.bias`, randomTensor([numKvHeads * headDim]));
      weights.set(`${p}.self_attn.v_proj.bias`, randomTensor([numKvHeads * headDim]));
    }
    weights.set(`${p}.self_attn.o_proj.weight`, randomTensor([hidden, numHeads * headDim]));
    weights.set(`${p}.post_attention_layernorm.weight`, ones(hidden));
    weights.set(`${p}.mlp.gate_proj.weight`, randomTensor([inter, hidden]));
    weights.set(`${p}.mlp.up_proj.weight`, randomTensor([inter, hidden]));
    weights.set(`${p}.mlp.down_proj.weight`, randomTensor([hidden, inter]));
  }
  weights.set('model.norm.weight', ones(hidden));
  return weights;
}

const json = (value: unknown): string => `${JSON.stringify(value, null, 2)}\n`;

/** Writes config.json, model.safetensors, the tokenizer files and README.md into `outDir`. */
export function writeByteModelFolder(outDir: string, shape: FolderShape, weights: Map<string, TensorF32>, readme: string, dtype: WriteDtype = 'F32'): void {
  if (shape.vocabSize < byteVocabSize) throw new Error(`vocabSize ${shape.vocabSize} is below the byte tokenizer's ${byteVocabSize}`);
  mkdirSync(outDir, { recursive: true });
  writeFileSync(
    join(outDir, 'config.json'),
    json({
      architectures: [shape.modelType === 'qwen2' ? 'Qwen2ForCausalLM' : 'LlamaForCausalLM'],
      model_type: shape.modelType,
      vocab_size: shape.vocabSize,
      hidden_size: shape.hiddenSize,
      intermediate_size: shape.intermediateSize,
      num_hidden_layers: shape.numLayers,
      num_attention_heads: shape.numHeads,
      num_key_value_heads: shape.numKvHeads,
      max_position_embeddings: shape.maxPositions,
      rope_theta: shape.ropeTheta,
      rms_norm_eps: shape.rmsNormEps,
      hidden_act: 'silu',
      tie_word_embeddings: shape.tieWordEmbeddings,
      use_sliding_window: false,
      bos_token_id: endOfTextId,
      eos_token_id: endOfTextId,
      torch_dtype: dtype === 'F16' ? 'float16' : 'float32',
    }),
  );
  writeSafetensors(join(outDir, 'model.safetensors'), weights, dtype);
  writeFileSync(join(outDir, 'tokenizer.json'), json(tokenizerJson()));
  writeFileSync(
    join(outDir, 'tokenizer_config.json'),
    json({
      tokenizer_class: 'Qwen2Tokenizer',
      add_bos_token: false,
      add_eos_token: false,
      add_prefix_space: false,
      bos_token: null,
      eos_token: specialTokenNames.endOfText,
      pad_token: specialTokenNames.endOfText,
      unk_token: null,
      additional_special_tokens: byteSpecialNames.slice(1),
      clean_up_tokenization_spaces: false,
      split_special_tokens: false,
      model_max_length: shape.maxPositions,
    }),
  );
  writeFileSync(join(outDir, 'generation_config.json'), json({ bos_token_id: endOfTextId, eos_token_id: [endOfTextId], do_sample: false }));
  writeFileSync(join(outDir, 'README.md'), readme);
}
