// Writes "heed-tiny": a deterministic Qwen2-architecture checkpoint that the product uses
// until a trained model exists, and that tests use as a real folder on disk.
//
// It is a byte-level model (256 byte tokens, no merges, Qwen2.5-Coder's special tokens)
// whose weights carry a byte bigram distribution counted from `corpusTexts`:
//   - The `hiddenSize - 1` most frequent bytes each own one axis of the hidden state; all
//     other tokens share the last axis ("other"). Token t embeds as sqrt(hidden) times its
//     axis, so every embedding has RMS 1 and the RMSNorms only scale.
//   - lm_head row v, column of t's axis = log P(v | t) / sqrt(hidden), so the logits of
//     the final hidden state are the bigram log-probabilities.
//   - The layers get small seeded random weights: they perturb the logits with the context,
//     as a real model's would, without drowning the bigram.
// Same inputs give byte-identical files: a seeded PRNG, no clocks, sorted JSON keys where
// order could vary, and only IEEE arithmetic plus Math.log (the same fdlibm port everywhere).
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { TensorF32, writeSafetensors } from './checkpoint/safetensors';
import { specialTokenNames } from './tokenizer';
import { seededRandom } from './sampling';

const byteTokens = 256;
// No fill-in-the-middle tokens: a bigram model sees only the token before the cursor, and
// after <|fim_middle|> that would always be the same token. Without them Heed prompts the
// model with the text before the cursor, so its suggestion follows what was typed.
const specialNames = [specialTokenNames.endOfText, specialTokenNames.fileSep, specialTokenNames.repoName]; // ids 256… in this order
const vocabSize = byteTokens + specialNames.length;
const endOfTextId = byteTokens; // '<|endoftext|>' comes first in specialTokenNames

