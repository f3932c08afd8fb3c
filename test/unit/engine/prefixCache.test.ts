// The prefix cache on real models: a prompt resumed from the tree computes what a cold
// sequence computes (dense, and head-aware where the window is restored whole), only the
// tokens after the shared prefix run, and the memory limit holds.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { test } from 'node:test';
import { loadModel } from '../../../server/engine/loadModel';
import { modelSha256 } from '../../../server/engine/checkpoint/modelHash';
import { CachedSequence, PrefixCache } from '../../../server/engine/cachedSequence';
import { generate, type GenerateOptions } from '../../../server/engine/generate';
import type { LoadedModel } from '../../../server/engine/types';
import { codePromptFile, maxAbsDiff, tempDir, tinyModelDir, writePattern } from './engineFixtures';

const root = resolve(__dirname, '../../../..');
const options: GenerateOptions = { maxTokens: 6, temperature: 0, topP: 1, seed: 0, stop: [] };
const never = () => false;

/** A shared prefix of real code and two different endings. */
function prompts(model: LoadedModel, sharedTokens: number): { a: number[]; b: number[] } {
  const ids = model.tokenizer.encode(readFileSync(codePromptFile, 'utf8'));
  const shared = ids.slice(0, sharedTokens);
  return { a: [...shared, ...ids.slice(sharedTokens + 50, sharedTokens + 90)], b: [...shared, ...ids.slice(sharedTokens + 200, sharedTokens + 230)] };
}

test('dense: switching between two prompts restores the other ending from the tree, exactly', async () => {
  const model = await loadModel(await tinyModelDir(), { threads: 1, chunkTokens: 16 });
  try {
    const { a, b } = prompts(model, 120);
    const cache = new PrefixCache(256 << 20);
    const cached = new CachedSequence(model, cache);
    generate(cached, a, options, never);
    const onB = generate(cached, b, options, never);
    assert.equal(onB.reusedTokens, 120, 'b reuses the shared prefix the sequence holds');
    assert.equal(onB.restoredTokens, 0);
    const backToA = generate(cached, a, options, never);
    assert.equal(backToA.reusedTokens, a.length - 1, 'a is whole in the tree again: only its last token runs');
    assert.equal(backToA.restoredTokens, a.length - 1 - 120);
    const cold = generate(new CachedSequence(model), a, options, never);
    assert.deepEqual(backToA.tokens, cold.tokens);
    assert.ok(maxAbsDiff(backToA.logprobs, cold.logprobs) <= 1e-4, `warm and cold differ by ${maxAbsDiff(backToA.logprobs, cold.logprobs)}`);
    assert.equal(cache.tree.tokens, 120 + (a.length - 120) + (b.length - 120), 'the shared prefix is held once');

    // Under a limit that holds the sequence and little else, the oldest branch goes.
    cache.memoryLimitBytes = cached.sequence.kvBytes + 1;
    generate(cached, b, options, never);
    assert.ok(cache.tree.bytes + cached.sequence.kvBytes <= cache.memoryLimitBytes, 'the limit holds');
    assert.equal(generate(cached, a, options, never).restoredTokens, 0, 'a\'s branch was evicted');
  } finally {
    await model.dispose();
  }
});

test('a cancelled prefill leaves what it computed in the tree', async () => {
  const model = await loadModel(await tinyModelDir(), { threads: 1, chunkTokens: 16 });
  try {
    const { a } = prompts(model, 120);
    const cache = new PrefixCache(256 << 20);
    let passes = 0;
    assert.throws(() => generate(new CachedSequence(model, cache), a, options, () => ++passes > 4), /cancelled/);
    assert.equal(cache.tree.tokens, 64, 'four chunks of 16');
    const resumed = generate(new CachedSequence(model, cache), a, options, never);
    assert.equal(resumed.restoredTokens, 64);
  } finally {
    await model.dispose();
  }
});

test('head-aware: the tree keeps the window at the end of each node; a resume elsewhere re-runs W tokens', async () => {
  const dir = tempDir('heed-prefix-head-aware-');
  const modelDir = join(root, 'models', 'heed-code-30m');
  const sha256 = modelSha256(modelDir);
  const wide = await loadModel(modelDir, { chunkTokens: 128, kv: { policy: 'head-aware', patternFile: writePattern(dir, sha256, 4, 700) } });
  const narrow = await loadModel(modelDir, { chunkTokens: 128, kv: { policy: 'head-aware', patternFile: writePattern(dir, sha256, 4, 60) } });
  try {
    // A window longer than the prompts: every row is kept, so a resume is exact.
    const { a, b } = prompts(wide, 300);
    const cached = new CachedSequence(wide, new PrefixCache(512 << 20));
    generate(cached, a, options, never);
    generate(cached, b, options, never);
    const backToA = generate(cached, a, options, never);
    assert.equal(backToA.restoredTokens, a.length - 1 - 300);
    const cold = generate(new CachedSequence(wide), a, options, never);
    assert.deepEqual(backToA.tokens, cold.tokens);
    assert.ok(maxAbsDiff(backToA.logprobs, cold.logprobs) <= 1e-3, `warm and cold differ by ${maxAbsDiff(backToA.logprobs, cold.logprobs)}`);

    // A 60-token window: a resume at a node's end finds its window in the tree ...
    const n = new CachedSequence(narrow, new PrefixCache(512 << 20));
    generate(n, a, options, never);
    generate(n, b, options, never);
    const restored = generate(n, a, options, never);
    assert.equal(restored.reusedTokens, a.length - 1, 'the window came back with the node');
    assert.equal(n.sequence.windowGapTokens, 0);
    // ... while one in the middle of a node (a changed token at 200) re-runs the 60 before it.
    const edited = [...a];
    edited[200] = edited[201];
    const resumedInside = generate(n, edited, options, never);
    assert.equal(resumedInside.reusedTokens, 200 - 60);
    assert.equal(n.sequence.windowGapTokens, 0);
  } finally {
    await wide.dispose();
    await narrow.dispose();
  }
});

