// Loads a Hugging Face checkpoint folder into a runnable model: validates the files, builds
// the decoder graph, creates the ORT session, and hands out Sequences whose KV caches JS owns.
import { existsSync, mkdirSync, rmSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import type { KvSegment, KvSegmentHeads } from './kvSegment';
import { DecoderConfig, LoadedModel, ModelLoadError, Sequence, type MassPerHead, type MassSummed, Tokenizer } from './types';
import { readDecoderConfig } from './checkpoint/config';
import { readCheckpointWeights, TensorF32 } from './checkpoint/safetensors';
import { loadTokenizer } from './tokenizer';
import { verifyChecksums } from './checkpoint/checksums';
import { modelSha256 } from './checkpoint/modelHash';
import { buildDecoderGraph, defaultFlashPast, expectedWeightShapes, graphNames, newTokensMask, pastMaskRow, type FlashPastThresholds, type GraphOptions, type Int4Compute, type WeightFormat, weightsIdentity } from './graph/decoderGraph';
import { ropeTables } from './graph/rope';
import { createSession, FeedTensor, OrtSession } from './runtime/ortRuntime';
import { findCachedGraph, graphCacheEntryName, graphCacheKey, pruneGraphCache, touchGraphCacheEntry, writeCachedGraph } from './graphCache';
import { regrowHeads } from './kvCache';
import { DenseKvStore, HeadAwareKvStore, type KvStore } from './kvStore';
import { headLayout, permuteHeadWeights, type HeadLayout } from './graph/headLayout';
import { resolveKvPolicy } from './kvPolicy';
import type { KvPolicy, KvRequest } from './types';

export interface LoadOptions {
  threads?: number; // ORT intra-op threads (2 by default)
  chunkTokens?: number; // longest forward pass; by default defaultChunkTokens(…)
  /** fp32 (default), int8 or int4 linear weights (graph/decoderGraph.ts WeightFormat). */
  weightFormat?: WeightFormat;
  /** What int4 products compute in (graph/decoderGraph.ts Int4Compute; int8 when absent). */
  int4Compute?: Int4Compute;
  /** Folder for built graphs (graphCache.ts); without it the graph is built in memory on every load. */
  graphCacheDir?: string;
  /** The KV cache to build (dense by default); see kvPolicy.ts for what happens when a head-aware one cannot be. */
  kv?: KvRequest;
  /** When passes attend to an fp32 past with the flash kernel (decoderGraph.ts defaultFlashPast when absent); `false`: never (for comparisons). */
  flashPast?: FlashPastThresholds | false;
  log?: (line: string) => void;
}

/**
 * The longest forward pass when not told: 512 tokens where long passes attend to the past
 * with the flash kernel (decoderGraph.ts), which writes no score matrix and copies the past
 * once per pass, so longer passes copy less (a dense 16k prefill measured 1.12× faster than
 * with 256, 2k and 8k no slower; dense+int8 at 16k 607-645 against 579-598 tokens/s); 256
 * where every pass writes scores over the whole past (the flash path turned off), to keep
 * them small.
 */
function defaultChunkTokens(flashPast: LoadOptions['flashPast']): number {
  return flashPast === false ? 256 : 512;
}

export async function loadModel(dir: string, options: LoadOptions = {}): Promise<LoadedModel> {
  const folder = resolve(dir);
  if (!existsSync(folder)) throw new ModelLoadError(folder, 'model folder does not exist');
  if (options.chunkTokens !== undefined && (!Number.isInteger(options.chunkTokens) || options.chunkTokens < 1)) {
    throw new RangeError(`chunkTokens must be a positive integer, got ${options.chunkTokens}`);
  }

  const verified = verifyChecksums(folder);
  const config = readDecoderConfig(folder);
  if (!existsSync(join(folder, 'tokenizer.json'))) throw new ModelLoadError('tokenizer.json', 'missing');
  const tokenizer = loadTokenizer(folder);
  let checkpointHash: string | undefined;
  const checkpointSha256 = () => (checkpointHash ??= modelSha256(folder, verified));
  const kv = resolveKvPolicy(folder, config, options.kv, checkpointSha256, options.log ?? (() => undefined));
  const layout = kv.policy === 'head-aware' ? headLayout(kv.retrieval, config.numKvHeads) : undefined;
  const chunkTokens = options.chunkTokens ?? defaultChunkTokens(options.flashPast);
  const graph: GraphPlan = { config, weightFormat: options.weightFormat, int4Compute: options.int4Compute, layout, int8Block: kv.int8Block, flashPast: options.flashPast };
  const session = options.graphCacheDir ? cachedSession(folder, graph, options.graphCacheDir, options, checkpointSha256()) : builtSession(folder, graph, options);
  // A pass computes the attention mass only on its masked path: shorter than the flash path's passes.
  const flash = options.flashPast === undefined ? defaultFlashPast : options.flashPast;
  const maxMassTokens = flash === false ? chunkTokens : Math.min(chunkTokens, flash.minTokens - 1);
  return new OrtModel(basename(folder), config, tokenizer, chunkTokens, session, kv, layout, checkpointSha256, maxMassTokens);
}

/** What the graph is built from besides the weights. */
interface GraphPlan extends GraphOptions {
  config: DecoderConfig;
}

function buildGraph(plan: GraphPlan, weights: Map<string, TensorF32>, sink?: Parameters<typeof buildDecoderGraph>[2]): Uint8Array {
  const ordered = plan.layout ? permuteHeadWeights(plan.config, weights, plan.layout) : weights;
  return buildDecoderGraph(plan.config, ordered, sink, plan);
}

/** Queries are fetched only on request (appendWithQueries); a default run copies out the logits and the new keys and values. */
function defaultFetch(config: DecoderConfig): string[] {
  const fetch = [graphNames.logits];
  for (let l = 0; l < config.numLayers; l++) fetch.push(graphNames.newKey(l), graphNames.newValue(l));
  return fetch;
}

function readWeights(folder: string, config: DecoderConfig): Map<string, TensorF32> {
  const weights = readCheckpointWeights(folder);
  checkWeights(config, weights);
  return weights;
}

/** Reads the weights and builds the graph in memory (the session keeps its own copy). */
function builtSession(folder: string, plan: GraphPlan, options: LoadOptions, weights = readWeights(folder, plan.config)): OrtSession {
  return createSession(buildGraph(plan, weights), { threads: options.threads }, defaultFetch(plan.config));
}

/**
 * The graph from the disk cache, built into it first when missing or not verified. A cache
 * that cannot be written (read-only, full) or a cached graph ORT refuses falls back to a
 * build in memory, with a log line.
 */
function cachedSession(folder: string, plan: GraphPlan, cacheDir: string, options: LoadOptions, checkpointSha256: string): OrtSession {
  const log = options.log ?? (() => undefined);
  const { config } = plan;
  const graphOptions = {
    weights: weightsIdentity(options.weightFormat ?? 'fp32', options.int4Compute),
    ...(plan.layout ? { headOrder: plan.layout.order, retrievalCount: plan.layout.retrievalCount } : {}),
    ...(plan.int8Block ? { int8Block: plan.int8Block } : {}),
    ...(plan.flashPast !== undefined ? { flashPast: plan.flashPast } : {}),
  };
  const key = graphCacheEntryName(folder, graphCacheKey(checkpointSha256, __filename, graphOptions));
  let path = findCachedGraph(cacheDir, key, log);
  if (!path) {
    const weights = readWeights(folder, config);
    try {
      mkdirSync(cacheDir, { recursive: true });
      path = writeCachedGraph(cacheDir, key, (sink) => buildGraph(plan, weights, sink));
      log(`Built the graph of ${basename(folder)} into ${path}.`);
    } catch (error) {
      log(`Could not write the graph cache in ${cacheDir} (${(error as Error).message}); building the graph in memory.`);
      return builtSession(folder, plan, options, weights);
    }
  }
  try {
    const session = createSession(path, { threads: options.threads }, defaultFetch(config));
    touchGraphCacheEntry(path);
    pruneGraphCache(cacheDir, folder);
    return session;
  } catch (error) {
    log(`The cached graph ${path} did not load (${(error as Error).message}); rebuilding it in memory.`);
    rmSync(join(path, '..'), { recursive: true, force: true });
    return builtSession(folder, plan, options);
  }
}

function checkWeights(config: DecoderConfig, weights: Map<string, TensorF32>): void {
  for (const [name, shape] of expectedWeightShapes(config)) {
    const tensor = weights.get(name);
    if (!tensor) throw new ModelLoadError('model.safetensors', `tensor ${name} is missing`);
    if (tensor.shape.length !== shape.length || tensor.shape.some((d, i) => d !== shape[i])) {
      throw new ModelLoadError('model.safetensors', `tensor ${name} has shape [${tensor.shape}] but config.json implies [${shape}]`);
    }
  }
}

class OrtModel implements LoadedModel {
  constructor(
    readonly name: string,
    readonly config: DecoderConfig,
    readonly tokenizer: Tokenizer,
    readonly chunkTokens: number,
    private readonly session: OrtSession,
    readonly kv: KvPolicy,
    private readonly layout: HeadLayout | undefined,
    readonly checkpointSha256: () => string,
    private readonly maxMassTokens: number,
  ) {}

  newSequence(): Sequence {
    const { numLayers, numKvHeads, headDim, maxPositions } = this.config;
    const shape = { numLayers, numKvHeads, headDim, maxPositions };
    const { int8Block } = this.kv;
    const store: KvStore =
      this.kv.policy === 'head-aware' && this.layout
        ? new HeadAwareKvStore(shape, this.layout, { sinks: this.kv.sinks, window: this.kv.window }, int8Block)
        : new DenseKvStore(shape, int8Block);
    return new OrtSequence(this.config, this.chunkTokens, this.session, store, this.layout, this.maxMassTokens);
  }

  async dispose(): Promise<void> {
    this.session.dispose();
  }
}

const noFloats = new Float32Array(0);

/**
 * What a pass asked for attention mass: its last `countedTokens` tokens' rows, per head
 * (each layer's outputs), or summed over every full head and added to `sums` (null: zeros).
 */
type PassMass = { countedTokens: number; byHead: true } | { countedTokens: number; byHead: false; sums: MassSummed | null };
/** mass_by_head: 1, the mass per full head; 0, summed over each layer's full heads. */
const massPerHead = BigInt64Array.of(1n);
const massSummed = BigInt64Array.of(0n);

/** mass_rows of a pass of `count` tokens: the full heads' query rows, [group, count], 1 for the last `countedTokens` tokens. */
export function massRowWeights(group: number, count: number, countedTokens: number): Float32Array {
  const weights = new Float32Array(group * count);
  for (let g = 0; g < group; g++) weights.fill(1, g * count + count - countedTokens, (g + 1) * count);
  return weights;
}
/** mass_rows of a pass that asks for no attention mass: every pass but evidence's. */
const noMassRows: Float32Array = new Float32Array(0);
/** What appendWithMassSum fetches besides the default. */
const sumFetch = [graphNames.massSum];

/** Adds a pass's mass on its own tokens (`own`, [rows, 1, n]) to `sums` ([rows, 1, capacity]) at their positions [first, first + n). */
function addOwnMass(sums: Float32Array, capacity: number, own: Float32Array, n: number, first: number): void {
  const rows = own.length / n;
  for (let h = 0; h < rows; h++) for (let j = 0; j < n; j++) sums[h * capacity + first + j] += own[h * n + j];
}

class OrtSequence implements Sequence {
  constructor(
    private readonly config: DecoderConfig,
    private readonly chunkTokens: number,
    private readonly session: OrtSession,
    private readonly cache: KvStore,
    layout: HeadLayout | undefined,
    maxMassTokens: number,
  ) {
    this.feedsPastLength = session.inputNames.includes(graphNames.pastLength);
    this.feedsPastMask = session.inputNames.includes(graphNames.pastMask);
    this.feedsMassRows = session.inputNames.includes(graphNames.massRows);
    this.group = config.numHeads / config.numKvHeads;
    this.stepMassRows = massRowWeights(this.group, 1, 1);
    this.maxMassTokens = this.feedsMassRows && layout ? maxMassTokens : 0;
    if (this.feedsMassRows && layout) {
      for (let l = 0; l < config.numLayers; l++) {
        if (session.outputNames.includes(graphNames.layerMass(l))) this.massLayers.push({ layer: l, kvHeads: layout.order[l].slice(0, layout.retrievalCount[l]) });
      }
      this.perHeadFetch = this.massLayers.flatMap(({ layer }) => [graphNames.layerMass(layer), graphNames.layerOwnMass(layer)]);
    } else {
      // Only head-aware graphs carry the mass (decoderGraph.ts); others compute it from queries and keys.
      this.appendWithMass = undefined;
      this.appendWithMassSum = undefined;
    }
  }

  /** Graphs with the flash path (decoderGraph.ts) take the past's filled length. */
  private readonly feedsPastLength: boolean;
  /** Graphs with an fp32 past take its mask (graphs whose every past is int8 do not). */
  private readonly feedsPastMask: boolean;
  /** new_mask of the last pass's length, kept: the inputs are only read, and most prefill passes are a full chunk. */
  private newMask: Float32Array = new Float32Array(0);
  /** Head-aware graphs take mass_rows, and give the full heads' attention mass of the layers listed. */
  private readonly feedsMassRows: boolean;
  readonly maxMassTokens: number;
  /** The layers with full heads and their original KV head numbers: the mass's heads. */
  private readonly massLayers: Array<{ layer: number; kvHeads: number[] }> = [];
  /** What appendWithMass fetches besides the default: each mass layer's mass on the past and on the pass's tokens. */
  private readonly perHeadFetch: string[] = [];
  /** Query heads per KV head; a decode step's mass_rows: each of them one row, counted. */
  private readonly group: number;
  private readonly stepMassRows: Float32Array;

  get length(): number {
    return this.cache.length;
  }

  get kvBytes(): number {
    return this.cache.bytes;
  }

  append(tokenIds: ArrayLike<number>): Float32Array {
    const n = tokenIds.length;
    if (n === 0) throw new RangeError('append() needs at least one token');
    this.checkAppend(tokenIds);
    let logits: Float32Array | undefined;
    for (let start = 0; start < n; start += this.chunkTokens) {
      const count = Math.min(this.chunkTokens, n - start);
      logits = this.forward(tokenIds, start, count)[graphNames.logits];
    }
    return logits!;
  }

  /** Validates ids and the length the append would reach. */
  private checkAppend(tokenIds: ArrayLike<number>): void {
    const n = tokenIds.length;
    const end = this.cache.length + n;
    if (end > this.config.maxPositions) {
      throw new RangeError(`sequence of ${end} tokens exceeds the model's max_position_embeddings (${this.config.maxPositions})`);
    }
    for (let i = 0; i < n; i++) {
      const id = tokenIds[i];
      if (!Number.isInteger(id) || id < 0 || id >= this.config.vocabSize) throw new RangeError(`token id ${id} outside [0, ${this.config.vocabSize})`);
    }
  }

  appendWithQueries(tokenIds: ArrayLike<number>): { logits: Float32Array; queries: Float32Array[] } {
    const n = tokenIds.length;
    if (n === 0 || n > this.chunkTokens) throw new RangeError(`appendWithQueries() takes 1 to ${this.chunkTokens} tokens, got ${n}`);
    this.checkAppend(tokenIds);
    const queryNames = Array.from({ length: this.config.numLayers }, (_, l) => graphNames.query(l));
    const out = this.forward(tokenIds, 0, n, queryNames);
    return { logits: out[graphNames.logits], queries: queryNames.map((name, l) => this.cache.originalQueryOrder(l, out[name], n)) };
  }

  appendWithMass?(tokenIds: ArrayLike<number>, countedTokens = 1): { logits: Float32Array; mass: MassPerHead } {
    const n = this.checkMassPass(tokenIds, countedTokens, 'appendWithMass');
    const first = this.cache.length; // the pass's own positions: [first, first + n), within the past's capacity
    const out = this.forward(tokenIds, 0, n, this.perHeadFetch, { countedTokens, byHead: true });
    const layers = this.massLayers.map(({ layer, kvHeads }) => {
      const sums = out[graphNames.layerMass(layer)]; // [heads, 1, capacity]
      const capacity = sums.length / kvHeads.length;
      addOwnMass(sums, capacity, out[graphNames.layerOwnMass(layer)], n, first); // [heads, 1, n]
      return { layer, kvHeads, capacity, sums };
    });
    return { logits: out[graphNames.logits], mass: { byHead: true, layers } };
  }

  appendWithMassSum?(tokenIds: ArrayLike<number>, sums?: MassSummed, countedTokens = 1): { logits: Float32Array; mass: MassSummed } {
    const n = this.checkMassPass(tokenIds, countedTokens, 'appendWithMassSum');
    const out = this.forward(tokenIds, 0, n, sumFetch, { countedTokens, byHead: false, sums: sums ?? null });
    const summed = out[graphNames.massSum]; // [1, 1, capacity]
    return { logits: out[graphNames.logits], mass: { byHead: false, steps: (sums?.steps ?? 0) + 1, heads: this.massLayers, capacity: summed.length, sums: summed } };
  }

  /** Validates a mass pass's tokens and counted rows; returns the tokens' count. */
  private checkMassPass(tokenIds: ArrayLike<number>, countedTokens: number, method: string): number {
    const n = tokenIds.length;
    if (n === 0 || n > this.maxMassTokens) throw new RangeError(`${method}() takes 1 to ${this.maxMassTokens} tokens, got ${n}`);
    if (!Number.isInteger(countedTokens) || countedTokens < 1 || countedTokens > n) throw new RangeError(`${method}() counts 1 to ${n} tokens' rows, got ${countedTokens}`);
    this.checkAppend(tokenIds);
    return n;
  }

  /** The mass_rows, mass_by_head and mass_sum_in feeds: nothing asked (no rows, an empty sum), or the counted tokens' rows and, summed over the heads, the sums so far (zeros when none) at the past's capacity. */
  private feedMass(feeds: Record<string, FeedTensor>, capacity: number, count: number, mass: PassMass | undefined): void {
    let rows: Float32Array = noMassRows;
    if (mass) rows = count === 1 ? this.stepMassRows : massRowWeights(this.group, count, mass.countedTokens);
    feeds[graphNames.massRows] = { type: 'float32', data: rows, dims: [rows.length, 1] };
    feeds[graphNames.massByHead] = { type: 'int64', data: mass?.byHead === false ? massSummed : massPerHead, dims: [1] };
    let data: Float32Array = noFloats;
    if (mass && !mass.byHead) {
      // Sums from zeros, or moved to a capacity the past grew to in the last pass.
      const held = mass.sums;
      data = held && held.capacity === capacity ? held.sums : regrowHeads(held?.sums, 1, held?.capacity ?? 0, capacity, Math.min(held?.capacity ?? 0, capacity), 1, Float32Array);
    }
    feeds[graphNames.massSumIn] = { type: 'float32', data, dims: [1, 1, data.length] };
  }

  keys(layer: number, kvHead: number): Float32Array {
    return this.cache.keys(layer, kvHead);
  }

  values(layer: number, kvHead: number): Float32Array {
    return this.cache.values(layer, kvHead);
  }

  truncate(length: number): void {
    this.cache.truncate(length);
  }

  exportSegment(from: number, to: number): KvSegment {
    return this.cache.exportSegment(from, to);
  }

  importSegment(segment: KvSegment, from = 0, to = segment.length): void {
    if (segment.start + to > this.config.maxPositions) throw new RangeError(`KV segment ends at ${segment.start + to}, past the model's ${this.config.maxPositions} positions`);
    this.cache.importSegment(segment, from, to);
  }

  get windowGapTokens(): number {
    return this.cache.windowGapTokens;
  }

  get windowTokens(): number {
    return this.cache.windowTokens;
  }

  get segmentHeads(): KvSegmentHeads {
    return this.cache.segmentHeads;
  }

  /**
   * One forward pass over tokenIds[start, start + count) at positions [cache.length, …).
   * `mass`: absent, no attention mass; else the counted tokens, per head or summed into the sums to continue (appendWithMass, appendWithMassSum).
   */
  private forward(tokenIds: ArrayLike<number>, start: number, count: number, extraFetch: string[] = [], mass?: PassMass): Record<string, Float32Array> {
    const { headDim } = this.config;
    const pastLen = this.cache.length;
    const feeds: Record<string, FeedTensor> = {};
    const { capacity, buffered } = this.cache.feedPast(count, feeds);
    const ids = new BigInt64Array(count);
    for (let i = 0; i < count; i++) ids[i] = BigInt(tokenIds[start + i]);
    const { cos, sin } = ropeTables(this.config, pastLen, count);
    feeds[graphNames.inputIds] = { type: 'int64', data: ids, dims: [count] };
    feeds[graphNames.ropeCos] = { type: 'float32', data: cos, dims: [count, headDim / 2] };
    feeds[graphNames.ropeSin] = { type: 'float32', data: sin, dims: [count, headDim / 2] };
    if (this.newMask.length !== count * count) this.newMask = newTokensMask(count); // the same for every pass of this length
    feeds[graphNames.newMask] = { type: 'float32', data: this.newMask, dims: [count, count] };
    if (this.feedsPastMask) feeds[graphNames.pastMask] = { type: 'float32', data: pastMaskRow(buffered, capacity), dims: [1, capacity] };
    if (this.feedsPastLength) feeds[graphNames.pastLength] = { type: 'int64', data: BigInt64Array.of(BigInt(buffered)), dims: [1] };
    if (this.feedsMassRows) this.feedMass(feeds, capacity, count, mass);
    const out = this.session.run(feeds, extraFetch.length > 0 ? [...this.session.defaultFetch, ...extraFetch] : undefined);
    this.cache.append(out, count);
    return out;
  }
}
