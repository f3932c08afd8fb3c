// The workspace prefix's KV on disk, so that a restarted editor resumes where it stopped
// instead of prefilling the whole workspace again.
//
// File layout (little-endian):
//   "HEEDKVC1"                                   8 bytes
//   u32 header length, header JSON (UTF-8)       what the file holds and for which model
//   payload                                      token ids (i32 × tokens), then per segment:
//                                                per layer full keys, full values (f32);
//                                                streamed positions (i32); per layer
//                                                streamed keys, values (f32); under int8
//                                                KV, per layer the 8-bit rows: keys (u8,
//                                                offset 128), key scales (f32, per
//                                                position), values (i8), value scales (f32)
// The header names the model (checkpoint sha256), the KV cache it was computed under (policy,
// retrieval heads, S, W, weight format), the token sequence's sha256 and the payload's
// sha256 and size. A file whose magic, version, key, sizes or checksums do not match is
// refused with the reason, never used: KV from another model or cache would be a wrong answer.
// Writes go to a temporary file renamed into place, so a full disk leaves the old file whole.

import { createHash } from 'node:crypto';
import { closeSync, fsyncSync, mkdirSync, openSync, readFileSync, renameSync, rmSync, writeSync } from 'node:fs';
import { endianness } from 'node:os';
import { dirname } from 'node:path';
import { KvSegment, type KvSegmentHeads } from './kvSegment';
import { FileProblemError, type LoadedModel } from './types';
import { kvIdentity } from './kvPolicy';

const magic = Buffer.from('HEEDKVC1', 'ascii');
const formatVersion = 2; // 2: int8 keys offset-binary with a scale per position (1: per channel per block)

/** What the KV was computed by: a file is used only under the same key. */
export interface PrefixKey {
  modelSha256: string;
  /** The KV cache's identity: "dense", or the retrieval heads with S and W. */
  kv: string;
  weights: string;
}

/** The key of the KV a loaded model computes with weights in `weights` format (hashes the checkpoint once per load). */
export function prefixKeyOf(model: LoadedModel, weights: string): PrefixKey {
  return { modelSha256: model.checkpointSha256(), kv: kvIdentity(model.kv), weights };
}

interface Header {
  format: 'heed-prefix-cache';
  version: number;
  key: PrefixKey;
  heads: KvSegmentHeads;
  tokens: number;
  tokensSha256: string;
  /** `quantized`: positions of the segment whose full-head rows are int8 (absent: 0). */
  segments: Array<{ start: number; length: number; streamed: number; quantized?: number }>;
  payloadBytes: number;
  payloadSha256: string;
}

export class PrefixFileError extends FileProblemError {
  override name = 'PrefixFileError';
}

function bytesOf(array: Float32Array | Int32Array | Int8Array | Uint8Array): Buffer {
  return Buffer.from(array.buffer, array.byteOffset, array.byteLength);
}

function sha256Of(buffers: Buffer[]): string {
  const hash = createHash('sha256');
  for (const b of buffers) hash.update(b);
  return hash.digest('hex');
}

function payloadBuffers(tokens: number[], segments: KvSegment[]): Buffer[] {
  const out = [bytesOf(Int32Array.from(tokens))];
  for (const segment of segments) {
    for (const rows of segment.full) out.push(bytesOf(rows.keys), bytesOf(rows.values));
    out.push(bytesOf(segment.streamedPositions));
    for (const rows of segment.streamed) out.push(bytesOf(rows.keys), bytesOf(rows.values));
    for (const rows of segment.quantized?.layers ?? []) out.push(bytesOf(rows.keys), bytesOf(rows.keyScales), bytesOf(rows.values), bytesOf(rows.valueScales));
  }
  return out;
}

/** Writes tokens[0, n) and the segments that cover them, in order from position 0. Returns the bytes written. */
export function writePrefixFile(file: string, key: PrefixKey, tokens: number[], segments: KvSegment[]): number {
  if (endianness() !== 'LE') throw new Error('prefix cache files are written on little-endian machines only');
  let at = 0;
  for (const segment of segments) {
    if (segment.start !== at) throw new Error(`prefix cache: segment at ${segment.start}, expected ${at}`);
    at = segment.end;
  }
  if (at !== tokens.length || segments.length === 0) throw new Error(`prefix cache: segments cover ${at} of ${tokens.length} tokens`);
  const payload = payloadBuffers(tokens, segments);
  const header: Header = {
    format: 'heed-prefix-cache',
    version: formatVersion,
    key,
    heads: segments[0].heads,
    tokens: tokens.length,
    tokensSha256: sha256Of([payload[0]]),
    segments: segments.map((s) => ({ start: s.start, length: s.length, streamed: s.streamedPositions.length, ...(s.quantized ? { quantized: s.quantized.length } : {}) })),
    payloadBytes: payload.reduce((sum, b) => sum + b.byteLength, 0),
    payloadSha256: sha256Of(payload),
  };
  const headerBytes = Buffer.from(JSON.stringify(header), 'utf8');
  const length = Buffer.alloc(4);
  length.writeUInt32LE(headerBytes.byteLength);
  mkdirSync(dirname(file), { recursive: true });
  const temporary = `${file}.${process.pid}.tmp`;
  const fd = openSync(temporary, 'w');
  try {
    for (const b of [magic, length, headerBytes, ...payload]) {
      let written = 0;
      while (written < b.byteLength) written += writeSync(fd, b, written, b.byteLength - written);
    }
    fsyncSync(fd);
  } catch (error) {
    closeSync(fd);
    rmSync(temporary, { force: true });
    throw error;
  }
  closeSync(fd);
  renameSync(temporary, file);
  return magic.byteLength + 4 + headerBytes.byteLength + header.payloadBytes;
}

