// Attention of grouped queries over parts of keys and values: the past, the pass's new
// keys, a head-aware window, and under int8 KV the exact recent rows. One softmax spans the
// parts (a shared row maximum and sum), so nothing is concatenated: joining the keys and
// values would copy the whole past for every layer and token, and joining the scores costs
// two more passes over the largest tensor of a prefill (measured 10-17% slower at 8k-16k).
//
// Shapes: a KV head's query rows, rows = group * seqLen (its query heads one after
// another), already scaled by 1/√D, come 4-d in the pass's `QueryLayout`, [heads, A, B, D]
// with A * B = rows; every part answers in the same layout with a row maximum and sum
// [heads, A, B, 1] and a weighted sum of its values [heads, A, B, D]. Keys and values
// [heads, slots, D] meet the queries as [heads, 1, slots, D]. A decode step lays its rows
// out [heads, group, 1, D], one product per query head: matrix-vector products, which MLAS
// runs straight from the keys and values (its M = 1 kernels, which also want alpha 1, hence
// queries scaled beforehand; and not by a Mul right before the product, which onnxruntime
// fuses back into alpha), where a group's rows at once had it copy every key and value
// into its packed layout first (3 heads of 13k positions, both products of a step: 1.58
// ms against 2.65). Longer passes lay them out [heads, 1, rows, D]: one product per KV
// head, which packs the keys and values once for all the group's rows, not once per query
// head (a pass of 2 or 8 tokens at 13k cost 1.5-4 ms more that way).
//
// A past of one KV head is the exception for the values (`OneHeadPast`): with no head
// dimension to pair with the query heads', onnxruntime folds a step's query heads into one
// product of M = group and packs the whole past's values for it. So a step splits that
// past's positions into `oneHeadParts` runs, one matrix-vector product per query head and
// run, and sums the runs (one head of 13k positions, its values read from memory: 0.13 ms
// against 0.21; 0.11-0.13 per head where a layer has three or four).
import { float, type GraphBuilder } from '../onnx/graphBuilder';
import { DataType } from '../onnx/onnxProto';

/** The 4-d layout of a pass's query rows, chosen per pass: `shape(n)` is the int64 [4] shape [heads, A, B, n] of a tensor of rows [heads, rows, n] (same memory); `shape(0)` keeps the last dimension as it is. */
export interface QueryLayout {
  shape(n: number): string;
}

/** One part's share of an attention: built by `attention` in three steps over its own scores. */
export interface AttentionPart {
  /** Masked scores of the (scaled) queries against the part's keys, in the part's own layout; and their row maximum [heads, A, B, 1]. */
  scores(q: string, base: string): { scores: string; rowMax: string };
  /** exp(scores - rowMax) in the part's layout, and its row sum [heads, A, B, 1]. */
  exp(scores: string, rowMax: string, base: string): { exp: string; rowSum: string };
  /** The probabilities' (unnormalized) weighted sum of the part's values: [heads, A, B, D]. */
  weighted(exp: string, base: string): string;
}

/** How many runs of positions a one-head past's values are split into in a decode step. */
export const oneHeadParts = 2;

/**
 * The int64 shapes a past of one KV head is viewed through (see the header), built once in
 * the main graph from the pass's layout: `split` is whether this pass splits the values
 * (a decode step over a past whose slots divide into `oneHeadParts`).
 */
export interface OneHeadPast {
  /** Probabilities [1, A, B, slots] as [group, parts, 1, slots/parts] when split, else as rows. */
  probs: string;
  /** Values [1, slots, D] as [parts, slots/parts, D] when split, else unchanged. */
  values: string;
  /** The summed products, [group, 1, 1, D] when split or [1, 1, rows, D], as [1, A, B, D]. */
  attended: string;
}

