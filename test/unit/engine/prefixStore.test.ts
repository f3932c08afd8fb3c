// The prefix cache on disk: a saved prefix restores to the same KV (a restarted sequence
// computes what the first one did), and a file for another model or cache, a cut, changed
// or foreign file is refused with the reason, never used.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { loadModel } from '../../../server/engine/loadModel';
import { CachedSequence, PrefixCache } from '../../../server/engine/cachedSequence';
import { generate } from '../../../server/engine/generate';
import { PrefixFileError, readPrefixFile } from '../../../server/engine/prefixStore';
import { maxAbsDiff, tempDir, tinyModelDir } from './engineFixtures';

const options = { maxTokens: 5, temperature: 0, topP: 1, seed: 0, stop: [] };
const key = { modelSha256: 'a'.repeat(64), kv: 'dense', weights: 'fp32' };

test('a saved prefix restores: the restarted sequence computes only the rest, and the same tokens', async () => {
  const dir = tempDir('heed-prefix-store-');
  const model = await loadModel(await tinyModelDir(), { threads: 1, chunkTokens: 16 });
  try {
    const ids = model.tokenizer.encode('export function add(a: number, b: number): number {\n  return a + b;\n}\n'.repeat(4));
    const workspace = ids.length - 10;
    const first = new CachedSequence(model, new PrefixCache(64 << 20));
    const before = generate(first, ids, options, () => false);
    const file = join(dir, 'prefix.heedkv');
    const saved = first.prefixCache!.save(file, key, ids, workspace);
    assert.equal(saved.tokens, workspace);

    const restarted = new CachedSequence(model, new PrefixCache(64 << 20));
    assert.equal(restarted.prefixCache!.load(file, key, restarted.sequence.segmentHeads), workspace);
    const after = generate(restarted, ids, options, () => false);
    assert.equal(after.restoredTokens, workspace);
    assert.deepEqual(after.tokens, before.tokens);
    assert.ok(maxAbsDiff(after.logprobs, before.logprobs) <= 1e-5);

    // Refused: another model, another cache, a cut file, a changed byte, not a prefix file.
    assert.throws(() => readPrefixFile(file, { ...key, modelSha256: 'b'.repeat(64) }), /computed for another model/);
    assert.throws(() => readPrefixFile(file, { ...key, kv: 'head-aware' }), /computed for another KV cache/);
    assert.throws(() => readPrefixFile(file, { ...key, weights: 'int4' }), /another weight format/);
    const bytes = readFileSync(file);
    const cut = join(dir, 'cut.heedkv');
    writeFileSync(cut, bytes.subarray(0, bytes.length - 100));
    assert.throws(() => readPrefixFile(cut, key), (e: unknown) => e instanceof PrefixFileError && /payload of \d+ bytes/.test(e.message));
    const changed = Buffer.from(bytes);
    changed[changed.length - 3] ^= 0x40;
    writeFileSync(cut, changed);
    assert.throws(() => readPrefixFile(cut, key), /checksum does not match/);
    writeFileSync(cut, 'not a cache');
    assert.throws(() => readPrefixFile(cut, key), /not a Heed prefix cache file/);
    // A folder that cannot be written (here: a file where the folder should be) fails the
    // save with the reason and leaves nothing behind; the old file stays whole.
    const blocker = join(dir, 'not-a-folder');
    writeFileSync(blocker, 'x');
    assert.throws(() => first.prefixCache!.save(join(blocker, 'prefix.heedkv'), key, ids, workspace), /ENOTDIR|EEXIST/);
    assert.deepEqual(readdirSync(dir).filter((name) => name.includes('.tmp')), []);
    assert.equal(readPrefixFile(file, key).tokens.length, workspace);
    // A refused file adds nothing.
    const untouched = new PrefixCache(64 << 20);
    assert.throws(() => untouched.load(cut, key, restarted.sequence.segmentHeads), PrefixFileError);
    assert.equal(untouched.tree.tokens, 0);
  } finally {
    await model.dispose();
  }
});
