// checksums.json in a model folder: { files: { name: { bytes, sha256 } } }, written by
// training/export.py for Heed's own models. When present, every file it lists must exist
// with that size and hash, so a missing shard or a changed file is reported at load instead
// of yielding a silently different model. Folders without it (a user's checkpoint) load as before.
import { existsSync, readFileSync, statSync } from 'node:fs';
import { basename, join } from 'node:path';
import { ModelLoadError } from '../types';
import { fileSha256 } from './modelHash';

export const checksumsFile = 'checksums.json';

interface ChecksumEntry {
  bytes: number;
  sha256: string;
}

function readChecksums(folder: string): Record<string, ChecksumEntry> | undefined {
  const path = join(folder, checksumsFile);
  if (!existsSync(path)) return undefined;
  let files: unknown;
  try {
    files = (JSON.parse(readFileSync(path, 'utf8')) as { files?: unknown }).files;
  } catch (e) {
    throw new ModelLoadError(checksumsFile, `cannot parse (${(e as Error).message})`);
  }
  if (typeof files !== 'object' || files === null || Array.isArray(files)) throw new ModelLoadError(checksumsFile, '"files" is not an object');
  for (const [name, entry] of Object.entries(files as Record<string, unknown>)) {
    const e = entry as Partial<ChecksumEntry> | null;
    if (basename(name) !== name || !e || !Number.isInteger(e.bytes) || typeof e.sha256 !== 'string' || !/^[0-9a-f]{64}$/.test(e.sha256)) {
      throw new ModelLoadError(checksumsFile, `entry ${JSON.stringify(name)} is not { bytes, sha256 } for a file of the folder`);
    }
  }
  return files as Record<string, ChecksumEntry>;
}

/**
 * Checks the folder against its checksums.json, if it has one. Returns the sha256 of every
 * file it verified (the graph cache key reuses them), or an empty map without checksums.json.
 */
export function verifyChecksums(folder: string): Map<string, string> {
  const verified = new Map<string, string>();
  const files = readChecksums(folder);
  if (!files) return verified;
  for (const [name, expected] of Object.entries(files)) {
    const path = join(folder, name);
    if (!existsSync(path)) throw new ModelLoadError(name, `missing (${checksumsFile} lists it; the model folder is incomplete)`);
    const bytes = statSync(path).size;
    if (bytes !== expected.bytes) throw new ModelLoadError(name, `is ${bytes} bytes but ${checksumsFile} says ${expected.bytes}: the file was changed or cut short`);
    const sha256 = fileSha256(path);
    if (sha256 !== expected.sha256) throw new ModelLoadError(name, `does not match its sha256 in ${checksumsFile}: the file was changed or is corrupt`);
    verified.set(name, sha256);
  }
  return verified;
}