/** OneHeadPast's shapes for a pass: `isStep` bool [1], `slots` int64 [1] (the past's), `layout` the query layout. */
export function oneHeadPast(g: GraphBuilder, isStep: string, slots: string, layout: QueryLayout, group: number): OneHeadPast {
  const divides = g.op('Equal', [g.op('Mod', [slots, g.constInt64([oneHeadParts])]), g.constInt64([0])]);
  const split = g.op('And', [isStep, divides], {}, 'one_head_split'); // bool [1]
  const either = (whenSplit: number[], otherwise: string, name: string): string => g.op('Where', [split, g.constInt64(whenSplit), otherwise], {}, name);
  return {
    probs: either([group, oneHeadParts, 1, -1], g.constInt64([0, 1, -1, 0]), 'one_head_probs'),
    values: either([oneHeadParts, -1, 0], g.constInt64([0, 0, 0]), 'one_head_values'),
    attended: either([1, group, -1, 0], layout.shape(0), 'one_head_attended'),
  };
}

/**
 * Keys and values [heads, slots, D] in fp32, with an additive mask broadcasting to [A, B, slots];
 * scores [heads, A, B, slots]. With `oneHead` (heads = 1), the values' product goes as the header says.
 */
export function plainPart(g: GraphBuilder, keys: string, values: string, mask: string, oneHead?: OneHeadPast): AttentionPart {
  const lastAxis = (): string => g.constInt64([-1]);
  const perQueryHead = (t: string, name: string): string => g.op('Unsqueeze', [t, g.constInt64([1])], {}, name); // [heads, 1, slots, D]
  return {
    scores(q, base) {
      const raw = g.msOp('FusedMatMul', [q, perQueryHead(keys, `${base}_k`)], { transB: 1 }, `${base}_raw`); // [heads, A, B, slots]
      const scores = g.op('Add', [raw, mask], {}, base);
      return { scores, rowMax: g.op('ReduceMax', [scores], { axes: [-1], keepdims: 1 }, `${base}_max`) };
    },
    exp(scores, rowMax, base) {
      const exp = g.op('Exp', [g.op('Sub', [scores, rowMax])], {}, base);
      return { exp, rowSum: g.op('ReduceSum', [exp, lastAxis()], { keepdims: 1 }, `${base}_sum`) };
    },
    weighted(exp, base) {
      if (!oneHead) return g.op('MatMul', [exp, perQueryHead(values, `${base}_v`)], {}, base); // [heads, A, B, D]
      const probs = g.op('Reshape', [exp, oneHead.probs], {}, `${base}_p_runs`); // [group, parts, 1, slots/parts] or [1, 1, rows, slots]
      const runs = g.op('Reshape', [values, oneHead.values], {}, `${base}_v_runs`); // [parts, slots/parts, D] or [1, slots, D]
      const summed = g.op('ReduceSum', [g.op('MatMul', [probs, runs], {}, `${base}_runs`), g.constInt64([1])], { keepdims: 1 }, `${base}_run_sum`);
      return g.op('Reshape', [summed, oneHead.attended], {}, base); // [1, A, B, D]
    },
  };
}

/** [heads, A, B, n] as [heads, rows, n] and back: the same memory, the layout int8Part and the flash kernel take. */
function byRows(g: GraphBuilder, t: string, n: number, name: string): string {
  return g.op('Reshape', [t, g.constInt64([0, -1, n])], {}, name);
}
function inLayout(g: GraphBuilder, t: string, layout: QueryLayout, n: number, name: string): string {
  return g.op('Reshape', [t, layout.shape(n)], {}, name);
}

/** The int8 past's graph inputs (kvCacheInt8.ts): 8-bit rows with a scale per position. */
export interface Int8PastInputs {
  keys: string; // uint8 [heads, capacity, D]: q + 128
  keyScales: string; // float [heads, 1, capacity]
  values: string; // int8 [heads, capacity, D]: q
  valueScales: string; // float [heads, 1, capacity]
  mask: string; // float [1, 1, capacity]: 0 for the positions held, masked after
}

