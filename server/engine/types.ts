// The engine's public vocabulary. Everything above the engine (generation loop, worker,
// language server, CLI) speaks these types and never imports onnxruntime-node.

import type { KvSegment, KvSegmentHeads } from './kvSegment';

/** Architecture numbers, normalized once from a checkpoint's config.json. */
export interface DecoderConfig {
  modelType: string; // config.json "model_type", e.g. "qwen2"
  vocabSize: number;
  hiddenSize: number;
  intermediateSize: number;
  numLayers: number;
  numHeads: number; // query heads
  numKvHeads: number;
  headDim: number;
  ropeTheta: number;
  /** config.json "rope_scaling", normalized; absent for plain rope. */
  ropeScaling?: RopeScaling;
  rmsNormEps: number;
  maxPositions: number; // "max_position_embeddings": the longest sequence the model accepts
  tieWordEmbeddings: boolean;
  attentionBias: boolean; // q/k/v projections carry biases (Qwen2)
}

export type RopeScaling =
  | { type: 'linear'; factor: number }
  | { type: 'llama3'; factor: number; lowFreqFactor: number; highFreqFactor: number; originalMaxPositions: number };

/** The special tokens a prompt builder needs; undefined when the tokenizer lacks one. */
export interface SpecialTokens {
  endOfText?: number;
  fimPrefix?: number;
  fimMiddle?: number;
  fimSuffix?: number;
  fimPad?: number;
  fileSep?: number;
  repoName?: number;
  /** Token ids that end generation (generation_config.json eos_token_id, plus end of text). */
  eos: number[];
}

/**
 * The fill-in-the-middle order a model was trained on: PSM puts the text before the cursor
 * first, SPM the text after it (so a keystroke at the cursor extends the cached prefix).
 */
export type FimOrder = 'psm' | 'spm';

export interface Tokenizer {
  encode(text: string): number[];
  decode(ids: number[]): string;
  readonly special: SpecialTokens;
  /** tokenizer_config.json's "fim_order" ("spm" for Heed's own models), PSM when absent. */
  readonly fimOrder: FimOrder;
  /**
   * tokenizer_config.json's "chat_template" (a Jinja template) when the model has one: an
   * instruct model. Base code models have none and are prompted as code.
   */
  readonly chatTemplate?: string;
}

/** One pass's attention mass per full head of a head-aware sequence, per cached position (Sequence.appendWithMass). */
export interface MassPerHead {
  byHead: true;
  /**
   * Per layer that has full heads: their original KV head numbers, and per head the mass on
   * each cached position, sums[i * capacity + p] (the pass's own positions included).
   */
  layers: Array<{ layer: number; kvHeads: number[]; capacity: number; sums: Float32Array }>;
}

/** Passes' mass on the positions before each pass, summed over every full head of every layer: sums[p] for p < capacity (Sequence.appendWithMassSum). */
export interface MassSummed {
  byHead: false;
  /** How many passes the sums hold. */
  steps: number;
  /** The heads summed: per layer that has full heads, their original KV head numbers (the sequence's own list, read-only). */
  heads: ReadonlyArray<{ readonly layer: number; readonly kvHeads: readonly number[] }>;
  capacity: number;
  sums: Float32Array;
}

/**
 * One sequence's state over a loaded model: its tokens and its KV cache, owned by JS.
 * Not thread-safe; one caller at a time.
 */
