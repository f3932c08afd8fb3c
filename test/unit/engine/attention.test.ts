// Attention of chosen heads, from the graph's queries and the cache's keys, against the
// plain-JS reference forward pass.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadModel } from '../../../server/engine/loadModel';
import { headAttention } from '../../../server/engine/attention';
import { maxAbsDiff, randomWeights, smallRandomConfig, referenceLogits, tinyModelDir, writeCheckpoint } from './engineFixtures';

const config = smallRandomConfig;

test('attention computed from queries and cached keys matches the reference, for every head', async () => {
  const dir = await tinyModelDir();
  const weights = randomWeights(config, 7);
  writeCheckpoint(dir, config, weights);
  const ids = [5, 80, 17, 200, 33, 33, 91, 4, 250, 12];
  const expected = new Map<string, number[]>();
  referenceLogits(config, weights, ids, (layer, head, pos, probs) => expected.set(`${layer}.${head}.${pos}`, probs));

  const model = await loadModel(dir, { threads: 1, chunkTokens: 4 });
  try {
    const sequence = model.newSequence();
    sequence.append(ids.slice(0, 7));
    const last = ids.slice(7); // one pass of 3 tokens at positions 7, 8, 9
    const { queries } = sequence.appendWithQueries(last);
    let worst = 0;
    for (let layer = 0; layer < config.numLayers; layer++) {
      assert.equal(queries[layer].length, config.numHeads * last.length * config.headDim);
      for (let head = 0; head < config.numHeads; head++) {
        const kvHead = Math.floor(head / (config.numHeads / config.numKvHeads));
        for (let row = 0; row < last.length; row++) {
          const position = 7 + row;
          const probs = headAttention({ queries: queries[layer], tokens: last.length, row, head }, sequence.keys(layer, kvHead), position, config.headDim);
          worst = Math.max(worst, maxAbsDiff(probs, expected.get(`${layer}.${head}.${position}`)!));
        }
      }
    }
    console.log(`max |Δprob| vs reference: ${worst.toExponential(2)}`);
    assert.ok(worst <= 1e-5, `attention differs from the reference by ${worst}`);
    assert.throws(() => sequence.appendWithQueries(new Array(5).fill(1)), /takes 1 to 4 tokens/);
  } finally {
    await model.dispose();
  }
});