/** The keys' zero point: they are stored q + 128 (kvCacheInt8.ts). */
const keyZeroPoint = 128;

/**
 * An int8 past attended to with onnxruntime's MatMulInteger over all its positions at once,
 * reading 1 byte per key and value element where fp32 reads 4 (a decode step is bound by
 * those reads). Its fast kernels take unsigned rows (with a zero point) as their first
 * operand and signed ones as the second. Scores and weighted values come in the rows layout
 * [heads, rows, ·] and go back to the pass's layout at the part's edges.
 *
 * The float side of each product (queries, probabilities) goes in as two 8-bit parts per
 * row, stacked as twice the rows so that the past is still read once: x ≈ hi·254·s + lo·s,
 * s a row's step. One part alone is too coarse: for the queries it put 1 % of error in a
 * sharp head's output (int8Attention.test.ts, against 0.1 % with two), and for the
 * probabilities it rounds every one under a 510th of the row's largest to 0, which over a
 * long past is most of its tail (teacher-forced over 300 tokens of code at 6k, the
 * next-token distributions moved ten times as far from fp32 KV's as with two parts).
 * - Scores: queries signed, hi = round(q / 254s) and lo = round(q / s) - 254·hi with
 *   s = max|q| / (127·254), both in [-127, 127]. Keys [capacity, D] (stored q + 128, zero
 *   point 128) · [qHi; qLo]ᵀ [D, 2·rows] gives integer dot products; each half times its
 *   scale, the halves summed, times the keys' scales.
 * - Values: the probabilities times the values' scales, p ≥ 0, as x = round(p / s) with
 *   s = max p / (255·254), hi = ⌊x / 254⌋ in [0, 255] and lo = x - 254·hi in [0, 253], both
 *   unsigned with zero point 0: [pHi; pLo] [2·rows, capacity] · values [capacity, D]
 *   (signed). A probability under s / 2, a 130,000th of the row's largest, still rounds to
 *   0.
 */
