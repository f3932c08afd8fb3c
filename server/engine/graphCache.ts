// The built decoder graph, cached on disk: `graph.onnx` with its weights in `weights.bin`
// (ONNX external data, so models past protobuf's 2 GB limit work and no multi-gigabyte
// protobuf is ever built in memory), keyed by a hash of the checkpoint's files and of the
// engine code that built it. A cache entry is verified against its manifest's checksums on
// every load; a stale, partial or corrupt entry is rebuilt, never trusted.
//
//   <cacheDir>/<key>/graph.onnx      the graph, large initializers external
//   <cacheDir>/<key>/weights.bin     their bytes, each at a 4096-aligned offset
//   <cacheDir>/<key>/manifest.json   { format, key, files: { name: { bytes, sha256 } } }
// An entry is written into `<key>.tmp-<pid>` and renamed into place when complete.

import { createHash } from 'node:crypto';
import { closeSync, existsSync, utimesSync, mkdirSync, openSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import type { ExternalDataSink } from './onnx/graphBuilder';
import { fileSha256 } from './checkpoint/modelHash';

const manifestFormat = 1;
const graphFile = 'graph.onnx';
const weightsFile = 'weights.bin';
const manifestFile = 'manifest.json';
const alignmentBytes = 4096; // page-aligned data lets ORT map the file instead of copying it


/**
 * The cache key: the checkpoint (`checkpointSha256`, checkpoint/modelHash.ts: its config
 * and weight files by content), the engine code that builds graphs (`builderFile`, the
 * running bundle), and the options that change the graph.
 */
export function graphCacheKey(checkpointSha256: string, builderFile: string, options: Record<string, unknown>): string {
  const hash = createHash('sha256');
  hash.update(`heed-graph ${manifestFormat}\n${JSON.stringify(options)}\n`);
  hash.update(`model ${checkpointSha256}\n`);
  hash.update(`builder ${fileSha256(builderFile)}\n`);
  return hash.digest('hex').slice(0, 32);
}

interface Manifest {
  format: number;
  key: string;
  files: Record<string, { bytes: number; sha256: string }>;
}

/** The path of a verified cached graph for `key`, or undefined (a bad entry is removed). */
export function findCachedGraph(cacheDir: string, key: string, log: (line: string) => void): string | undefined {
  const entry = join(cacheDir, key);
  if (!existsSync(entry)) return undefined;
  try {
    const manifest = JSON.parse(readFileSync(join(entry, manifestFile), 'utf8')) as Manifest;
    if (manifest.format !== manifestFormat || manifest.key !== key) throw new Error('manifest is for another format or key');
    for (const name of [graphFile, weightsFile]) {
      const expected = manifest.files?.[name];
      const path = join(entry, name);
      if (!expected || !existsSync(path) || statSync(path).size !== expected.bytes) throw new Error(`${name} is missing or has the wrong size`);
      if (fileSha256(path) !== expected.sha256) throw new Error(`${name} does not match its checksum`);
    }
    return join(entry, graphFile);
  } catch (error) {
    log(`Discarding the cached graph in ${entry}: ${(error as Error).message}`);
    rmSync(entry, { recursive: true, force: true });
    return undefined;
  }
}

/** Appends initializers to weights.bin at aligned offsets. */
class FileSink implements ExternalDataSink {
  readonly location = weightsFile;
  private offset = 0;
  private readonly hash = createHash('sha256');
  private static readonly padding = new Uint8Array(alignmentBytes);

  constructor(private readonly fd: number) {}

  write(raw: Uint8Array): { offset: number; length: number } {
    const pad = (alignmentBytes - (this.offset % alignmentBytes)) % alignmentBytes;
    if (pad > 0) this.append(FileSink.padding.subarray(0, pad));
    const offset = this.offset;
    this.append(raw);
    return { offset, length: raw.byteLength };
  }

  private append(bytes: Uint8Array): void {
    for (let done = 0; done < bytes.byteLength; ) done += writeSync(this.fd, bytes, done, bytes.byteLength - done);
    this.hash.update(bytes);
    this.offset += bytes.byteLength;
  }

  finish(): { bytes: number; sha256: string } {
    return { bytes: this.offset, sha256: this.hash.digest('hex') };
  }
}

/**
 * Builds a graph into a new cache entry with `build(sink)` (which returns the graph's
 * bytes) and returns the graph's path. On any failure (a full disk, a read-only folder)
 * the partial entry is removed and the error is thrown for the caller to fall back on.
 */
export function writeCachedGraph(cacheDir: string, key: string, build: (sink: ExternalDataSink) => Uint8Array): string {
  const entry = join(cacheDir, key);
  const temp = `${entry}.tmp-${process.pid}`;
  rmSync(temp, { recursive: true, force: true });
  try {
    mkdirSync(temp, { recursive: true });
    const fd = openSync(join(temp, weightsFile), 'w');
    let weights: { bytes: number; sha256: string };
    let graph: Uint8Array;
    try {
      const sink = new FileSink(fd);
      graph = build(sink);
      weights = sink.finish();
    } finally {
      closeSync(fd);
    }
    writeFileSync(join(temp, graphFile), graph);
    const manifest: Manifest = {
      format: manifestFormat,
      key,
      files: { [graphFile]: { bytes: graph.byteLength, sha256: createHash('sha256').update(graph).digest('hex') }, [weightsFile]: weights },
    };
    writeFileSync(join(temp, manifestFile), JSON.stringify(manifest, null, 2));
    rmSync(entry, { recursive: true, force: true });
    renameSync(temp, entry);
    return join(entry, graphFile);
  } catch (error) {
    rmSync(temp, { recursive: true, force: true });
    throw error;
  }
}

/**
 * The entry name for a checkpoint folder: a readable slug of the folder (so that entries of
 * one checkpoint can be found and pruned) and the content key.
 */
export function graphCacheEntryName(modelDir: string, key: string): string {
  return `${graphCacheSlug(modelDir)}-${key}`;
}

function graphCacheSlug(modelDir: string): string {
  const readable = (modelDir.split(/[\\/]/).filter(Boolean).pop() ?? 'model').replace(/[^A-Za-z0-9._-]/g, '_').slice(0, 40);
  return `${readable}-${createHash('sha256').update(modelDir).digest('hex').slice(0, 8)}`;
}

/**
 * Keeps the `keepPerModel` most recently used entries of this checkpoint folder (older
 * builds of other engine versions are dropped) and removes temp folders over an hour old.
 */
export function pruneGraphCache(cacheDir: string, modelDir: string, keepPerModel = 4): void {
  if (!existsSync(cacheDir)) return;
  const slug = graphCacheSlug(modelDir);
  const mine: { name: string; usedMs: number }[] = [];
  for (const name of readdirSync(cacheDir)) {
    const path = join(cacheDir, name);
    if (name.includes('.tmp-')) {
      if (Date.now() - statSync(path).mtimeMs > 3_600_000) rmSync(path, { recursive: true, force: true });
    } else if (name.startsWith(`${slug}-`)) {
      mine.push({ name, usedMs: statSync(path).mtimeMs });
    }
  }
  mine.sort((a, b) => b.usedMs - a.usedMs);
  for (const { name } of mine.slice(keepPerModel)) rmSync(join(cacheDir, name), { recursive: true, force: true });
}

/** Marks an entry as just used, for pruning. */
export function touchGraphCacheEntry(graphPath: string): void {
  const entry = join(graphPath, '..');
  const now = new Date();
  try {
    utimesSync(entry, now, now);
  } catch {
    // A read-only cache still works; it just prunes by build time.
  }
}
