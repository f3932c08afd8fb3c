// Builds the ONNX graph of a Qwen2/Llama/Mistral decoder for one forward pass over a chunk
// of `seqLen` new tokens after `pastLen` cached ones (batch 1).
//
// Graph interface (Hugging Face names appear only in the weights, not here):
//   input_ids                 int64 [seqLen]
//   rope_cos, rope_sin        float [seqLen, headDim/2]   from absolute positions, in JS
//   new_mask                  float [seqLen, seqLen]      additive, 0 or -1e9: causal among the
//                             pass's own tokens
//   past_mask                 float [1, capacity]         additive: 0 for the past positions
//                             held, -1e9 for the unfilled tail; one row, which every query
//                             row shares (graphs whose every past is int8 take none)
//   past_key.{l}              float [numKvHeads, capacity, headDim]   the layer's whole cache buffer
//   past_value.{l}            float [numKvHeads, capacity, headDim]
//   logits                    float [1, vocabSize]        last position only
//   new_key.{l}, new_value.{l} float [numKvHeads, seqLen, headDim]   keys after RoPE
//   query.{l}                 float [numHeads, seqLen, headDim]   queries after RoPE; fetched
//                             only on request (calibration and evidence compute attention
//                             from them and the JS-owned keys)
//
// The past is fed as the JS cache's own buffer, [numKvHeads, capacity, headDim], without a
// copy: only positions [0, pastLen) are filled, and past_mask hides [pastLen, capacity). The
// price is attention over the unfilled tail (kvCache.ts keeps it under an eighth of the
// capacity); the gain is one batched product per layer instead of one per KV head, which
// is what a decode step at short context pays for (hundreds of small nodes otherwise). The
// cache is never a graph output, since onnxruntime-node copies every output after each run
// (FACTS.md).
//
// Per layer, q, k and v are one product with the three weights stacked, then a split (gate
// and up likewise), and RoPE is com.microsoft RotaryEmbedding over the pass's own cos/sin
// rows: fewer and larger nodes, which is what a decode step's fixed cost is made of
// (measured against separate products and a seven-node rotate-half: prefill at 2k and
// decode at 1k about 8 % faster; decode at 16k the same within this machine's noise).
//
// Head-aware graphs (a HeadLayout, graph/headLayout.ts; weights permuted to match) split
// each layer's KV heads in two: the first retrievalCount[l] keep every token and read
// past_key.{l} [retrievalCount, capacity, headDim]; the others keep sinks + a window and
// read window_key.{l} / window_value.{l} [numKvHeads - retrievalCount, windowSlots, headDim],
// masked by window_mask [1, windowSlots] (every new token of a pass sees the same window
// slots, then the pass's own tokens causally). new_key.{l} holds all heads in the layout's
// order; JS routes the rows.
//
// int8 KV (`int8Block` B, kvCacheInt8.ts): the full heads' past comes as 8-bit rows with a
// scale per position, attended to with integer products (graph/attention.ts int8Part):
//   past_key_q.{l}            uint8 [fullHeads, capacity, headDim]   q + 128
//   past_key_scale.{l}        float [fullHeads, 1, capacity]
//   past_value_q.{l}          int8  [fullHeads, capacity, headDim]
//   past_value_scale.{l}      float [fullHeads, 1, capacity]
//   int8_mask                 float [1, 1, capacity]   0 for the int8 positions held
//   recent_key.{l}, recent_value.{l}  float [fullHeads, B, headDim]   the exact rows of the
//                             block still filling, masked by recent_mask [1, B]
//
// Head-aware graphs (fp32 or int8 KV) also give evidence (evidence.ts) the full heads'
// attention mass on the past, the probabilities squared and summed over the pass's counted
// rows, without a second product over the past (under int8 KV the exact recent rows' mass
// goes into their positions' slots, after the quantized ones: per layer when asked per
// head, every layer's at once in the sum):
//   mass_rows                 float [group * seqLen, 1] or [0, 1]   each query row's weight in the
//                             mass (rows as the full heads' queries are laid out, [group,
//                             seqLen]: 1 for the tokens counted, 0 for the others); empty:
//                             nothing computed
//   mass_by_head              int64 [1]   1: the layers' mass per full head, as below; 0: summed
//                             over the layer's full heads, [1, 1, ·] where [retrievalCount[l], 1, ·] is
//   mass.{l}                  float [retrievalCount[l], 1, slots]   this pass's mass on the past's
//                             slots: slots is the past's capacity, or 0 with mass_rows empty
//                             (under int8 KV also 0 unless asked per head)
//   own_mass.{l}              float [retrievalCount[l], 1, seqLen or 0]   on the pass's own tokens
//                             (positions past_length…), which the past's slots leave out; only
//                             with mass_by_head 1 (summed, the own tokens are never read)
//   mass_sum_in               float [1, 1, slots]   with mass_by_head 0, a running sum over every
//                             layer's full heads; else [1, 1, 0]
//   mass_sum                  float [1, 1, slots]   with mass_by_head 0, the sum plus this pass's
//                             mass.{l} of every layer; else [1, 1, 0]
// Decode steps take the sum (one input and one output a step, however many layers have full
// heads; their own tokens are generated ones, never evidence); a short last prefill pass
// takes the layers' per head (graph/massOutputs.ts).
// Only a masked pass (a decode step, a short last prefill pass) computes it; a flash pass
// must ask for none. onnxruntime runs every node whatever is fetched, so the rows' weights,
// not the fetch, are what switch the work off.
//
// Attention is one softmax over parts (graph/attention.ts): the past, the pass's own keys,
// and the window or the recent rows, never concatenated.
//
// The full heads' past also has a flash path (FlashPastThresholds): an If per layer runs
// com.microsoft MultiHeadAttention over the filled past for passes long enough to gain
// (prefill chunks), the masked scores otherwise (decode steps); an int8 past is
// dequantized for it. It needs
//   past_length               int64 [1]   the filled positions of past_key.{l}, or of the
//                             int8 past's quantized blocks
import { DecoderConfig } from '../types';
import { GraphBuilder, type ExternalDataSink } from '../onnx/graphBuilder';
import { DataType } from '../onnx/onnxProto';
import { TensorF32 } from '../checkpoint/safetensors';
import { nbitsBlockSize, quantizeBlocks } from './quantize';
import type { HeadLayout } from './headLayout';
import type { WeightFormat } from '../weightFormat';
import { attention, attentionAndMass, attentionWithFlashPast, dequantizedInt8Past, int8Part, noMass, oneHeadPast, plainPart, type AttentionPart, type OneHeadPast, type QueryLayout } from './attention';
import { massGraphNames, massOutputs } from './massOutputs';