export function int8Part(g: GraphBuilder, inputs: Int8PastInputs, layout: QueryLayout, D: number, base: string): AttentionPart {
  const zeroPoint = g.initializerUint8(`${base}_zp`, new Uint8Array([keyZeroPoint]), []);
  const lastAxis = (): string => g.constInt64([-1]);
  const cast = (t: string, to: number): string => g.op('Cast', [t], { to });
  /**
   * Rows x [heads, rows, n] (≥ 0 when unsigned) as two 8-bit parts stacked [heads, 2·rows, n]:
   * x ≈ hi·254·s + lo·s with s = max|x| / (127·254) signed, max x / (255·254) unsigned, never 0
   * (a row of zeros divides by it).
   * Signed, hi rounds to nearest and lo is in [-127, 127]; unsigned, hi is floored, so lo is in
   * [0, 253] and both need no zero point.
   */
  const twoParts = (x: string, type: 'signed' | 'unsigned', name: string): { parts: string; s: string } => {
    const signed = type === 'signed';
    const max = g.op('ReduceMax', [signed ? g.op('Abs', [x]) : x], { axes: [-1], keepdims: 1 });
    const s = g.op('Div', [g.op('Max', [max, g.constFloat(1e-30)]), g.constFloat((signed ? 127 : 255) * 254)], {}, `${name}_s`); // [heads, rows, 1]
    const steps = g.op('Round', [g.op('Div', [x, s])]); // [-127·254, 127·254] or [0, 255·254]
    const hi = g.op(signed ? 'Round' : 'Floor', [g.op('Div', [steps, g.constFloat(254)])], {}, `${name}_hi`);
    const lo = g.op('Sub', [steps, g.op('Mul', [hi, g.constFloat(254)])], {}, `${name}_lo`);
    return { parts: cast(g.op('Concat', [hi, lo], { axis: 1 }), signed ? DataType.INT8 : DataType.UINT8), s };
  };
  /** [heads, 2·rows, n] products of the stacked parts times their scales (254·s and s), the halves summed: [heads, rows, n]. */
  const joined = (products: string, s: string, name: string): string => {
    const scales = g.op('Concat', [g.op('Mul', [s, g.constFloat(254)]), s], { axis: 1 }); // [heads, 2·rows, 1]
    const [hi, lo] = g.opMulti('Split', [g.op('Mul', [cast(products, DataType.FLOAT), scales])], 2, { axis: 1 });
    return g.op('Add', [hi, lo], {}, name); // [heads, rows, n]
  };
  return {
    scores(q, name) {
      const { parts, s } = twoParts(byRows(g, q, D, `${name}_rows`), 'signed', `${name}_q`); // int8 [heads, 2·rows, D]
      const dots = g.op('MatMulInteger', [inputs.keys, g.op('Transpose', [parts], { perm: [0, 2, 1] }), zeroPoint], {}, `${name}_raw`); // int32 [heads, capacity, 2·rows]
      const unscaled = joined(g.op('Transpose', [dots], { perm: [0, 2, 1] }), s, `${name}_dots`); // [heads, rows, capacity]
      const scores = g.op('Add', [g.op('Mul', [unscaled, inputs.keyScales]), inputs.mask], {}, name);
      return { scores, rowMax: inLayout(g, g.op('ReduceMax', [scores], { axes: [-1], keepdims: 1 }), layout, 1, `${name}_max`) };
    },
    exp(scores, rowMax, name) {
      const exp = g.op('Exp', [g.op('Sub', [scores, byRows(g, rowMax, 1, `${name}_max_rows`)])], {}, name); // [heads, rows, capacity]
      return { exp, rowSum: inLayout(g, g.op('ReduceSum', [exp, lastAxis()], { keepdims: 1 }), layout, 1, `${name}_sum`) };
    },
    weighted(exp, name) {
      const probs = g.op('Mul', [exp, inputs.valueScales], {}, `${name}_p`); // [heads, rows, capacity], ≥ 0
      const { parts, s } = twoParts(probs, 'unsigned', `${name}_p`); // uint8 [heads, 2·rows, capacity]
      const products = g.op('MatMulInteger', [parts, inputs.values], {}, `${name}_raw`); // int32 [heads, 2·rows, D]
      return inLayout(g, joined(products, s, `${name}_joined`), layout, D, name); // [heads, A, B, D]
    },
  };
}

/**
 * An int8 past dequantized in full, [heads, capacity, D] fp32 keys and values, for the flash
 * path: a long pass (hundreds of rows) pays one pass over the past for it, where int8Part
 * would cost a score matrix over the whole past.
 */
export function dequantizedInt8Past(g: GraphBuilder, inputs: Int8PastInputs, base: string): { keys: string; values: string } {
  const perRow = (scales: string, name: string): string => g.op('Reshape', [scales, g.constInt64([0, -1, 1])], {}, name); // [heads, capacity, 1]
  const keys = g.op('Mul', [g.op('Sub', [g.op('Cast', [inputs.keys], { to: DataType.FLOAT }), g.constFloat(keyZeroPoint)]), perRow(inputs.keyScales, `${base}_ksc`)], {}, `${base}_k`);
  const values = g.op('Mul', [g.op('Cast', [inputs.values], { to: DataType.FLOAT }), perRow(inputs.valueScales, `${base}_vsc`)], {}, `${base}_v`);
  return { keys, values };
}

/**
 * The parts' shared softmax, unnormalized, of scaled queries [heads, A, B, D]: row maximum
 * and sum [heads, A, B, 1], weighted values [heads, A, B, D], each part's exp in its layout.
 */
