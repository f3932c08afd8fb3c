// safetensors: round trips, bf16 reading, sharded folders, and the errors a broken file gives.
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { floatToHalf, halfToFloat, readCheckpointWeights, readSafetensors, TensorF32, writeSafetensors } from '../../../server/engine/checkpoint/safetensors';
import { ModelLoadError } from '../../../server/engine/types';
import { tempDir } from './engineFixtures';

const sample = (): Map<string, TensorF32> =>
  new Map([
    ['b.weight', { shape: [2, 3], data: Float32Array.of(0, 1, -2, 0.5, 1024, -0.25) }],
    ['a.bias', { shape: [1], data: Float32Array.of(3.5) }],
    ['empty', { shape: [0, 4], data: new Float32Array(0) }],
  ]);

function writeRaw(path: string, header: unknown, data: Buffer): void {
  const text = Buffer.from(typeof header === 'string' ? header : JSON.stringify(header));
  const length = Buffer.alloc(8);
  length.writeBigUInt64LE(BigInt(text.length));
  writeFileSync(path, Buffer.concat([length, text, data]));
}

function assertLoadError(fn: () => unknown, file: string, problem: RegExp): void {
  assert.throws(fn, (e: unknown) => e instanceof ModelLoadError && e.file === file && problem.test(e.problem));
}

test('F32 and F16 round trip exactly for representable values', () => {
  const dir = tempDir();
  for (const dtype of ['F32', 'F16'] as const) {
    const path = join(dir, `${dtype}.safetensors`);
    writeSafetensors(path, sample(), dtype);
    const back = readSafetensors(path);
    assert.deepEqual([...back.keys()].sort(), ['a.bias', 'b.weight', 'empty']);
    for (const [name, tensor] of sample()) {
      assert.deepEqual(back.get(name)!.shape, tensor.shape);
      assert.deepEqual(Array.from(back.get(name)!.data), Array.from(tensor.data));
    }
    // The data section starts 8-byte aligned, as the format recommends.
    assert.equal(Number(readFileSync(path).readBigUInt64LE(0)) % 8, 0);
  }
});

test('fp16 conversion rounds to nearest and keeps specials', () => {
  for (const v of [0, -0, 1, -1, 65504, 6.103515625e-5, 5.960464477539063e-8, 0.1, Infinity, -Infinity]) {
    const back = halfToFloat(floatToHalf(v));
    assert.ok(Object.is(back, v) || Math.abs(back - v) <= Math.abs(v) * 1e-3, `${v} -> ${back}`);
  }
  assert.ok(Number.isNaN(halfToFloat(floatToHalf(NaN))));
  assert.equal(halfToFloat(floatToHalf(1e6)), Infinity);
});

test('BF16 tensors read as the top half of fp32', () => {
  const dir = tempDir();
  const data = Buffer.alloc(4);
  data.writeUInt16LE(0x3f80, 0); // 1.0
  data.writeUInt16LE(0xc040, 2); // -3.0
  writeRaw(join(dir, 'bf.safetensors'), { x: { dtype: 'BF16', shape: [2], data_offsets: [0, 4] } }, data);
  assert.deepEqual(Array.from(readSafetensors(join(dir, 'bf.safetensors')).get('x')!.data), [1, -3]);
});

test('sharded checkpoints read through model.safetensors.index.json', () => {
  const dir = tempDir();
  const all = sample();
  writeSafetensors(join(dir, 'model-00001-of-00002.safetensors'), new Map([['b.weight', all.get('b.weight')!]]));
  writeSafetensors(join(dir, 'model-00002-of-00002.safetensors'), new Map([['a.bias', all.get('a.bias')!]]));
  const index = { weight_map: { 'b.weight': 'model-00001-of-00002.safetensors', 'a.bias': 'model-00002-of-00002.safetensors' } };
  writeFileSync(join(dir, 'model.safetensors.index.json'), JSON.stringify(index));
  const weights = readCheckpointWeights(dir);
  assert.deepEqual(Array.from(weights.get('a.bias')!.data), [3.5]);
  assert.deepEqual(weights.get('b.weight')!.shape, [2, 3]);

  writeFileSync(join(dir, 'model.safetensors.index.json'), JSON.stringify({ weight_map: { ...index.weight_map, 'c.weight': 'model-00002-of-00002.safetensors' } }));
  assertLoadError(() => readCheckpointWeights(dir), 'model-00002-of-00002.safetensors', /c\.weight/);
  writeFileSync(join(dir, 'model.safetensors.index.json'), '{ not json');
  assertLoadError(() => readCheckpointWeights(dir), 'model.safetensors.index.json', /weight_map/);
});

test('corrupt headers and truncated files fail naming the file', () => {
  const dir = tempDir();
  const path = join(dir, 'model.safetensors');
  writeFileSync(path, Buffer.from([1, 2, 3]));
  assertLoadError(() => readSafetensors(path), 'model.safetensors', /too short/);

  writeRaw(path, '{"x": {', Buffer.alloc(0));
  assertLoadError(() => readSafetensors(path), 'model.safetensors', /not valid JSON/);

  const huge = Buffer.alloc(16);
  huge.writeBigUInt64LE(1000n);
  writeFileSync(path, huge);
  assertLoadError(() => readSafetensors(path), 'model.safetensors', /does not fit/);

  writeRaw(path, { x: { dtype: 'F32', shape: [2, 2], data_offsets: [0, 12] } }, Buffer.alloc(12));
  assertLoadError(() => readSafetensors(path), 'model.safetensors', /holds 12 bytes but F32 \[2,2\] needs 16/);

  writeRaw(path, { x: { dtype: 'I8', shape: [2], data_offsets: [0, 2] } }, Buffer.alloc(2));
  assertLoadError(() => readSafetensors(path), 'model.safetensors', /dtype I8/);

  writeSafetensors(path, sample(), 'F32');
  const whole = readFileSync(path);
  writeFileSync(path, whole.subarray(0, whole.length - 5));
  assertLoadError(() => readSafetensors(path), 'model.safetensors', /truncated/);

  assertLoadError(() => readCheckpointWeights(tempDir()), 'model.safetensors', /missing/);
});