/**
 * The weight formats (weightFormat.ts) in the graph: embeddings (the lookup), norms and
 * biases stay fp32 in every one. int8 weights always compute in int8 (accuracy_level 4):
 * onnxruntime's fp32 path for 8-bit blocks is a slow fallback (1.1 ms for a [1, 512] ×
 * [512, 3072] product against 24 µs).
 */
export type { WeightFormat };

/**
 * What int4 products compute in: `int8` quantizes each input row to int8 per block of 32 and
 * multiplies with integer dot products (MatMulNBits accuracy_level 4); `fp32` dequantizes the
 * weights and multiplies in floats (accuracy_level 1). int8 is the default: a decode step of
 * the embedded model at 565 tokens took 1.36 ms against 1.76, while its next-token choices
 * agreed with fp32 compute on 98.8-99 % of 400 positions of code and its log-loss rose by
 * 0.002-0.003 nats, a twentieth of what int4 weights themselves cost against fp32 ones.
 */
export type Int4Compute = 'int8' | 'fp32';
export const defaultInt4Compute: Int4Compute = 'int8';
const int4AccuracyLevel: Record<Int4Compute, number> = { int8: 4, fp32: 1 };

/** What KV computed by a graph depends on beyond the model and the cache: its weights and how int4 products compute (persisted KV is keyed by it). */
export function weightsIdentity(format: WeightFormat, int4Compute = defaultInt4Compute): string {
  return format === 'int4' && int4Compute === 'int8' ? 'int4/int8-compute' : format;
}

/** The bits of a quantized weight format; undefined for fp32. */
function quantizedBits(format: WeightFormat): 4 | 8 | undefined {
  return format === 'int4' ? 4 : format === 'int8' ? 8 : undefined;
}

/** Masked scores get this added; large enough that exp() underflows to 0 in fp32. */
export const maskedScore = -1e9;

const int64Max = Number.MAX_SAFE_INTEGER; // Slice clamps ends to the dimension.