function softmaxParts(g: GraphBuilder, q: string, parts: AttentionPart[], base: string): { rowMax: string; rowSum: string; weighted: string; exps: string[] } {
  const scored = parts.map((part, i) => part.scores(q, `${base}_s${i}`));
  const rowMax = scored.length === 1 ? scored[0].rowMax : g.op('Max', scored.map((s) => s.rowMax), {}, `${base}_max`); // [heads, A, B, 1]
  const exps = scored.map((s, i) => parts[i].exp(s.scores, rowMax, `${base}_e${i}`));
  const total = (terms: string[], name: string): string => (terms.length === 1 ? terms[0] : g.op(terms.length === 2 ? 'Add' : 'Sum', terms, {}, name));
  const rowSum = total(
    exps.map((e) => e.rowSum),
    `${base}_sum`,
  );
  const weighted = total(
    exps.map((e, i) => parts[i].weighted(e.exp, `${base}_w${i}`)),
    `${base}_wsum`,
  ); // [heads, A, B, D]
  return { rowMax, rowSum, weighted, exps: exps.map((e) => e.exp) };
}

/** Softmax attention of scaled queries [heads, A, B, D] over the parts: [heads, A, B, D]. */
export function attention(g: GraphBuilder, q: string, parts: AttentionPart[], base: string): string {
  const { rowSum, weighted } = softmaxParts(g, q, parts, base);
  return g.op('Div', [weighted, rowSum], {}, `${base}_att`);
}

/**
 * Attention as `attention` gives it, and the attention mass evidence reads (evidence.ts):
 * each probability squared, weighted by its row's `mass.weights` ([rows, 1]: 1 for the
 * rows counted, 0 for the others; rows = group * seqLen, query heads first) and summed over
 * the rows, on the first part's slots (the past, a plain part: [heads, A, B, slots]
 * scores; or int8Part's [heads, rows, slots]) as `mass` [heads, 1, slots], on the last
 * part's (the pass's own keys: [heads, A, B, seqLen]) as `ownMass` [heads, 1, seqLen] (only
 * when `mass.perHead` holds; else [heads, 1, 0], in an If of its own), and
 * under int8 KV on the exact recent rows between them as `recentMass` [heads, 1, B], which
 * the caller places into their positions' slots (`mass.recent.pads`: once for every layer
 * when summed); or, with `mass.weightsShape` and the rows shapes for it, summed over the
 * heads too in the same product, [1, 1, ·], a third of the bytes for three heads. Only
 * when `mass.on` (bool [1]) holds: otherwise an If's other branch gives [heads, 1, 0] for
 * each, so that passes that do not ask for the mass pay one If node, not a pass over the
 * scores. A sum is Σ_rows w (exp / rowSum)² = (w / rowSum²)ᵀ · exp², one
 * product over the squared exps (a ReduceSumSquare over the rows axis of the scaled exps
 * profiled about 4x slower than this product at 16k), left [heads, 1, slots]: a Squeeze
 * would copy it once more.
 */