test('int8: the tree and the file keep int8 blocks; a resume mid-block computes what a cold int8 sequence does', async () => {
  const dir = tempDir('heed-prefix-int8-');
  const modelDir = join(root, 'models', 'heed-code-30m');
  // Blocks of 16 positions: the 120-token shared prefix ends inside one, so resumes import partial blocks.
  const model = await loadModel(modelDir, { chunkTokens: 64, kv: { policy: 'dense', int8: true, int8Block: 16 } });
  const dense = await loadModel(modelDir, { chunkTokens: 64 });
  try {
    assert.equal(model.kv.int8Block, 16);
    const { a, b } = prompts(model, 120);
    const cache = new PrefixCache(256 << 20);
    const cached = new CachedSequence(model, cache);
    generate(cached, a, options, never);
    generate(cached, b, options, never);
    // Cut back to the shared 120 tokens, the sequence stops at 112, the start of the block
    // that holds them, and the tree gives the rest back: the same KV a cold prefill computes.
    const backToA = cached.prefill(a, never);
    assert.equal(backToA.restored, a.length - 1 - 112);
    const coldSequence = new CachedSequence(model);
    coldSequence.prefill(a, never);
    // Compared over the blocks before the last token's: that token is run again, over a past
    // now int8 where the cold prefill's chunk saw exact rows, so its own keys and values differ.
    const restoredRows = Math.floor((a.length - 1) / 16) * 16 * model.config.headDim;
    for (let l = 0; l < model.config.numLayers; l++) {
      for (let h = 0; h < model.config.numKvHeads; h++) {
        for (const rows of ['keys', 'values'] as const) {
          const diff = maxAbsDiff(cached.sequence[rows](l, h).subarray(0, restoredRows), coldSequence.sequence[rows](l, h).subarray(0, restoredRows));
          assert.ok(diff <= 1e-5, `restored ${rows} of layer ${l} head ${h} differ from cold by ${diff}`);
        }
      }
    }
    // Its completion is the cold one's; the log-probabilities differ by rounding only, since
    // int8 depends on which rows were still exact when a token was computed (its chunk's).
    const warm = generate(cached, a, options, never);
    const cold = generate(new CachedSequence(model), a, options, never);
    assert.deepEqual(warm.tokens, cold.tokens);
    assert.ok(maxAbsDiff(warm.logprobs, cold.logprobs) <= 0.05, `warm and cold differ by ${maxAbsDiff(warm.logprobs, cold.logprobs)}`);
    // int8 against fp32: the same greedy tokens, log-probabilities within a few hundredths.
    const exact = generate(new CachedSequence(dense), a, options, never);
    assert.deepEqual(cold.tokens, exact.tokens);
    assert.ok(maxAbsDiff(cold.logprobs, exact.logprobs) <= 0.05, `int8 and fp32 differ by ${maxAbsDiff(cold.logprobs, exact.logprobs)}`);
    // The tree holds int8 rows: its bytes per token are about a quarter of fp32's (plus scales and the exact tail of each node).
    const fp32Tree = new PrefixCache(256 << 20);
    generate(new CachedSequence(dense, fp32Tree), a, options, never);
    const int8Tree = new PrefixCache(256 << 20);
    generate(new CachedSequence(model, int8Tree), a, options, never);
    assert.equal(int8Tree.tree.tokens, fp32Tree.tree.tokens);
    assert.ok(int8Tree.tree.bytes < 0.4 * fp32Tree.tree.bytes, `int8 tree ${int8Tree.tree.bytes} bytes, fp32 ${fp32Tree.tree.bytes}`);

    // Saved and read back (int8 rows and scales in the file), the prompt resumes to the same tokens.
    const key = { modelSha256: 'a'.repeat(64), kv: 'int8-test', weights: 'fp32' };
    const file = join(dir, 'prefix.heedkv');
    cache.save(file, key, a, 100);
    const restarted = new CachedSequence(model, new PrefixCache(256 << 20));
    assert.equal(restarted.prefixCache!.load(file, key, restarted.sequence.segmentHeads), 100);
    const afterRestart = generate(restarted, a, options, never);
    assert.equal(afterRestart.restoredTokens, 100);
    assert.deepEqual(afterRestart.tokens, cold.tokens);
    assert.ok(maxAbsDiff(afterRestart.logprobs, cold.logprobs) <= 0.05, `restarted and cold differ by ${maxAbsDiff(afterRestart.logprobs, cold.logprobs)}`);
    // An int8 file does not load into an fp32 cache.
    const fp32Sequence = new CachedSequence(dense, new PrefixCache(256 << 20));
    assert.throws(() => fp32Sequence.prefixCache!.load(file, key, fp32Sequence.sequence.segmentHeads), /another head layout/);
  } finally {
    await model.dispose();
    await dense.dispose();
  }
});