export const graphNames = {
  inputIds: 'input_ids',
  ropeCos: 'rope_cos',
  ropeSin: 'rope_sin',
  newMask: 'new_mask',
  pastMask: 'past_mask',
  logits: 'logits',
  pastKey: (layer: number) => `past_key.${layer}`,
  pastValue: (layer: number) => `past_value.${layer}`,
  newKey: (layer: number) => `new_key.${layer}`,
  newValue: (layer: number) => `new_value.${layer}`,
  query: (layer: number) => `query.${layer}`,
  windowKey: (layer: number) => `window_key.${layer}`,
  windowValue: (layer: number) => `window_value.${layer}`,
  windowMask: 'window_mask',
  pastKeyQ: (layer: number) => `past_key_q.${layer}`,
  pastKeyScale: (layer: number) => `past_key_scale.${layer}`,
  pastValueQ: (layer: number) => `past_value_q.${layer}`,
  pastValueScale: (layer: number) => `past_value_scale.${layer}`,
  recentKey: (layer: number) => `recent_key.${layer}`,
  recentValue: (layer: number) => `recent_value.${layer}`,
  recentMask: 'recent_mask',
  int8Mask: 'int8_mask',
  pastLength: 'past_length',
  ...massGraphNames,
};

/**
 * When a pass attends to an fp32 past with com.microsoft MultiHeadAttention's flash kernel
 * (graph/attention.ts attentionWithFlashPast) instead of masked scores: passes of at least
 * `minTokens` new tokens over at least `minPast` cached ones. Shorter ones (decode steps,
 * short prompts) keep the plain ops, which measured faster there.
 */
export interface FlashPastThresholds {
  minTokens: number;
  minPast: number;
}

/**
 * From attention alone (4 KV heads of 2 queries, head size 64, masked time / flash time):
 * a 256-token pass 0.95 at 512 of past, 1.4-1.9 at 1-2k, 1.1-1.2 at 4-16k; passes of 16-64
 * tokens 0.6-0.7 at 4-16k; a decode step 0.5.
 */
export const defaultFlashPast: FlashPastThresholds = { minTokens: 128, minPast: 1024 };

/** How the graph is shaped beyond the checkpoint: weight format, head layout, KV format. */
export interface GraphOptions {
  weightFormat?: WeightFormat;
  /** How int4 products compute (int8 when absent); no effect on fp32 weights. */
  int4Compute?: Int4Compute;
  /** Head-aware: each layer's retrieval heads first (weights permuted to match). */
  layout?: HeadLayout;
  /** int8 KV for the full heads, in blocks of this many positions; fp32 when absent. */
  int8Block?: number;
  /** When an fp32 past goes through the flash kernel (defaultFlashPast when absent); `false`: never. */
  flashPast?: FlashPastThresholds | false;
}

/** Every weight the graph needs, with its expected shape (Hugging Face names). */
export function expectedWeightShapes(c: DecoderConfig): Map<string, number[]> {
  const shapes = new Map<string, number[]>();
  const qDim = c.numHeads * c.headDim;
  const kvDim = c.numKvHeads * c.headDim;
  shapes.set('model.embed_tokens.weight', [c.vocabSize, c.hiddenSize]);
  for (let l = 0; l < c.numLayers; l++) {
    const p = `model.layers.${l}`;
    shapes.set(`${p}.input_layernorm.weight`, [c.hiddenSize]);
    shapes.set(`${p}.post_attention_layernorm.weight`, [c.hiddenSize]);
    shapes.set(`${p}.self_attn.q_proj.weight`, [qDim, c.hiddenSize]);
    shapes.set(`${p}.self_attn.k_proj.weight`, [kvDim, c.hiddenSize]);
    shapes.set(`${p}.self_attn.v_proj.weight`, [kvDim, c.hiddenSize]);
    shapes.set(`${p}.self_attn.o_proj.weight`, [c.hiddenSize, qDim]);
    if (c.attentionBias) {
      shapes.set(`${p}.self_attn.q_proj.bias`, [qDim]);
      shapes.set(`${p}.self_attn.k_proj.bias`, [kvDim]);
      shapes.set(`${p}.self_attn.v_proj.bias`, [kvDim]);
    }
    shapes.set(`${p}.mlp.gate_proj.weight`, [c.intermediateSize, c.hiddenSize]);
    shapes.set(`${p}.mlp.up_proj.weight`, [c.intermediateSize, c.hiddenSize]);
    shapes.set(`${p}.mlp.down_proj.weight`, [c.hiddenSize, c.intermediateSize]);
  }
  shapes.set('model.norm.weight', [c.hiddenSize]);
  if (!c.tieWordEmbeddings) shapes.set('lm_head.weight', [c.vocabSize, c.hiddenSize]);
  return shapes;
}

/** The full heads' past as the flash kernel reads it (keys and values) and as a masked attention part. */
type FullHeadsPast = { flash: (b: GraphBuilder) => { keys: string; values: string }; masked: (b: GraphBuilder) => AttentionPart };