export function attentionAndMass(g: GraphBuilder, q: string, parts: AttentionPart[], base: string, mass: MassRequest, heads: number): { attended: string; mass: string; ownMass: string; recentMass?: string } {
  const { rowSum, weighted, exps } = softmaxParts(g, q, parts, base);
  const attended = g.op('Div', [weighted, rowSum], {}, `${base}_att`);
  const output = (name: string, slots: string) => ({ base: name, elemType: DataType.FLOAT, dims: [`${base}_massHeads`, 1, slots] });
  const outputs = [output(`${base}_mass`, 'massSlots'), output(`${base}_own_mass`, 'ownSlots')];
  if (mass.recent) outputs.push(output(`${base}_recent_mass`, 'recentSlots'));
  const [past, own, recent] = g.ifOp(
    mass.on,
    outputs,
    (b) => {
      const squaredSum = byRows(b, b.op('Mul', [rowSum, rowSum], {}, `${base}_mass_z2`), 1, `${base}_mass_z2_rows`); // [heads, rows, 1]
      // [heads, rows, 1] as [heads, 1, rows] or [1, 1, heads * rows]: the same memory, no transpose.
      const weights = b.op('Reshape', [b.op('Div', [mass.weights, squaredSum], {}, `${base}_mass_wr`), mass.weightsShape], {}, `${base}_mass_w`);
      const summed = (at: GraphBuilder, exp: string, rowsShape: string, name: string): string => {
        const rows = at.op('Reshape', [exp, rowsShape], {}, `${name}_rows`); // [heads, A, B, slots] as [heads, rows, slots] or [1, heads * rows, slots]: the same memory
        return at.op('MatMul', [weights, at.op('Mul', [rows, rows], {}, `${name}_sq`)], {}, `${name}_on`); // [heads or 1, 1, slots]
      };
      // The pass's own mass only where it is kept: per head (a prompt's pass), not summed (a decode step's own token is never evidence).
      const pastMass = summed(b, exps[0], mass.pastRowsShape, `${base}_mass`);
      const [ownMass] = b.ifOp(
        mass.perHead,
        [output(`${base}_own_kept`, 'ownSlots')],
        (inner) => [summed(inner, exps[exps.length - 1], mass.ownRowsShape, `${base}_own_mass`)],
        (inner) => [noMass(inner, heads, `${base}_own_off`)],
      );
      // int8 KV: the quantized past, the exact recent rows after it, and the pass's own keys.
      return mass.recent ? [pastMass, ownMass, summed(b, exps[1], mass.recent.rowsShape, `${base}_recent_mass`)] : [pastMass, ownMass];
    },
    (b) => {
      const none = noMass(b, heads, `${base}_mass_off`);
      return outputs.map(() => none);
    },
  );
  return { attended, mass: past, ownMass: own, ...(recent ? { recentMass: recent } : {}) };
}

/**
 * What attentionAndMass needs of the pass: the rows' weights [rows, 1] (empty: no mass),
 * whether there are any (bool [1]), and the int64 [3] shapes that view the weights and the
 * past's and the pass's own exps as rows, built once per pass: [0, 1, -1], [0, -1, slots]
 * and [0, -1, seqLen] per head; [1, 1, -1], [1, -1, slots] and [1, -1, seqLen] to sum over
 * the heads in the same product.
 */
export interface MassRequest {
  weights: string;
  on: string;
  /** bool [1]: the mass is asked per head; the pass's own mass is computed only then (summed over the heads it is never read). */
  perHead: string;
  /** int64 [3]: [0, 1, -1] per head, [1, 1, -1] summed over the heads (mass_by_head). */
  weightsShape: string;
  pastRowsShape: string;
  ownRowsShape: string;
  /**
   * Under int8 KV the parts are the quantized past (its exps in rows layout, [heads, rows,
   * slots]), its exact recent rows and the pass's own keys: the recent rows' mass, viewed by
   * `rowsShape` ([0 or 1, -1, B]), goes into the past's slots by `pads` (int64 [6]: the
   * quantized positions before it, the slots after it; the caller pads it).
   */
  recent?: { rowsShape: string; pads: string };
}

/** No attention mass: [heads, 1, 0], for a pass that computes none; an empty constant, so that a branch giving it runs no more than an Identity. */
export function noMass(g: GraphBuilder, heads: number, name: string): string {
  return g.initializerFloat(name, new Float32Array(0), [heads, 1, 0]);
}

/** A fully visible fp32 past: the first `length` [1] (int64) positions of keys and values [heads, capacity, D]. */
export interface FlashPast {
  keys: string;
  values: string;
  length: string;
}

