// The ONNX decoder graph against a plain-JS reference forward pass, and chunked prefill
// against whole-prompt prefill and token-by-token decoding.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { loadModel } from '../../../server/engine/loadModel';
import { DecoderConfig } from '../../../server/engine/types';
import { argmax } from '../../../server/engine/sampling';
import { maxAbsDiff, randomWeights, referenceLogits, tinyModelDir, writeCheckpoint } from './engineFixtures';

const tolerance = 1e-4;

function smallConfig(overrides: Partial<DecoderConfig>): DecoderConfig {
  return {
    modelType: 'qwen2',
    vocabSize: 263, // the tiny tokenizer's size; these tests feed ids directly
    hiddenSize: 48,
    intermediateSize: 96,
    numLayers: 2,
    numHeads: 6,
    numKvHeads: 2,
    headDim: 8,
    ropeTheta: 10000,
    rmsNormEps: 1e-6,
    maxPositions: 64,
    tieWordEmbeddings: false,
    attentionBias: true,
    ...overrides,
  };
}

const cases: Array<{ label: string; config: DecoderConfig }> = [
  { label: 'qwen2 (biases, GQA 3:1, separate lm_head)', config: smallConfig({}) },
  { label: 'llama (no biases, MHA, tied embeddings)', config: smallConfig({ modelType: 'llama', attentionBias: false, numHeads: 4, numKvHeads: 4, headDim: 12, tieWordEmbeddings: true }) },
];

for (const { label, config } of cases) {
  test(`decoder graph matches the JS reference: ${label}`, async () => {
    const dir = await tinyModelDir();
    const weights = randomWeights(config, 7);
    writeCheckpoint(dir, config, weights);
    const ids = [3, 100, 42, 7, 250, 9, 33, 120, 61, 5, 18];

    const model = await loadModel(dir, { chunkTokens: 4, threads: 1 });
    try {
      let worst = 0;
      // Prefix by prefix: each append's logits are the reference's at that length.
      const byToken = model.newSequence();
      for (let n = 1; n <= ids.length; n++) {
        const logits = byToken.append([ids[n - 1]]);
        worst = Math.max(worst, maxAbsDiff(logits, referenceLogits(config, weights, ids.slice(0, n))));
      }
      // The whole prompt at once: chunks of 4 with a causal mask inside each pass.
      worst = Math.max(worst, maxAbsDiff(model.newSequence().append(ids), referenceLogits(config, weights, ids)));
      console.log(`${label}: max |Δlogit| vs reference = ${worst.toExponential(2)}`);
      assert.ok(worst <= tolerance, `max |Δlogit| ${worst} > ${tolerance}`);
    } finally {
      await model.dispose();
    }
  });
}

test('prefill whole, in chunks and token by token give the same logits and greedy tokens', async () => {
  const config = smallConfig({});
  const dir = await tinyModelDir();
  writeCheckpoint(dir, config, randomWeights(config, 11));
  const prompt = Array.from({ length: 23 }, (_, i) => (i * 37 + 5) % 256);
  const steps = 8;

  const run = async (chunkTokens: number, tokenByToken: boolean) => {
    const model = await loadModel(dir, { chunkTokens, threads: 1 });
    const seq = model.newSequence();
    let logits: Float32Array = new Float32Array(0);
    if (tokenByToken) for (const id of prompt) logits = seq.append([id]);
    else logits = seq.append(prompt);
    const prefillLogits = logits;
    const greedy: number[] = [];
    for (let i = 0; i < steps; i++) {
      greedy.push(argmax(logits));
      logits = seq.append([greedy[i]]);
    }
    assert.equal(seq.length, prompt.length + steps);
    await model.dispose();
    return { prefillLogits, greedy };
  };

  const whole = await run(64, false);
  const chunked = await run(5, false);
  const single = await run(64, true);
  const dChunk = maxAbsDiff(whole.prefillLogits, chunked.prefillLogits);
  const dSingle = maxAbsDiff(whole.prefillLogits, single.prefillLogits);
  console.log(`prefill: whole vs chunks of 5 |Δ| = ${dChunk.toExponential(2)}, whole vs token by token |Δ| = ${dSingle.toExponential(2)}`);
  assert.ok(dChunk <= tolerance && dSingle <= tolerance);
  assert.deepEqual(chunked.greedy, whole.greedy);
  assert.deepEqual(single.greedy, whole.greedy);
});

test('truncate then re-append reproduces the logits; overlong sequences are refused', async () => {
  const config = smallConfig({ maxPositions: 16 });
  const dir = await tinyModelDir();
  writeCheckpoint(dir, config, randomWeights(config, 3));
  const model = await loadModel(dir, { chunkTokens: 4, threads: 1 });
  const seq = model.newSequence();
  const first = seq.append([1, 2, 3, 4, 5, 6]);
  seq.append([9, 9, 9]);
  seq.truncate(5);
  assert.equal(seq.length, 5);
  assert.ok(maxAbsDiff(seq.append([6]), first) <= 1e-6);
  assert.ok(seq.kvBytes > 0);
  assert.throws(() => seq.append(new Array(11).fill(1)), /max_position_embeddings \(16\)/);
  assert.equal(seq.length, 6, 'a refused append leaves the sequence as it was');
  await model.dispose();
});