export interface Sequence {
  /** Tokens processed so far; the next token is at position `length`. */
  readonly length: number;
  /**
   * Runs the model over `tokenIds` appended at positions [length, length + n) and returns
   * the logits of the last of them: Float32Array [vocabSize]. Synchronous: one or more
   * forward passes, each of at most the model's chunk size.
   */
  append(tokenIds: ArrayLike<number>): Float32Array;
  /**
   * append() for at most chunkTokens tokens (one forward pass) that also returns each
   * layer's queries after RoPE: queries[layer] is Float32Array [numHeads, n, headDim].
   * With keys(), this is what attention over the context is computed from.
   */
  appendWithQueries(tokenIds: ArrayLike<number>): { logits: Float32Array; queries: Float32Array[] };
  /**
   * Head-aware sequences only, fp32 or int8 KV (absent otherwise): append() for one pass of at most
   * `maxMassTokens` tokens that also gives the attention mass on the full heads of its last
   * `countedTokens` tokens' queries (the probabilities squared and summed over each KV
   * head's query heads, evidence.ts), from the scores the pass computes anyway, per head.
   */
  appendWithMass?(tokenIds: ArrayLike<number>, countedTokens?: number): { logits: Float32Array; mass: MassPerHead };
  /**
   * The same (present with appendWithMass) summed over every full head of every layer and
   * added to `sums` (the previous pass's result; none: zeros), on the positions before the
   * pass only: a decode step's running sum (its own token is a generated one, never
   * evidence), one row however many layers have full heads.
   */
  appendWithMassSum?(tokenIds: ArrayLike<number>, sums?: MassSummed, countedTokens?: number): { logits: Float32Array; mass: MassSummed };
  /** The most tokens appendWithMass and appendWithMassSum take in one pass (longer passes attend through the flash kernel, which gives no mass); 0 without them. */
  readonly maxMassTokens: number;
  /** Zero-copy view of one KV head's cached keys after RoPE: [length, headDim]. Read-only; valid until the next append. */
  keys(layer: number, kvHead: number): Float32Array;
  /** Zero-copy view of one KV head's cached values: [length, headDim]. Read-only; valid until the next append. */
  values(layer: number, kvHead: number): Float32Array;
  /**
   * Forgets every token at position >= `length` (half-open [length, this.length)). An int8
   * cache cut inside a quantized block cuts at the block's start instead, since the block's
   * exact rows are gone: `length` afterwards says where the sequence stands.
   */
  truncate(length: number): void;
  /** Bytes held by this sequence's KV cache, exactly. */
  readonly kvBytes: number;
  /** A copy of the KV of positions [from, to), for the prefix cache (kvSegment.ts). */
  exportSegment(from: number, to: number): KvSegment;
  /** Continues the sequence with the KV of a segment's offsets [from, to) (all of it by default); their first position must be `length`. */
  importSegment(segment: KvSegment, from?: number, to?: number): void;
  /** Sink and window positions the streaming heads lack at the current length (head-aware; 0 when dense). */
  readonly windowGapTokens: number;
  /** The streaming heads' window W; 0 when dense. */
  readonly windowTokens: number;
  /** The heads per layer its segments hold (a segment imports only into a sequence of the same). */
  readonly segmentHeads: KvSegmentHeads;
}

/** Which KV cache to build, as asked (a setting, a CLI flag). */
export type KvRequest = (
  | { policy: 'dense' }
  | {
      policy: 'head-aware';
      /** The head pattern; the model folder's head-pattern.json when absent. */
      patternFile?: string;
      /** Share of KV heads kept in full, chosen by the pattern's scores; the pattern's own choice when absent. */
      ratio?: number;
      /** Instead of a ratio: keep in full every head whose pattern score is at least this. */
      threshold?: number;
      sinks?: number;
      window?: number;
    }
) & {
  /** Keep the full heads' KV as int8 (kvCacheInt8.ts), in blocks of int8Block positions (64 when absent). */
  int8?: boolean;
  int8Block?: number;
};

/** The KV cache a loaded model's sequences use (dense when a head-aware request could not be met). */
export type KvPolicy = (
  | { policy: 'dense'; /** Why a head-aware request was not met, when one was made. */ refused?: string }
  | {
      policy: 'head-aware';
      patternFile: string;
      retrieval: number[][];
      /** Share of KV heads kept in full (as chosen by a score threshold when one was given). */
      retrievalRatio: number;
      scoreThreshold?: number;
      sinks: number;
      window: number;
    }
) & {
  /** The full heads' KV is int8 in blocks of this many positions; fp32 when absent. */
  int8Block?: number;
};

export interface LoadedModel {
  readonly name: string; // the model folder's base name
  readonly config: DecoderConfig;
  readonly kv: KvPolicy;
  /** checkpoint/modelHash.ts modelSha256 of the folder, computed once on first use (head patterns name their model by it). */
  checkpointSha256(): string;
  readonly tokenizer: Tokenizer;
  /** Longest run of tokens one forward pass takes; append() splits longer inputs. */
  readonly chunkTokens: number;
  newSequence(): Sequence;
  dispose(): Promise<void>;
}

/** A problem with a file, naming the file and what is wrong with it. */
export class FileProblemError extends Error {
  constructor(
    readonly file: string,
    readonly problem: string,
  ) {
    super(`${file}: ${problem}`);
  }
}

/** A problem with a model folder's file. */
export class ModelLoadError extends FileProblemError {
  override name = 'ModelLoadError';
}