/** Architecture numbers: 128 hidden gives one axis to each printable ASCII byte. */
const tinyShape = {
  hiddenSize: 128,
  intermediateSize: 256,
  numLayers: 2,
  numHeads: 4,
  numKvHeads: 2,
  maxPositions: 8192,
  ropeTheta: 10000,
  rmsNormEps: 1e-6,
};
const layerWeightScale = 0.02; // std of the random layer weights: a perturbation, not a signal
const smoothing = 0.01; // add-k smoothing of the bigram counts
// Greedy decoding of a plain bigram falls into its strongest self-loop (runs of indentation
// spaces forever); counting repeats of the same byte at this weight keeps greedy text moving.
const repeatWeight = 0.2;
const seed = 0x4eed;

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
    added_tokens: specialNames.map((content, i) => ({
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

/** Bigram log-probabilities per "axis class" of the previous token. */
function bigramWeights(corpusTexts: string[], hidden: number): { axisOf: Int32Array; logProbs: Float64Array } {
  const encoder = new TextEncoder();
  const unigram = new Float64Array(vocabSize);
  const pairs = new Float64Array(vocabSize * vocabSize); // [prev, next]
  for (const text of corpusTexts) {
    const bytes = encoder.encode(text);
    for (let i = 0; i < bytes.length; i++) {
      unigram[bytes[i]]++;
      if (i > 0) pairs[bytes[i - 1] * vocabSize + bytes[i]] += bytes[i - 1] === bytes[i] ? repeatWeight : 1;
    }
    // Each text ends with <|endoftext|>, so the model learns where files stop.
    if (bytes.length > 0) pairs[bytes[bytes.length - 1] * vocabSize + endOfTextId]++;
  }
  // The most frequent bytes (ties broken by id) get their own axes; the rest share the last.
  const order = Array.from({ length: byteTokens }, (_, b) => b).sort((a, b) => unigram[b] - unigram[a] || a - b);
  const axisOf = new Int32Array(vocabSize).fill(hidden - 1);
  order.slice(0, hidden - 1).forEach((b, axis) => {
    if (unigram[b] > 0) axisOf[b] = axis;
  });
  const counts = new Float64Array(hidden * vocabSize); // [axis, next]
  for (let prev = 0; prev < vocabSize; prev++) {
    for (let next = 0; next < vocabSize; next++) counts[axisOf[prev] * vocabSize + next] += pairs[prev * vocabSize + next];
  }
  const logProbs = new Float64Array(hidden * vocabSize); // [axis, next]
  for (let axis = 0; axis < hidden; axis++) {
    let total = 0;
    for (let next = 0; next < vocabSize; next++) total += counts[axis * vocabSize + next] + smoothing;
    for (let next = 0; next < vocabSize; next++) {
      // Special tokens other than end-of-text never follow text in the corpus: keep them unlikely.
      const count = next > endOfTextId ? 0 : counts[axis * vocabSize + next];
      logProbs[axis * vocabSize + next] = Math.log((count + smoothing) / total);
    }
  }
  return { axisOf, logProbs };
}

function modelWeights(corpusTexts: string[]): Map<string, TensorF32> {
  const { hiddenSize: hidden, intermediateSize: inter, numLayers, numHeads, numKvHeads } = tinyShape;
  const headDim = hidden / numHeads;
  const random = seededRandom(seed);
  const uniformScale = layerWeightScale * Math.sqrt(3); // uniform [-a, a] has std a/sqrt(3)
  const randomTensor = (shape: number[]): TensorF32 => {
    const data = new Float32Array(shape.reduce((a, b) => a * b, 1));
    for (let i = 0; i < data.length; i++) data[i] = (random() * 2 - 1) * uniformScale;
    return { shape, data };
  };
  const ones = (n: number): TensorF32 => ({ shape: [n], data: new Float32Array(n).fill(1) });

  const { axisOf, logProbs } = bigramWeights(corpusTexts, hidden);
  const rootHidden = Math.sqrt(hidden);
  const embed = new Float32Array(vocabSize * hidden); // [vocab, hidden]
  for (let t = 0; t < vocabSize; t++) embed[t * hidden + axisOf[t]] = rootHidden;
  const lmHead = new Float32Array(vocabSize * hidden); // [vocab, hidden]
  for (let v = 0; v < vocabSize; v++) {
    for (let axis = 0; axis < hidden; axis++) lmHead[v * hidden + axis] = logProbs[axis * vocabSize + v] / rootHidden;
  }

  const weights = new Map<string, TensorF32>();
  weights.set('model.embed_tokens.weight', { shape: [vocabSize, hidden], data: embed });
  for (let l = 0; l < numLayers; l++) {
    const p = `model.layers.${l}`;
    weights.set(`${p}.input_layernorm.weight`, ones(hidden));
    weights.set(`${p}.self_attn.q_proj.weight`, randomTensor([numHeads * headDim, hidden]));
    weights.set(`${p}.self_attn.q_proj.bias`, randomTensor([numHeads * headDim]));
    weights.set(`${p}.self_attn.k_proj.weight`, randomTensor([numKvHeads * headDim, hidden]));
    weights.set(`${p}.self_attn.k_proj.bias`, randomTensor([numKvHeads * headDim]));
    weights.set(`${p}.self_attn.v_proj.weight`, randomTensor([numKvHeads * headDim, hidden]));
    weights.set(`${p}.self_attn.v_proj.bias`, randomTensor([numKvHeads * headDim]));
    weights.set(`${p}.self_attn.o_proj.weight`, randomTensor([hidden, numHeads * headDim]));
    weights.set(`${p}.post_attention_layernorm.weight`, ones(hidden));
    weights.set(`${p}.mlp.gate_proj.weight`, randomTensor([inter, hidden]));
    weights.set(`${p}.mlp.up_proj.weight`, randomTensor([inter, hidden]));
    weights.set(`${p}.mlp.down_proj.weight`, randomTensor([hidden, inter]));
  }
  weights.set('model.norm.weight', ones(hidden));
  weights.set('lm_head.weight', { shape: [vocabSize, hidden], data: lmHead });
  return weights;
}

const json = (value: unknown): string => `${JSON.stringify(value, null, 2)}\n`;

const readme = `# heed-tiny

A **test fixture, not a trained model.** It has the Qwen2 architecture (2 layers, hidden
${tinyShape.hiddenSize}, 4 query heads, 2 KV heads) and a byte-level tokenizer with
Qwen2.5-Coder's end-of-text, file-separator and repo-name tokens (no fill-in-the-middle
tokens, so Heed prompts it with the text before the cursor alone), and its weights were *constructed*, not trained: the
embeddings and lm_head encode a byte bigram distribution counted from a small corpus of
source files (repeats of the same byte counted at a fifth of their weight, so that greedy
decoding does not sit in runs of spaces), and the layers hold small seeded random weights.
Greedy decoding produces code-like characters, often in short loops; it does not
understand code.

Heed writes it deterministically with \`heed make-tiny-model --out DIR\` (same corpus,
same bytes) so that the extension works on first start and tests have a real checkpoint
folder. Replace it with a trained model or point \`heed.model.path\` at a Hugging Face
checkpoint (Qwen2, Llama, Mistral).
`;

/** Writes config.json, model.safetensors, tokenizer files and README.md into `outDir`. */
export async function makeTinyModel(outDir: string, corpusTexts: string[]): Promise<void> {
  const { hiddenSize, intermediateSize, numLayers, numHeads, numKvHeads, maxPositions, ropeTheta, rmsNormEps } = tinyShape;
  mkdirSync(outDir, { recursive: true });
  writeFileSync(
    join(outDir, 'config.json'),
    json({
      architectures: ['Qwen2ForCausalLM'],
      model_type: 'qwen2',
      vocab_size: vocabSize,
      hidden_size: hiddenSize,
      intermediate_size: intermediateSize,
      num_hidden_layers: numLayers,
      num_attention_heads: numHeads,
      num_key_value_heads: numKvHeads,
      max_position_embeddings: maxPositions,
      rope_theta: ropeTheta,
      rms_norm_eps: rmsNormEps,
      hidden_act: 'silu',
      tie_word_embeddings: false,
      use_sliding_window: false,
      bos_token_id: endOfTextId,
      eos_token_id: endOfTextId,
      torch_dtype: 'float32',
    }),
  );
  writeSafetensors(join(outDir, 'model.safetensors'), modelWeights(corpusTexts), 'F32');
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
      additional_special_tokens: specialNames.slice(1),
      clean_up_tokenization_spaces: false,
      split_special_tokens: false,
      model_max_length: maxPositions,
    }),
  );
  writeFileSync(join(outDir, 'generation_config.json'), json({ bos_token_id: endOfTextId, eos_token_id: [endOfTextId], do_sample: false }));
  writeFileSync(join(outDir, 'README.md'), readme);
}
