// A Hugging Face Qwen2 checkpoint folder → a GGUF file (version 3) that llama.cpp loads,
// written from the public GGUF format: header, typed metadata, tensor infos, data aligned
// to 32 bytes. Matrices are stored f16, norms and biases f32. The tokenizer travels as
// llama.cpp's "gpt2" BPE with the "qwen2" pre-tokenizer: the same vocabulary and merges,
// so llama.cpp tokenizes as Heed does (Heed's tokenizer must use Qwen2's split regex).
// Tensor layout needs no permutation: a row-major [out, in] matrix is ggml's ne = [in, out].

import { closeSync, openSync, readFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { readDecoderConfig } from '../engine/checkpoint/config';
import { floatToHalf, readCheckpointWeights, type TensorF32 } from '../engine/checkpoint/safetensors';
import type { DecoderConfig } from '../engine/types';

const alignment = 32;
const enum ValueType {
  Uint32 = 4,
  Int32 = 5,
  Float32 = 6,
  Bool = 7,
  String = 8,
  Array = 9,
}
const enum TensorType {
  F32 = 0,
  F16 = 1,
}
const tokenTypeNormal = 1;
const tokenTypeControl = 3;

type Metadata = Array<[string, ValueType, unknown, ValueType?]>;

/** Little-endian byte writer that grows as needed. */
class Bytes {
  private buffer = Buffer.alloc(1 << 20);
  length = 0;

  private room(n: number): void {
    if (this.length + n <= this.buffer.length) return;
    const grown = Buffer.alloc(Math.max(this.buffer.length * 2, this.length + n));
    this.buffer.copy(grown, 0, 0, this.length);
    this.buffer = grown;
  }
  u32(v: number): void {
    this.room(4);
    this.length = this.buffer.writeUInt32LE(v, this.length);
  }
  i32(v: number): void {
    this.room(4);
    this.length = this.buffer.writeInt32LE(v, this.length);
  }
  u64(v: number): void {
    this.room(8);
    this.length = this.buffer.writeBigUInt64LE(BigInt(v), this.length);
  }
  f32(v: number): void {
    this.room(4);
    this.length = this.buffer.writeFloatLE(v, this.length);
  }
  u8(v: number): void {
    this.room(1);
    this.length = this.buffer.writeUInt8(v, this.length);
  }
  string(s: string): void {
    const bytes = Buffer.from(s, 'utf8');
    this.u64(bytes.length);
    this.room(bytes.length);
    bytes.copy(this.buffer, this.length);
    this.length += bytes.length;
  }
  pad(): void {
    while (this.length % alignment !== 0) this.u8(0);
  }
  view(): Buffer {
    return this.buffer.subarray(0, this.length);
  }
}

function writeValue(out: Bytes, type: ValueType, value: unknown, elementType?: ValueType): void {
  switch (type) {
    case ValueType.Uint32:
      return out.u32(value as number);
    case ValueType.Int32:
      return out.i32(value as number);
    case ValueType.Float32:
      return out.f32(value as number);
    case ValueType.Bool:
      return out.u8(value ? 1 : 0);
    case ValueType.String:
      return out.string(value as string);
    case ValueType.Array: {
      const items = value as unknown[];
      out.u32(elementType!);
      out.u64(items.length);
      for (const item of items) writeValue(out, elementType!, item);
      return;
    }
  }
}

interface TokenizerJson {
  model?: { type?: string; vocab?: Record<string, number>; merges?: Array<string | [string, string]> };
  added_tokens?: Array<{ id: number; content: string; special?: boolean }>;
  pre_tokenizer?: unknown;
}

/** llama.cpp's tokenizer metadata from tokenizer.json (byte-level BPE only). */
function tokenizerMetadata(dir: string, config: DecoderConfig): Metadata {
  const json = JSON.parse(readFileSync(join(dir, 'tokenizer.json'), 'utf8')) as TokenizerJson;
  if (json.model?.type !== 'BPE' || !json.model.vocab || !json.model.merges) throw new Error('tokenizer.json: only byte-level BPE tokenizers convert (model.type "BPE" with vocab and merges)');
  if (!JSON.stringify(json.pre_tokenizer ?? {}).includes('ByteLevel')) throw new Error('tokenizer.json: the pre-tokenizer is not byte-level');
  const tokens: string[] = Array.from({ length: config.vocabSize }, (_, i) => `[PAD${i}]`);
  const types: number[] = new Array<number>(config.vocabSize).fill(tokenTypeNormal);
  for (const [token, id] of Object.entries(json.model.vocab)) if (id < config.vocabSize) tokens[id] = token;
  let eos: number | undefined;
  for (const added of json.added_tokens ?? []) {
    if (added.id >= config.vocabSize) continue;
    tokens[added.id] = added.content;
    if (added.special) types[added.id] = tokenTypeControl;
    if (added.content === '<|endoftext|>') eos = added.id;
  }
  const merges = json.model.merges.map((m) => (Array.isArray(m) ? m.join(' ') : m));
  const metadata: Metadata = [
    ['tokenizer.ggml.model', ValueType.String, 'gpt2'],
    ['tokenizer.ggml.pre', ValueType.String, 'qwen2'],
    ['tokenizer.ggml.tokens', ValueType.Array, tokens, ValueType.String],
    ['tokenizer.ggml.token_type', ValueType.Array, types, ValueType.Int32],
    ['tokenizer.ggml.merges', ValueType.Array, merges, ValueType.String],
    ['tokenizer.ggml.add_bos_token', ValueType.Bool, false],
  ];
  if (eos !== undefined) metadata.push(['tokenizer.ggml.eos_token_id', ValueType.Uint32, eos], ['tokenizer.ggml.bos_token_id', ValueType.Uint32, eos], ['tokenizer.ggml.padding_token_id', ValueType.Uint32, eos]);
  return metadata;
}

/** HF tensor name → llama.cpp's, for Qwen2. */
function ggufName(name: string): string {
  const fixed: Record<string, string> = { 'model.embed_tokens.weight': 'token_embd.weight', 'model.norm.weight': 'output_norm.weight', 'lm_head.weight': 'output.weight' };
  if (fixed[name]) return fixed[name];
  const m = /^model\.layers\.(\d+)\.(.+)$/.exec(name);
  const parts: Record<string, string> = {
    'input_layernorm.weight': 'attn_norm.weight',
    'post_attention_layernorm.weight': 'ffn_norm.weight',
    'self_attn.q_proj.weight': 'attn_q.weight',
    'self_attn.q_proj.bias': 'attn_q.bias',
    'self_attn.k_proj.weight': 'attn_k.weight',
    'self_attn.k_proj.bias': 'attn_k.bias',
    'self_attn.v_proj.weight': 'attn_v.weight',
    'self_attn.v_proj.bias': 'attn_v.bias',
    'self_attn.o_proj.weight': 'attn_output.weight',
    'mlp.gate_proj.weight': 'ffn_gate.weight',
    'mlp.up_proj.weight': 'ffn_up.weight',
    'mlp.down_proj.weight': 'ffn_down.weight',
  };
  if (!m || !parts[m[2]]) throw new Error(`no GGUF name for tensor ${name}`);
  return `blk.${m[1]}.${parts[m[2]]}`;
}

function tensorBytes(tensor: TensorF32, type: TensorType): Buffer {
  if (type === TensorType.F32) return Buffer.from(tensor.data.buffer, tensor.data.byteOffset, tensor.data.byteLength);
  const half = Buffer.alloc(tensor.data.length * 2);
  for (let i = 0; i < tensor.data.length; i++) half.writeUInt16LE(floatToHalf(tensor.data[i]), i * 2);
  return half;
}

/** Writes `outFile`; returns the number of tensors. Qwen2 checkpoints only, for now. */
export function convertToGguf(dir: string, outFile: string, name: string): number {
  const config = readDecoderConfig(dir);
  if (config.modelType !== 'qwen2') throw new Error(`only qwen2 checkpoints convert to GGUF so far, not ${config.modelType}`);
  if (config.ropeScaling) throw new Error('rope_scaling does not convert to GGUF yet');
  const weights = readCheckpointWeights(dir);
  const metadata: Metadata = [
    ['general.architecture', ValueType.String, 'qwen2'],
    ['general.name', ValueType.String, name],
    ['general.alignment', ValueType.Uint32, alignment],
    ['general.file_type', ValueType.Uint32, 1], // mostly f16
    ['qwen2.context_length', ValueType.Uint32, config.maxPositions],
    ['qwen2.embedding_length', ValueType.Uint32, config.hiddenSize],
    ['qwen2.block_count', ValueType.Uint32, config.numLayers],
    ['qwen2.feed_forward_length', ValueType.Uint32, config.intermediateSize],
    ['qwen2.attention.head_count', ValueType.Uint32, config.numHeads],
    ['qwen2.attention.head_count_kv', ValueType.Uint32, config.numKvHeads],
    ['qwen2.rope.freq_base', ValueType.Float32, config.ropeTheta],
    ['qwen2.attention.layer_norm_rms_epsilon', ValueType.Float32, config.rmsNormEps],
    ...tokenizerMetadata(dir, config),
  ];
  const names = [...weights.keys()].filter((n) => !(config.tieWordEmbeddings && n === 'lm_head.weight')).sort();
  const tensors = names.map((n) => {
    const tensor = weights.get(n)!;
    const type = tensor.shape.length >= 2 ? TensorType.F16 : TensorType.F32;
    return { name: ggufName(n), tensor, type, bytes: tensor.data.length * (type === TensorType.F16 ? 2 : 4) };
  });

  const header = new Bytes();
  header.u32(0x46554747); // "GGUF"
  header.u32(3);
  header.u64(tensors.length);
  header.u64(metadata.length);
  for (const [key, type, value, elementType] of metadata) {
    header.string(key);
    header.u32(type);
    writeValue(header, type, value, elementType);
  }
  let offset = 0;
  for (const t of tensors) {
    header.string(t.name);
    header.u32(t.tensor.shape.length);
    for (const dim of [...t.tensor.shape].reverse()) header.u64(dim); // ggml: innermost first
    header.u32(t.type);
    header.u64(offset);
    offset += Math.ceil(t.bytes / alignment) * alignment;
  }
  header.pad();

  const fd = openSync(outFile, 'w');
  try {
    writeSync(fd, header.view());
    for (const t of tensors) {
      const data = tensorBytes(t.tensor, t.type);
      writeSync(fd, data);
      const padding = Math.ceil(data.length / alignment) * alignment - data.length;
      if (padding > 0) writeSync(fd, Buffer.alloc(padding));
    }
  } finally {
    closeSync(fd);
  }
  return tensors.length;
}
