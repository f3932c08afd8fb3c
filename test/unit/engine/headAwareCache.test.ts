// The head-aware KV cache on the shipped model: with every head full, or with a window that
// holds the whole sequence, it computes exactly what the dense cache does; with a short
// window it keeps less, says so in its bytes, and refuses to hand out a past it dropped.
// A pattern it cannot use leaves the model dense, with the reason in the load log.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { test } from 'node:test';
import { loadModel } from '../../../server/engine/loadModel';
import { modelSha256 } from '../../../server/engine/checkpoint/modelHash';
import type { KvRequest, LoadedModel } from '../../../server/engine/types';
import { codePromptFile, maxAbsDiff, tempDir, writePattern } from './engineFixtures';

const root = resolve(__dirname, '../../../..');
const modelDir = join(root, 'models', 'heed-code-30m');

function run(model: LoadedModel, prompt: number[], decode: number[]): Float32Array[] {
  const sequence = model.newSequence();
  const out = [sequence.append(prompt)];
  for (const id of decode) out.push(sequence.append([id]));
  return out;
}

test('head-aware cache: exact where it keeps everything, smaller where it does not', async () => {
  const dir = tempDir('heed-head-aware-');
  const patternFile = writePattern(dir, modelSha256(modelDir), 4, 60);
  const dense = await loadModel(modelDir, { chunkTokens: 128 });
  const models: LoadedModel[] = [dense];
  const load = async (kv: KvRequest) => {
    const log: string[] = [];
    const model = await loadModel(modelDir, { chunkTokens: 128, kv, log: (line) => log.push(line) });
    models.push(model);
    assert.equal(model.kv.policy, 'head-aware', log.join('\n'));
    return model;
  };
  try {
    const text = readFileSync(codePromptFile, 'utf8');
    const prompt = dense.tokenizer.encode(text).slice(0, 600);
    assert.equal(prompt.length, 600);
    const decode = prompt.slice(100, 108);
    const expected = run(dense, prompt, decode);

    const allFull = await load({ policy: 'head-aware', patternFile, ratio: 1 });
    assert.deepEqual(allFull.kv.policy === 'head-aware' && allFull.kv.retrieval.flat().length, 32);
    run(allFull, prompt, decode).forEach((logits, i) => assert.ok(maxAbsDiff(logits, expected[i]) < 1e-4, `every head full, pass ${i}`));

    const wideWindow = await load({ policy: 'head-aware', patternFile, sinks: 4, window: 700 });
    // Layers with one full head take their own path for a step's values (graph/attention.ts OneHeadPast).
    const retrieval = wideWindow.kv.policy === 'head-aware' ? wideWindow.kv.retrieval : assert.fail('head-aware');
    assert.ok(retrieval.some((heads) => heads.length === 1) && retrieval.some((heads) => heads.length > 1), JSON.stringify(retrieval));
    run(wideWindow, prompt, decode).forEach((logits, i) => assert.ok(maxAbsDiff(logits, expected[i]) < 1e-4, `window holds every token, pass ${i}`));

    const narrow = await load({ policy: 'head-aware', patternFile });
    const sequence = narrow.newSequence();
    sequence.append(prompt);
    const kv = narrow.kv.policy === 'head-aware' ? narrow.kv : assert.fail('head-aware');
    const full = kv.retrieval.flat().length;
    assert.equal(full, 8);
    const { headDim } = narrow.config;
    const denseSequence = dense.newSequence();
    denseSequence.append(prompt);
    // Retrieval heads: their capacity (like the dense cache's); streaming heads: 64 slots.
    const capacityTokens = denseSequence.kvBytes / (2 * 4 * headDim * 32);
    assert.equal(sequence.kvBytes, 2 * 4 * headDim * (full * capacityTokens + (32 - full) * 64));
    const layer = kv.retrieval.findIndex((heads) => heads.length > 0);
    const kept = kv.retrieval[layer][0];
    assert.deepEqual(sequence.keys(layer, kept), denseSequence.keys(layer, kept));
    const dropped = [0, 1, 2, 3].find((h) => !kv.retrieval[layer].includes(h))!;
    assert.throws(() => sequence.keys(layer, dropped), /keeps only sinks and a window/);
    const logits = sequence.append(decode.slice(0, 1));
    assert.ok(logits.every(Number.isFinite));
    assert.ok(maxAbsDiff(logits, expected[1]) > 1e-3, 'a 60-token window changes the logits');
  } finally {
    for (const model of models) await model.dispose();
  }
});

test('head-aware cache: a pattern for another model, or none, leaves the model dense and says why', async () => {
  const dir = tempDir('heed-head-aware-bad-');
  const foreign = writePattern(dir, 'f'.repeat(64), 4, 60);
  for (const [kv, reason] of [
    [{ policy: 'head-aware', patternFile: foreign }, /calibrated for another model/],
    [{ policy: 'head-aware', patternFile: join(dir, 'missing.json') }, /does not exist/],
  ] as Array<[KvRequest, RegExp]>) {
    const log: string[] = [];
    const model = await loadModel(modelDir, { kv, log: (line) => log.push(line) });
    try {
      assert.equal(model.kv.policy, 'dense');
      assert.ok(log.some((line) => /Warning: head-aware KV cache not used/.test(line) && reason.test(line)), log.join('\n'));
    } finally {
      await model.dispose();
    }
  }
});
