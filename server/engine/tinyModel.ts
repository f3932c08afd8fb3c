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
import { TensorF32 } from './checkpoint/safetensors';
import { byteTokens, byteVocabSize, endOfTextId, randomLayerWeights, writeByteModelFolder, type FolderShape } from './checkpoint/byteModelFolder';
import { seededRandom } from './sampling';

const vocabSize = byteVocabSize;

/** Architecture numbers: 128 hidden gives one axis to each printable ASCII byte. */
const tinyShape: FolderShape = {
  modelType: 'qwen2',
  vocabSize,
  tieWordEmbeddings: false,
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
  const hidden = tinyShape.hiddenSize;
  const weights = randomLayerWeights(tinyShape, seededRandom(seed), layerWeightScale);
  const { axisOf, logProbs } = bigramWeights(corpusTexts, hidden);
  const rootHidden = Math.sqrt(hidden);
  const embed = new Float32Array(vocabSize * hidden); // [vocab, hidden]
  for (let t = 0; t < vocabSize; t++) embed[t * hidden + axisOf[t]] = rootHidden;
  const lmHead = new Float32Array(vocabSize * hidden); // [vocab, hidden]
  for (let v = 0; v < vocabSize; v++) {
    for (let axis = 0; axis < hidden; axis++) lmHead[v * hidden + axis] = logProbs[axis * vocabSize + v] / rootHidden;
  }
  weights.set('model.embed_tokens.weight', { shape: [vocabSize, hidden], data: embed });
  weights.set('lm_head.weight', { shape: [vocabSize, hidden], data: lmHead });
  return weights;
}

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

/** Writes the tiny model's folder into `outDir`. */
export async function makeTinyModel(outDir: string, corpusTexts: string[]): Promise<void> {
  writeByteModelFolder(outDir, tinyShape, modelWeights(corpusTexts), readme, 'F32');
}
