// Head calibration on the shipped model: the copy tasks' probes point at real copies, the
// two signals find the model's retrieval heads, and the pattern names its model.
import assert from 'node:assert/strict';
import { join, resolve } from 'node:path';
import { test } from 'node:test';
import { loadModel } from '../../../server/engine/loadModel';
import { seededRandom } from '../../../server/engine/sampling';
import { modelSha256 } from '../../../server/engine/checkpoint/modelHash';
import { parseHeadPattern } from '../../../server/engine/headPattern';
import { readSourceFiles } from '../../../server/eval/caseGen';
import { calibrate, defaultCalibrateOptions } from '../../../server/calibrate/calibrate';
import { definitionSample, fillerPool, repeatSample } from '../../../server/calibrate/tasks';
import { loadTokenizer } from '../../../server/engine/tokenizer';

const root = resolve(__dirname, '../../../..');
const modelDir = join(root, 'models', 'heed-code-30m');
const fillerDir = join(root, 'server', 'engine');

test('calibration tasks: every probe is followed by a copy of its source token, far back', () => {
  const tokenizer = loadTokenizer(modelDir);
  const pool = fillerPool(tokenizer, readSourceFiles(fillerDir), 50_000);
  assert.ok(pool.files.length > 3 && pool.words.length >= 40);
  assert.equal(readSourceFiles(fillerDir, 1).length, 1, 'a byte limit stops the walk (a huge workspace is not read whole)');
  const random = seededRandom(7);
  for (let i = 0; i < 4; i++) {
    for (const sample of [repeatSample(random, pool, 1024, 32), definitionSample(random, tokenizer, pool, 1024)]) {
      assert.equal(sample.ids.length, 1024, sample.task);
      assert.ok(sample.probes.length > 0, sample.task);
      for (const { position, source } of sample.probes) {
        assert.equal(sample.ids[position + 1], sample.ids[source], `${sample.task}: token after ${position} copies ${source}`);
        assert.ok(source < position - 100, `${sample.task}: source ${source} is far before ${position}`);
      }
    }
  }
});

test('calibration finds retrieval heads of heed-code-30m and writes a pattern for it alone', async () => {
  const model = await loadModel(modelDir);
  try {
    const pool = fillerPool(model.tokenizer, readSourceFiles(fillerDir), 50_000);
    const sha256 = modelSha256(modelDir);
    const progress: number[] = [];
    const pattern = calibrate(model, sha256, pool, { ...defaultCalibrateOptions, contextTokens: 1024, samplesPerTask: 1, sinks: 8, window: 120 }, () => false, (p) => progress.push(p.samplesDone));
    assert.deepEqual(progress, [1, 2]);
    assert.equal(pattern.heads.length, model.config.numLayers * model.config.numKvHeads);
    const best = Math.max(...pattern.heads.map((h) => h.retrievalScore));
    assert.ok(best >= 0.5, `the best head retrieves ${best} of the copies (a trained model has induction heads)`);
    const kept = pattern.retrieval.flat().length;
    assert.equal(kept, Math.ceil(0.25 * pattern.heads.length));
    const top = [...pattern.heads].sort((a, b) => b.retrievalScore - a.retrievalScore)[0];
    assert.ok(pattern.retrieval[top.layer].includes(top.kvHead), 'the strongest retrieval head is kept in full');
    const target = { sha256, numLayers: model.config.numLayers, numHeads: model.config.numHeads, numKvHeads: model.config.numKvHeads };
    assert.deepEqual(parseHeadPattern('p.json', JSON.stringify(pattern), target), pattern);
  } finally {
    await model.dispose();
  }
});
