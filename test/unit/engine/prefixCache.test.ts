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
import { maxAbsDiff, tempDir, tinyModelDir, writePattern } from './engineFixtures';

const root = resolve(__dirname, '../../../..');
const options: GenerateOptions = { maxTokens: 6, temperature: 0, topP: 1, seed: 0, stop: [] };
const never = () => false;

/** A shared prefix of real code and two different endings. */
function prompts(model: LoadedModel, sharedTokens: number): { a: number[]; b: number[] } {
  const ids = model.tokenizer.encode(readFileSync(join(root, 'server', 'engine', 'loadModel.ts'), 'utf8'));
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