/**
 * Builds and serializes the graph; `weights` must hold every tensor of expectedWeightShapes.
 * With `externalData`, large weights go to the sink instead of into the returned bytes.
 */
export function buildDecoderGraph(c: DecoderConfig, weights: Map<string, TensorF32>, externalData?: ExternalDataSink, options: GraphOptions = {}): Uint8Array {
  const { weightFormat = 'fp32', int4Compute = defaultInt4Compute, layout, int8Block, flashPast = defaultFlashPast } = options;
  const g = new GraphBuilder(externalData);
  // Projections that read the same input are joined into one weight (joinedWeights).
  const joined = new Map<string, TensorF32>();
  const tensor = (name: string): TensorF32 => {
    const t = joined.get(name) ?? weights.get(name);
    if (!t) throw new Error(`weight ${name} missing`);
    return t;
  };
  const weight = (name: string): string => {
    const t = tensor(name);
    return g.initializerFloat(name, t.data, t.shape);
  };
  const D = c.headDim;
  const group = c.numHeads / c.numKvHeads; // query heads per KV head
  const queryScale = g.constFloat(1 / Math.sqrt(D));

  const ids = g.input(graphNames.inputIds, DataType.INT64, ['seqLen']);
  const cos = g.input(graphNames.ropeCos, DataType.FLOAT, ['seqLen', D / 2]);
  const sin = g.input(graphNames.ropeSin, DataType.FLOAT, ['seqLen', D / 2]);
  const newMask = g.input(graphNames.newMask, DataType.FLOAT, ['seqLen', 'seqLen']);
  const embed = weight('model.embed_tokens.weight'); // [vocab, hidden]
  let x = g.op('Gather', [embed, ids], { axis: 0 }, 'embedded'); // [seqLen, hidden]
  const seqLen = g.op('Shape', [ids], { start: 0, end: 1 }, 'seq_len'); // int64 [1]
  // The fp32 past's mask, and its capacity (int64 [1]), for the layers that attend to one.
  let pastMaskInput: string | undefined;
  const pastMask = (): string => (pastMaskInput ??= g.input(graphNames.pastMask, DataType.FLOAT, [1, 'capacity']));
  let capacityShape: string | undefined;
  const int8MaskInput = (): string => (int8Mask ??= g.input(graphNames.int8Mask, DataType.FLOAT, [1, 1, 'capacity']));
  /** The full heads' past capacity, int64 [1]. */
  const capacity = (): string =>
    (capacityShape ??= int8Block ? g.op('Shape', [int8MaskInput()], { start: 2, end: 3 }, 'capacity') : g.op('Shape', [pastMask()], { start: 1, end: 2 }, 'capacity'));
  // The pass's query layout (attention.ts), chosen once per pass: a decode step's rows per
  // query head [heads, group, 1, ·], a longer pass's per KV head [heads, 1, group*seqLen, ·].
  // Its shapes for the last dimensions attention uses (1 and D), built in the main graph
  // ahead of the Ifs whose branches read them.
  const isStep = g.op('Equal', [seqLen, g.constInt64([1])], {}, 'is_step'); // bool [1]
  const layoutShapes = new Map([0, 1, D].map((n) => [n, g.op('Where', [isStep, g.constInt64([0, group, -1, n]), g.constInt64([0, 1, -1, n])], {}, `query_layout_${n}`)]));
  const queryLayout: QueryLayout = {
    shape(n) {
      const shape = layoutShapes.get(n);
      if (!shape) throw new Error(`no query layout shape for a last dimension of ${n}`);
      return shape;
    },
  };
  // The new tokens' mask to match the layout: a step's one row [1, 1] broadcasts over its
  // query heads; a longer pass's rows [seqLen, seqLen] are repeated per query head,
  // [group*seqLen, seqLen]. Built once. The past mask's one row [1, capacity] broadcasts
  // in either layout as it comes.
  let maskNew: string | undefined;
  const newTokensMaskRows = (): string => {
    if (maskNew) return maskNew;
    const repeats = g.op('Where', [isStep, g.constInt64([1, 1]), g.constInt64([group, 1])], {}, 'mask_repeats');
    return (maskNew = group === 1 ? newMask : g.op('Tile', [newMask, repeats], {}, 'mask_new')); // [group*seqLen or 1, seqLen]
  };
  let oneHeadShapes: OneHeadPast | undefined; // for layers whose fp32 past has one head (attention.ts)
  let windowMask: string | undefined;
  let recentMask: string | undefined;
  let int8Mask: string | undefined;
  let pastLengthInput: string | undefined;
  const pastLength = (): string => (pastLengthInput ??= g.input(graphNames.pastLength, DataType.INT64, [1]));
  let flashCondition: string | undefined;
  const useFlash = (t: FlashPastThresholds): string => {
    if (flashCondition) return flashCondition;
    const atLeast = (value: string, min: number): string => g.op('GreaterOrEqual', [value, g.constInt64([min])]);
    const tokens = atLeast(seqLen, t.minTokens);
    flashCondition = g.op('And', [tokens, atLeast(pastLength(), t.minPast)], {}, 'use_flash'); // bool [1]
    return flashCondition;
  };
  // Evidence's attention mass: inputs built on first use, outputs per layer, then the sum (massOutputs.ts).
  const mass = massOutputs(g, { capacity, seqLen, ...(int8Block ? { int8: { block: int8Block, mask: int8MaskInput } } : {}) });
  /**
   * The full heads' attention over their past, then the parts after it (the pass's own keys,
   * int8's exact recent rows). Without the flash path, the past is a masked part; with it, an
   * If picks per pass between the flash kernel over the filled past and that masked part
   * (the branches read the parent's values and build their own nodes). With `massNames`
   * (head-aware), also the pass's attention mass on the past's slots, on its own tokens and
   * under int8 KV on the exact recent rows ([heads, 1, slots], [heads, 1, seqLen] and
   * [heads, 1, B]; a flash pass has none: [heads, 1, 0]). Returns the attention [heads, A, B,
   * D] (the pass's query layout), then the masses if asked.
   */
  const fullHeadsAttention = (
    q: string,
    heads: number,
    base: string,
    name: string,
    past: FullHeadsPast,
    after: (b: GraphBuilder) => AttentionPart[],
    massNames?: { mass: string; ownMass: string },
  ): string[] => {
    const rows = massNames ? mass.wanted() : undefined;
    const masked = (b: GraphBuilder, at: string): string[] => {
      const parts = [past.masked(b), ...after(b)];
      if (!rows) return [attention(b, q, parts, at)];
      const { attended, mass, ownMass, recentMass } = attentionAndMass(b, q, parts, at, rows, heads);
      return recentMass ? [attended, mass, ownMass, recentMass] : [attended, mass, ownMass];
    };
    if (!flashPast) return masked(g, name);
    const output = (base: string, dims: Array<number | string>) => ({ base, elemType: DataType.FLOAT, dims });
    const outputs = [output(name, [heads, 'layoutA', 'layoutB', D])];
    // The masses named as the graph's outputs, so that exposing them adds no Identity copy.
    if (massNames) outputs.push(output(massNames.mass, [`${base}_massHeads`, 1, 'massSlots']), output(massNames.ownMass, [`${base}_massHeads`, 1, 'ownSlots']));
    if (massNames && rows?.recent) outputs.push(output(`${base}_recent_mass`, [`${base}_massHeads`, 1, 'recentSlots']));
    return g.ifOp(
      useFlash(flashPast),
      outputs,
      (b) => {
        const attended = attentionWithFlashPast(b, q, { ...past.flash(b), length: pastLength() }, after(b), heads, queryLayout, D, `${base}_f`);
        if (!massNames) return [attended];
        const none = noMass(b, heads, `${base}_f_mass`);
        return [attended, ...outputs.slice(1).map(() => none)];
      },
      (b) => masked(b, `${base}_m`),
    );
  };

  const rmsNorm = (input: string, weightName: string, base: string): string => {
    // Written as Pow/ReduceMean/Add/Sqrt/Div/Mul, the pattern ORT fuses into
    // SimplifiedLayerNormalization when it recognizes it; plain ops either way.
    const squared = g.op('Pow', [input, g.constFloat(2)], {}, `${base}_sq`);
    const mean = g.op('ReduceMean', [squared], { axes: [-1], keepdims: 1 }, `${base}_mean`);
    const rms = g.op('Sqrt', [g.op('Add', [mean, g.constFloat(c.rmsNormEps)], {}, `${base}_eps`)], {}, `${base}_rms`);
    return g.op('Mul', [g.op('Div', [input, rms], {}, `${base}_unit`), weight(weightName)], {}, base);
  };

  // MatMulNBits computes x · dequant(W)ᵀ from Hugging Face's [out, in] layout directly.
  // Absent for fp32 weights.
  const bits = quantizedBits(weightFormat);
  const accuracyLevel = bits === 4 ? int4AccuracyLevel[int4Compute] : 4; // int8 weights: always int8 compute (WeightFormat)
  const matMulNBits =
    bits &&
    ((input: string, weightName: string, base: string): string => {
      const t = tensor(weightName);
      const [rows, cols] = t.shape;
      const q = quantizeBlocks(t.data, rows, cols, bits);
      const blocks = cols / nbitsBlockSize;
      const packed = g.initializerUint8(`${weightName}_q${bits}`, q.packed, [rows, blocks, (nbitsBlockSize * bits) / 8]);
      const scales = g.initializerFloat(`${weightName}_scales`, q.scales, [rows * blocks]);
      return g.msOp('MatMulNBits', [input, packed, scales], { K: cols, N: rows, bits, block_size: nbitsBlockSize, accuracy_level: accuracyLevel }, base);
    });

  const linear = (input: string, prefix: string, bias: boolean, base: string): string => {
    if (matMulNBits) {
      const product = matMulNBits(input, `${prefix}.weight`, bias ? `${base}_nb` : base);
      return bias ? g.op('Add', [product, weight(`${prefix}.bias`)], {}, base) : product;
    }
    const inputs = [input, weight(`${prefix}.weight`)];
    if (bias) inputs.push(weight(`${prefix}.bias`));
    return g.op('Gemm', inputs, { transB: 1 }, base); // HF stores [out, in]: y = x · Wᵀ + b
  };

  // One product for projections of the same input (q, k and v; gate and up): one weight
  // read per token instead of several smaller ones, and fewer nodes; then split.
  const linears = (input: string, prefixes: string[], bias: boolean, base: string): string[] => {
    const parts = prefixes.map((prefix) => tensor(`${prefix}.weight`)); // each [out_i, in]
    const name = `${base}_joined`;
    joined.set(`${name}.weight`, joinedWeights(parts));
    if (bias) joined.set(`${name}.bias`, joinedWeights(prefixes.map((prefix) => tensor(`${prefix}.bias`))));
    const product = linear(input, name, bias, `${base}_all`); // [seqLen, Σ out_i]
    const sizes = parts.map((t) => t.shape[0]);
    return g.opMulti('Split', [product, g.constInt64(sizes)], sizes.length, { axis: 1 }, base);
  };

  // Rotate-half RoPE on [seqLen, n*D] by com.microsoft RotaryEmbedding (one node instead of
  // seven): its cache is the pass's own cos/sin [seqLen, D/2], rows from position offset 0.
  const positionOffset = g.constInt64([0]);
  const rope = (t: string, n: number, base: string): string => {
    const rows = g.op('Reshape', [t, g.constInt64([1, -1, n * D])], {}, `${base}_rows`); // [1, seqLen, n*D]
    return g.msOp('RotaryEmbedding', [rows, positionOffset, cos, sin], { interleaved: 0, num_heads: n }, base);
  };

  for (let l = 0; l < c.numLayers; l++) {
    const p = `model.layers.${l}`;
    const h = rmsNorm(x, `${p}.input_layernorm.weight`, `l${l}_attn_norm`); // [seqLen, hidden]
    const projections = ['q_proj', 'k_proj', 'v_proj'].map((name) => `${p}.self_attn.${name}`);
    // q [seqLen, numHeads*D], k and v [seqLen, numKvHeads*D]
    const [q, k, v] = linears(h, projections, c.attentionBias, `l${l}_qkv`);
    const headsFirst = (t: string, n: number, base: string): string =>
      g.op('Transpose', [g.op('Reshape', [t, g.constInt64([-1, n, D])])], { perm: [1, 0, 2] }, base); // [n, seqLen, D]
    // Named as the graph output itself, so that exposing it adds no Identity copy.
    const qRot = headsFirst(rope(q, c.numHeads, `l${l}_q_rope`), c.numHeads, graphNames.query(l)); // [numHeads, seqLen, D]
    g.output(qRot, qRot, DataType.FLOAT, [c.numHeads, 'seqLen', D]);
    const kRot = headsFirst(rope(k, c.numKvHeads, `l${l}_k_rope`), c.numKvHeads, `l${l}_k_rot`); // [numKvHeads, seqLen, D]
    const vHeads = headsFirst(v, c.numKvHeads, `l${l}_vh`); // [numKvHeads, seqLen, D]
    g.output(kRot, graphNames.newKey(l), DataType.FLOAT, [c.numKvHeads, 'seqLen', D]);
    g.output(vHeads, graphNames.newValue(l), DataType.FLOAT, [c.numKvHeads, 'seqLen', D]);
    const base = `l${l}`;
    const retrieval = layout ? layout.retrievalCount[l] : c.numKvHeads;
    const parts: string[] = [];
    // Query head i uses KV head floor(i / group), so a run of KV heads and its queries are
    // slices, and grouping is a free reshape to [heads, group*seqLen, D], then to the pass's
    // layout. Attention takes them scaled by 1/√D (attention.ts), scaled before the
    // reshapes so that onnxruntime does not fold the scale into the products.
    const heads = (t: string, from: number, to: number, perKv: number, name: string): string =>
      from === 0 && to === c.numKvHeads ? t : g.op('Slice', [t, g.constInt64([from * perKv]), g.constInt64([to * perKv]), g.constInt64([0])], {}, name);
    const grouped = (from: number, to: number, name: string): string =>
      g.op('Reshape', [g.op('Reshape', [g.op('Mul', [heads(qRot, from, to, group, `${name}_q`), queryScale], {}, `${name}_scaled`), g.constInt64([to - from, -1, D])], {}, `${name}_rows`), queryLayout.shape(D)], {}, name);
    if (retrieval > 0) {
      const kNew = heads(kRot, 0, retrieval, 1, `${base}_kr`);
      const vNew = heads(vHeads, 0, retrieval, 1, `${base}_vr`);
      const maskNew = newTokensMaskRows();
      const name = retrieval === c.numKvHeads ? base : `${base}_r`;
      const q = grouped(0, retrieval, `${base}_qr`);
      // The full heads' past (int8 or fp32) and the parts after it (int8's exact recent rows, the pass's own keys).
      let fullPast: FullHeadsPast;
      let after: (b: GraphBuilder) => AttentionPart[];
      if (int8Block) {
        const recentRowMask = (recentMask ??= g.input(graphNames.recentMask, DataType.FLOAT, [1, int8Block]));
        const recentK = g.input(graphNames.recentKey(l), DataType.FLOAT, [retrieval, int8Block, D]);
        const recentV = g.input(graphNames.recentValue(l), DataType.FLOAT, [retrieval, int8Block, D]);
        const int8Past = {
          keys: g.input(graphNames.pastKeyQ(l), DataType.UINT8, [retrieval, 'capacity', D]),
          keyScales: g.input(graphNames.pastKeyScale(l), DataType.FLOAT, [retrieval, 1, 'capacity']),
          values: g.input(graphNames.pastValueQ(l), DataType.INT8, [retrieval, 'capacity', D]),
          valueScales: g.input(graphNames.pastValueScale(l), DataType.FLOAT, [retrieval, 1, 'capacity']),
          mask: int8MaskInput(),
        };
        // The flash path reads the quantized blocks dequantized (past_length: their positions).
        fullPast = {
          flash: (b: GraphBuilder) => dequantizedInt8Past(b, int8Past, `${base}_dq`),
          masked: (b: GraphBuilder) => int8Part(b, int8Past, queryLayout, D, `${base}_q8`),
        };
        after = (b: GraphBuilder) => [plainPart(b, recentK, recentV, recentRowMask), plainPart(b, kNew, vNew, maskNew)];
      } else {
        const pastK = g.input(graphNames.pastKey(l), DataType.FLOAT, [retrieval, 'capacity', D]);
        const pastV = g.input(graphNames.pastValue(l), DataType.FLOAT, [retrieval, 'capacity', D]);
        const oneHead = retrieval === 1 ? (oneHeadShapes ??= oneHeadPast(g, isStep, capacity(), queryLayout, group)) : undefined;
        fullPast = { flash: () => ({ keys: pastK, values: pastV }), masked: (b: GraphBuilder) => plainPart(b, pastK, pastV, pastMask(), oneHead) };
        after = (b: GraphBuilder) => [plainPart(b, kNew, vNew, maskNew)];
      }
      if (layout) {
        // Head-aware: the full heads are evidence's heads, so their attention mass is an output.
        const [attended, past, own, recent] = fullHeadsAttention(q, retrieval, base, name, fullPast, after, mass.layerNames(l, base));
        mass.layerOutputs(l, { mass: past, ownMass: own, recentMass: recent });
        parts.push(attended);
      } else {
        parts.push(fullHeadsAttention(q, retrieval, base, name, fullPast, after)[0]);
      }
    }
    if (retrieval < c.numKvHeads) {
      const streaming = c.numKvHeads - retrieval;
      windowMask ??= g.input(graphNames.windowMask, DataType.FLOAT, [1, 'windowSlots']);
      const windowK = g.input(graphNames.windowKey(l), DataType.FLOAT, [streaming, 'windowSlots', D]);
      const windowV = g.input(graphNames.windowValue(l), DataType.FLOAT, [streaming, 'windowSlots', D]);
      const kNew = heads(kRot, retrieval, c.numKvHeads, 1, `${base}_ks`);
      const vNew = heads(vHeads, retrieval, c.numKvHeads, 1, `${base}_vs`);
      const window = plainPart(g, windowK, windowV, windowMask);
      parts.push(attention(g, grouped(retrieval, c.numKvHeads, `${base}_qs`), [window, plainPart(g, kNew, vNew, newTokensMaskRows())], `${base}_s`));
    }
    const attended = parts.length === 1 ? parts[0] : g.op('Concat', parts, { axis: 0 }, `${base}_out`); // [numKvHeads, A, B, D]
    // Query head i = kvHead * group + g, so [numKvHeads, A, B, D] is [numHeads, seqLen, D] as laid out.
    const perHead = g.op('Reshape', [attended, g.constInt64([c.numHeads, -1, D])]); // [numHeads, seqLen, D]
    const merged = g.op('Reshape', [g.op('Transpose', [perHead], { perm: [1, 0, 2] }), g.constInt64([-1, c.numHeads * D])], {}, `l${l}_attn`); // [seqLen, numHeads*D]
    x = g.op('Add', [x, linear(merged, `${p}.self_attn.o_proj`, false, `l${l}_o`)], {}, `l${l}_resid1`); // [seqLen, hidden]

    const h2 = rmsNorm(x, `${p}.post_attention_layernorm.weight`, `l${l}_mlp_norm`);
    const [gate, up] = linears(h2, [`${p}.mlp.gate_proj`, `${p}.mlp.up_proj`], false, `l${l}_gate_up`); // [seqLen, intermediate] each
    const act = g.op('Mul', [g.op('Mul', [gate, g.op('Sigmoid', [gate])], {}, `l${l}_silu`), up], {}, `l${l}_swiglu`);
    x = g.op('Add', [x, linear(act, `${p}.mlp.down_proj`, false, `l${l}_down`)], {}, `l${l}_resid2`);
  }

  mass.sumOutput();

  // Only the last position's logits are needed; norm and project just that row.
  const last = g.op('Slice', [x, g.constInt64([-1]), g.constInt64([int64Max]), g.constInt64([0])], {}, 'last_hidden'); // [1, hidden]
  const normed = rmsNorm(last, 'model.norm.weight', 'final_norm');
  // The output head reads vocab × hidden weights per token: quantized weights give it its
  // own quantized copy (tied embeddings keep fp32 for the lookup).
  const headName = c.tieWordEmbeddings ? 'model.embed_tokens.weight' : 'lm_head.weight'; // [vocab, hidden]
  const logits =
    matMulNBits
      ? matMulNBits(normed, headName, 'logits_raw')
      : g.op('Gemm', [normed, c.tieWordEmbeddings ? embed : weight(headName)], { transB: 1 }, 'logits_raw'); // [1, vocab]
  g.output(logits, graphNames.logits, DataType.FLOAT, [1, c.vocabSize]);
  return g.encode(`heed_${c.modelType}_decoder`);
}

/** Weights [out_i, in] stacked into one [Σ out_i, in] (biases [out_i] into [Σ out_i]). */
function joinedWeights(parts: TensorF32[]): TensorF32 {
  const rows = parts.reduce((sum, t) => sum + t.shape[0], 0);
  const data = new Float32Array(parts.reduce((sum, t) => sum + t.data.length, 0));
  let at = 0;
  for (const t of parts) {
    data.set(t.data, at);
    at += t.data.length;
  }
  return { data, shape: parts[0].shape.length === 1 ? [rows] : [rows, parts[0].shape[1]] };
}

/** past_mask [1, capacity]: the positions [0, pastLen) held, the unfilled slots [pastLen, capacity) hidden. */
export function pastMaskRow(pastLen: number, capacity: number): Float32Array {
  return new Float32Array(capacity).fill(maskedScore, pastLen);
}

/** new_mask [seqLen, seqLen]: new token s sees new positions [0, s]. */
export function newTokensMask(seqLen: number): Float32Array {
  const mask = new Float32Array(seqLen * seqLen);
  for (let s = 0; s < seqLen; s++) mask.fill(maskedScore, s * seqLen + s + 1, (s + 1) * seqLen);
  return mask;
}