/**
 * Attention over a fully visible past and other parts, with the past done by
 * com.microsoft MultiHeadAttention, whose CPU kernel is a flash attention (blocks of
 * scores that stay in L2, an online softmax) when it gets no mask and no past: no score
 * matrix [heads, rows, past] is ever written, which is most of a long prefill's time and
 * memory otherwise. Each KV head is one batch entry with one head, so a group's query rows
 * share its keys as they are.
 *
 * The kernel returns a normalized output and no softmax sum, so the other parts cannot be
 * merged with it directly. A sentinel recovers the sum: one more key scored exactly c per
 * row, whose value is 1 in one extra channel that every real value has 0 in. With keys
 * [k, 0] and the sentinel [0, 1], queries [q / √D, c] (the kernel's own scale 1):
 *   x = e^c / (Z + e^c)   (the extra channel),   y = W / (Z + e^c)   (the others),
 * where W and Z are the past's weighted sum and sum. Taking c = the other parts' row
 * maximum m, whose sums are W' and Z' relative to e^m, the whole attention is
 *   (W + e^m W') / (Z + e^m Z') = (y + x W') / (1 - x + x Z')
 * with nothing that can overflow. The extra channel and the sentinel row cost two copies
 * of the past's keys and values (a Pad that also drops the unfilled capacity, then
 * ScatterND, which copies its input on CPU): about 12 % of a 16k prefill in a profile,
 * which longer passes amortize.
 */
export function attentionWithFlashPast(g: GraphBuilder, q: string, past: FlashPast, parts: AttentionPart[], heads: number, layout: QueryLayout, D: number, base: string): string {
  const softmax = softmaxParts(g, q, parts, base);
  // The kernel takes rows [heads, rows, ·].
  const rowMax = byRows(g, softmax.rowMax, 1, `${base}_max_rows`);
  const rowSum = byRows(g, softmax.rowSum, 1, `${base}_sum_rows`);
  const weighted = byRows(g, softmax.weighted, D, `${base}_w_rows`);
  const queries = g.op('Concat', [byRows(g, q, D, `${base}_q_rows`), rowMax], { axis: -1 }, `${base}_fq`); // [heads, rows, D+1]
  // Pads [heads, capacity, D] to [heads, 1 + length, D+1]: a zero sentinel row in front,
  // a zero channel after, the unfilled capacity cut (a negative end pad).
  const capacity = g.op('Shape', [past.keys], { start: 1, end: 2 }, `${base}_cap`); // [1]
  const cut = g.op('Sub', [past.length, capacity], {}, `${base}_cut`); // [1], ≤ 0
  const pads = g.op('Concat', [g.constInt64([0, 1, 0, 0]), cut, g.constInt64([1])], { axis: 0 }, `${base}_pads`);
  // The sentinel's 1 in the extra channel, for every head: indices [heads, 3].
  const sentinelAt = g.initializerInt64(`${base}_sentinel_at`, Array.from({ length: heads }, (_, h) => [h, 0, D]).flat(), [heads, 3]);
  const ones = g.initializerFloat(`${base}_sentinel_one`, new Float32Array(heads).fill(1), [heads]);
  const extended = (t: string, name: string): string => g.op('ScatterND', [g.op('Pad', [t, pads], { mode: 'constant' }, `${name}_pad`), sentinelAt, ones], {}, name);
  const keys = extended(past.keys, `${base}_fk`); // [heads, 1 + length, D+1]
  const values = extended(past.values, `${base}_fv`); // [heads, 1 + length, D+1]
  const flash = g.msOp('MultiHeadAttention', [queries, keys, values], { num_heads: 1, scale: float(1) }, `${base}_flash`); // [heads, rows, D+1]
  const [y, x] = g.opMulti('Split', [flash, g.constInt64([D, 1])], 2, { axis: -1 }, `${base}_flash_yx`); // [heads, rows, D], [heads, rows, 1]
  const numerator = g.op('Add', [y, g.op('Mul', [x, weighted])], {}, `${base}_num`);
  const denominator = g.op('Add', [g.op('Sub', [g.constFloat(1), x]), g.op('Mul', [x, rowSum])], {}, `${base}_den`);
  return inLayout(g, g.op('Div', [numerator, denominator]), layout, D, `${base}_att`); // [heads, A, B, D]
}
