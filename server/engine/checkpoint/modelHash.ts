// One hash that names a checkpoint: its config and weight files, by content. Head patterns
// (engine/headPattern.ts) record it, so a pattern made for one model is never applied to
// another; the graph cache key builds on the same lines.

import { createHash } from 'node:crypto';
import { closeSync, openSync, readdirSync, readSync } from 'node:fs';
import { join } from 'node:path';

/** sha256 of a file, read in 16 MiB pieces. */
export function fileSha256(path: string): string {
  const hash = createHash('sha256');
  const buffer = Buffer.allocUnsafe(16 << 20);
  const fd = openSync(path, 'r');
  try {
    for (let read; (read = readSync(fd, buffer, 0, buffer.length, null)) > 0; ) hash.update(buffer.subarray(0, read));
  } finally {
    closeSync(fd);
  }
  return hash.digest('hex');
}

/** config.json and the weight files (safetensors and their index), sorted. */
export function checkpointFiles(folder: string): string[] {
  const weights = readdirSync(folder).filter((name) => name.endsWith('.safetensors') || name === 'model.safetensors.index.json');
  return ['config.json', ...weights.sort()];
}

/**
 * sha256 over `name sha256` lines of checkpointFiles(folder). `knownSha256` holds file
 * hashes already computed (checksums.json at load); the others are read.
 */
export function modelSha256(folder: string, knownSha256: ReadonlyMap<string, string> = new Map()): string {
  const hash = createHash('sha256');
  for (const name of checkpointFiles(folder)) hash.update(`${name} ${knownSha256.get(name) ?? fileSha256(join(folder, name))}\n`);
  return hash.digest('hex');
}

/** The first 12 hex digits of modelSha256: enough to tell apart the checkpoints that results records name. */
export function checkpointId(folder: string): string {
  return modelSha256(folder).slice(0, 12);
}
