// Loads a Hugging Face checkpoint folder into a runnable model: validates the files, builds
// the decoder graph, creates the ORT session, and hands out Sequences whose KV caches JS owns.
import { existsSync, mkdirSync, rmSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { DecoderConfig, LoadedModel, ModelLoadError, Sequence, Tokenizer } from './types';
import { readDecoderConfig } from './checkpoint/config';
import { readCheckpointWeights, TensorF32 } from './checkpoint/safetensors';
import { loadTokenizer } from './tokenizer';
import { verifyChecksums } from './checkpoint/checksums';
import { buildDecoderGraph, causalMask, expectedWeightShapes, graphNames, type WeightFormat } from './graph/decoderGraph';
import { ropeTables } from './graph/rope';
import { createSession, FeedTensor, OrtSession } from './runtime/ortRuntime';
import { findCachedGraph, graphCacheEntryName, graphCacheKey, pruneGraphCache, touchGraphCacheEntry, writeCachedGraph } from './graphCache';
import { KvCache } from './kvCache';

export interface LoadOptions {
  threads?: number; // ORT intra-op threads (2 by default)
  chunkTokens?: number; // longest forward pass; 256 keeps prefill's score matrices small
  /** fp32 (default) or int4 linear weights (graph/decoderGraph.ts WeightFormat). */
  weightFormat?: WeightFormat;
  /** Folder for built graphs (graphCache.ts); without it the graph is built in memory on every load. */
  graphCacheDir?: string;
  log?: (line: string) => void;
}

const defaultChunkTokens = 256;

export async function loadModel(dir: string, options: LoadOptions = {}): Promise<LoadedModel> {
  const folder = resolve(dir);
  if (!existsSync(folder)) throw new ModelLoadError(folder, 'model folder does not exist');
  const chunkTokens = options.chunkTokens ?? defaultChunkTokens;
  if (!Number.isInteger(chunkTokens) || chunkTokens < 1) throw new RangeError(`chunkTokens must be a positive integer, got ${chunkTokens}`);

  const verified = verifyChecksums(folder);
  const config = readDecoderConfig(folder);
  if (!existsSync(join(folder, 'tokenizer.json'))) throw new ModelLoadError('tokenizer.json', 'missing');
  const tokenizer = loadTokenizer(folder);
  const session = options.graphCacheDir ? cachedSession(folder, config, options.graphCacheDir, options, verified) : builtSession(folder, config, options);
  return new OrtModel(basename(folder), config, tokenizer, chunkTokens, session);
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
function builtSession(folder: string, config: DecoderConfig, options: LoadOptions, weights = readWeights(folder, config)): OrtSession {
  return createSession(buildDecoderGraph(config, weights, undefined, options.weightFormat), { threads: options.threads }, defaultFetch(config));
}

/**
 * The graph from the disk cache, built into it first when missing or not verified. A cache
 * that cannot be written (read-only, full) or a cached graph ORT refuses falls back to a
 * build in memory, with a log line.
 */
function cachedSession(folder: string, config: DecoderConfig, cacheDir: string, options: LoadOptions, knownSha256: Map<string, string>): OrtSession {
  const log = options.log ?? (() => undefined);
  const key = graphCacheEntryName(folder, graphCacheKey(folder, __filename, { weightFormat: options.weightFormat ?? 'fp32' }, knownSha256));
  let path = findCachedGraph(cacheDir, key, log);
  if (!path) {
    const weights = readWeights(folder, config);
    try {
      mkdirSync(cacheDir, { recursive: true });
      path = writeCachedGraph(cacheDir, key, (sink) => buildDecoderGraph(config, weights, sink, options.weightFormat));
      log(`Built the graph of ${basename(folder)} into ${path}.`);
    } catch (error) {
      log(`Could not write the graph cache in ${cacheDir} (${(error as Error).message}); building the graph in memory.`);
      return builtSession(folder, config, options, weights);
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
    return builtSession(folder, config, options);
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
  ) {}

  newSequence(): Sequence {
    return new OrtSequence(this.config, this.chunkTokens, this.session);
  }

  async dispose(): Promise<void> {
    this.session.dispose();
  }
}

class OrtSequence implements Sequence {
  private readonly cache: KvCache;

  constructor(
    private readonly config: DecoderConfig,
    private readonly chunkTokens: number,
    private readonly session: OrtSession,
  ) {
    this.cache = new KvCache({ numLayers: config.numLayers, numKvHeads: config.numKvHeads, headDim: config.headDim, maxPositions: config.maxPositions });
  }

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
    return { logits: out[graphNames.logits], queries: queryNames.map((name) => out[name]) };
  }

  keys(layer: number, kvHead: number): Float32Array {
    return this.cache.pastKeys(layer, kvHead);
  }

  values(layer: number, kvHead: number): Float32Array {
    return this.cache.pastValues(layer, kvHead);
  }

  truncate(length: number): void {
    this.cache.truncate(length);
  }

  /** One forward pass over tokenIds[start, start + count) at positions [cache.length, …). */
  private forward(tokenIds: ArrayLike<number>, start: number, count: number, extraFetch: string[] = []): Record<string, Float32Array> {
    const { numLayers, numKvHeads, headDim } = this.config;
    const pastLen = this.cache.length;
    // Grown per pass, not for a whole append: attention runs over the whole capacity (the
    // unfilled tail masked), so a prefill's early chunks must not see its final size.
    this.cache.reserve(pastLen + count);
    const capacity = this.cache.capacity;
    const ids = new BigInt64Array(count);
    for (let i = 0; i < count; i++) ids[i] = BigInt(tokenIds[start + i]);
    const { cos, sin } = ropeTables(this.config, pastLen, count);
    const feeds: Record<string, FeedTensor> = {
      [graphNames.inputIds]: { type: 'int64', data: ids, dims: [count] },
      [graphNames.ropeCos]: { type: 'float32', data: cos, dims: [count, headDim / 2] },
      [graphNames.ropeSin]: { type: 'float32', data: sin, dims: [count, headDim / 2] },
      [graphNames.attentionMask]: { type: 'float32', data: causalMask(pastLen, capacity, count), dims: [count, capacity + count] },
    };
    for (let l = 0; l < numLayers; l++) {
      feeds[graphNames.pastKey(l)] = { type: 'float32', data: this.cache.layerKeys(l), dims: [numKvHeads, capacity, headDim] };
      feeds[graphNames.pastValue(l)] = { type: 'float32', data: this.cache.layerValues(l), dims: [numKvHeads, capacity, headDim] };
    }
    const out = this.session.run(feeds, extraFetch.length > 0 ? [...this.session.defaultFetch, ...extraFetch] : undefined);
    for (let l = 0; l < numLayers; l++) this.cache.appendLayer(l, out[graphNames.newKey(l)], out[graphNames.newValue(l)], count);
    this.cache.commit(count);
    return out;
  }
}