/** A copy of `bytes` as float32 values (file offsets need not be aligned). */
function floats(bytes: Buffer): Float32Array {
  const out = new Float32Array(bytes.byteLength / 4);
  new Uint8Array(out.buffer).set(bytes);
  return out;
}

function int8s(bytes: Buffer): Int8Array {
  return new Int8Array(Uint8Array.from(bytes).buffer);
}

function ints(bytes: Buffer): Int32Array {
  const out = new Int32Array(bytes.byteLength / 4);
  new Uint8Array(out.buffer).set(bytes);
  return out;
}

/** Reads a prefix file written under `key`; any mismatch or damage is a PrefixFileError naming it. */
export function readPrefixFile(file: string, key: PrefixKey): { tokens: number[]; segments: KvSegment[] } {
  const data = readFileSync(file);
  const refuse = (problem: string): never => {
    throw new PrefixFileError(file, problem);
  };
  if (data.byteLength < 12 || !data.subarray(0, 8).equals(magic)) refuse('not a Heed prefix cache file');
  const headerLength = data.readUInt32LE(8);
  if (12 + headerLength > data.byteLength) refuse('the header is cut off');
  let header: Header;
  try {
    header = JSON.parse(data.subarray(12, 12 + headerLength).toString('utf8')) as Header;
  } catch {
    return refuse('the header is not JSON');
  }
  if (header.format !== 'heed-prefix-cache' || header.version !== formatVersion) refuse(`format ${header.format} version ${header.version}, expected version ${formatVersion}`);
  for (const field of ['modelSha256', 'kv', 'weights'] as const) {
    if (header.key?.[field] !== key[field]) refuse(`computed for another ${field === 'modelSha256' ? 'model' : field === 'kv' ? 'KV cache' : 'weight format'}`);
  }
  const payload = data.subarray(12 + headerLength);
  if (payload.byteLength !== header.payloadBytes) refuse(`payload of ${payload.byteLength} bytes, the header says ${header.payloadBytes}`);
  if (sha256Of([payload]) !== header.payloadSha256) refuse('the payload checksum does not match (a damaged file)');
  const { heads } = header;
  const headDim = heads.headDim;
  let at = 0;
  const take = (bytes: number): Buffer => {
    if (at + bytes > payload.byteLength) refuse('the payload is shorter than its segments');
    const slice = payload.subarray(at, at + bytes);
    at += bytes;
    return slice;
  };
  const tokenBytes = take(header.tokens * 4);
  if (sha256Of([tokenBytes]) !== header.tokensSha256) refuse('the token checksum does not match');
  const tokens = Array.from(ints(tokenBytes));
  let position = 0;
  const block = heads.int8Block;
  const segments = header.segments.map(({ start, length, streamed, quantized = 0 }) => {
    if (start !== position) refuse(`segment at ${start}, expected ${position}`);
    if (!Number.isInteger(quantized) || quantized < 0 || quantized > length || (quantized > 0 && !block)) refuse(`segment at ${start}: ${quantized} int8 positions of ${length}`);
    position += length;
    const exact = length - quantized;
    const full = heads.full.map((n) => ({ keys: floats(take(n * exact * headDim * 4)), values: floats(take(n * exact * headDim * 4)) }));
    const positions = ints(take(streamed * 4));
    const rows = heads.streaming.map((n) => ({ keys: floats(take(n * streamed * headDim * 4)), values: floats(take(n * streamed * headDim * 4)) }));
    if (!block) return new KvSegment(heads, start, length, full, positions, rows);
    const layers = heads.full.map((n) => ({
      keys: Uint8Array.from(take(n * quantized * headDim)),
      keyScales: floats(take(n * quantized * 4)),
      values: int8s(take(n * quantized * headDim)),
      valueScales: floats(take(n * quantized * 4)),
    }));
    return new KvSegment(heads, start, length, full, positions, rows, { length: quantized, blockTokens: block, layers });
  });
  if (position !== header.tokens || at !== payload.byteLength) refuse('the segments do not cover the tokens exactly');
  return { tokens, segments };
}
