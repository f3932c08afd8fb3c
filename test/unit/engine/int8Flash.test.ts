// Long passes over an int8 past through the flash path (decoderGraph.ts: the quantized
// blocks dequantized and attended to by MultiHeadAttention, the exact rows of the block
// still filling and the pass's own keys merged as parts) against the integer path they
// replace (int8Part): the same quantized rows either way, so the same logits up to the
// integer path's rounding of queries and probabilities (to about 1/32,000 of their row's
// largest), under dense+int8 and head-aware+int8, over prefill chunks that start and end
// inside blocks and over decoding after them (one-token passes keep the integer path).
import assert from 'node:assert/strict';
import { join, resolve } from 'node:path';
import { test } from 'node:test';
import { loadModel } from '../../../server/engine/loadModel';
import { argmax, seededRandom } from '../../../server/engine/sampling';
import { maxAbsDiff } from './engineFixtures';

const modelDir = join(resolve(__dirname, '../../../..'), 'models', 'heed-code-30m');
const chunkTokens = 40; // blocks of 16: chunks end mid-block
const flashForLongPasses = { minTokens: 2, minPast: 0 };

for (const policy of ['dense', 'head-aware'] as const) {
  test(`${policy}+int8: the flash path over the dequantized past gives the integer path's logits`, async () => {
    const kv = { policy, int8: true, int8Block: 16 };
    const flash = await loadModel(modelDir, { chunkTokens, kv, flashPast: flashForLongPasses });
    const integer = await loadModel(modelDir, { chunkTokens, kv, flashPast: false });
    try {
      assert.equal(flash.kv.int8Block, 16);
      const random = seededRandom(3);
      const ids = Array.from({ length: 230 }, () => 100 + Math.floor(random() * (flash.config.vocabSize - 100)));
      const a = flash.newSequence();
      const b = integer.newSequence();
      let worst = 0;
      let logitsA: Float32Array = new Float32Array(0);
      for (let start = 0; start < ids.length; start += chunkTokens) {
        const piece = ids.slice(start, start + chunkTokens);
        logitsA = a.append(piece);
        worst = Math.max(worst, maxAbsDiff(logitsA, b.append(piece)));
      }
      for (let i = 0; i < 6; i++) {
        const next = argmax(logitsA);
        logitsA = a.append([next]);
        worst = Math.max(worst, maxAbsDiff(logitsA, b.append([next])));
      }
      assert.ok(worst <= 5e-3, `${policy}+int8: flash and integer-path logits differ by ${worst}`);
    } finally {
      await flash.dispose();
      await integer.dispose();
    }
  });
}
