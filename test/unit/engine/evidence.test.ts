// Evidence: the chosen heads' attention mass over the prompt's lines, against the plain-JS
// reference forward pass, copies counted again, and the choice of heads (the lines
// themselves: evidenceLines.test.ts).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadModel } from '../../../server/engine/loadModel';
import { CachedSequence, generate, defaultGenerateOptions } from '../../../server/engine/generate';
import { evidenceCopyBonus } from '../../../server/engine/copyMass';
import { chooseEvidenceHeads, evidencePower, EvidenceCollector } from '../../../server/engine/evidence';
import { lineScores, positionLines, type PartLineScore } from '../../../server/engine/evidenceLines';
import { tokenizePrompt, type PartTokens } from '../../../server/engine/promptTokens';
import type { DecoderConfig, LoadedModel } from '../../../server/engine/types';
import type { PromptParts } from '../../../server/worker/messages';
import { randomWeights, referenceLogits, smallRandomConfig, tinyModelDir, writeCheckpoint } from './engineFixtures';

const config: DecoderConfig = { ...smallRandomConfig, maxPositions: 512 };
/** Every printable ASCII character. */
const printable = Array.from({ length: 95 }, (_, i) => String.fromCharCode(32 + i)).join('');

// With int8 KV (blocks of 16, so most of the prompt is int8) the keys come back dequantized
// and the mass is the reference's within rounding.
// One prompt row and one token: a single query row. The workspace file holds every printable
// character, so that some of the tokens the random model picks are copies (the tokenizer is
// byte-level).
for (const [promptRows, int8Block, maxTokens] of [[1, undefined, 5], [1, undefined, 1], [9, undefined, 5], [9, 16, 5]] as Array<[number, number | undefined, number]>) {
  const kv = int8Block ? { policy: 'dense' as const, int8: true, int8Block } : undefined;
  test(`evidence mass equals the reference attention of the chosen heads, squared and summed over the queries counted, copies counting again (${promptRows} prompt rows, ${maxTokens} tokens${int8Block ? ', int8 KV' : ''})`, async () => {
    const dir = await tinyModelDir();
    const weights = randomWeights(config, 11);
    writeCheckpoint(dir, config, weights);
    const model = await loadModel(dir, { threads: 1, chunkTokens: 16, kv });
    try {
      const parts: PromptParts = [{ special: 'fileSep' }, { text: 'util.ts\n' }, { text: `export const rate = 0.2;\nexport const name = "x";\n// ${printable}\n` }, { special: 'fileSep' }, { text: 'main.ts\n' }, { text: 'const total = price * ' }];
      const map: PartTokens[] = [];
      const promptIds = tokenizePrompt(model.tokenizer, parts, 400, undefined, map);
      const heads = chooseEvidenceHeads(model, 'retrieval', () => ({ retrieval: [[1], [0, 1]], sinks: 2, file: 'p.json' }));
      assert.deepEqual(heads.kvHeads, [{ layer: 0, kvHead: 1 }, { layer: 1, kvHead: 0 }, { layer: 1, kvHead: 1 }]);
      assert.equal(heads.sinks, 2, "the pattern's sinks");
      // More than one prompt row: a question's (fromPart), which also ranks those rows alone.
      const collector = new EvidenceCollector(model, heads, promptRows > 1 ? { heads: 'retrieval', fromPart: 5 } : { heads: 'retrieval' }, promptIds, promptRows);
      const cached = new CachedSequence(model);
      // The prompt cached but its last token first: the prompt rows are computed again anyway.
      cached.prefill(promptIds.slice(0, -1).concat([7]), () => false);
      const result = generate(cached, promptIds, { ...defaultGenerateOptions, maxTokens }, () => false, undefined, collector);
      assert.ok(result.tokens.length > 0);
      const evidence = collector.finish(cached.sequence, result.tokens, map);
      assert.equal(evidence.queries, promptRows - 1 + result.tokens.length);

      // The reference over the prompt and the generated tokens but the last. A row that picked
      // a generated token (not a question's prompt rows) counts its mass on the prompt's
      // positions that hold that token (its copies) again, evidenceCopyBonus times.
      const all = [...promptIds, ...result.tokens.slice(0, -1)];
      const pickedAt = (position: number): number | undefined =>
        position + 1 >= promptIds.length && (promptRows === 1 || position >= promptIds.length) ? result.tokens[position + 1 - promptIds.length] : undefined;
      let copies = 0;
      const mass = new Float32Array(all.length);
      const promptMass = new Float32Array(all.length); // the prompt's rows alone
      const chosen = new Set(heads.kvHeads.map((h) => `${h.layer}.${h.kvHead}`));
      const group = config.numHeads / config.numKvHeads;
      referenceLogits(config, weights, all, (layer, head, position, probs) => {
        if (position < promptIds.length - promptRows || !chosen.has(`${layer}.${Math.floor(head / group)}`)) return;
        for (let p = 0; p < probs.length; p++) mass[p] += probs[p] ** evidencePower;
        const picked = pickedAt(position);
        for (let p = 0; p < promptIds.length && picked !== undefined; p++) {
          if (promptIds[p] !== picked) continue;
          mass[p] += evidenceCopyBonus * probs[p] ** evidencePower;
          if (p >= 2) copies++;
        }
        if (position < promptIds.length) for (let p = 0; p < probs.length; p++) promptMass[p] += probs[p] ** evidencePower;
      });
      const lines = positionLines(model.tokenizer, map, promptIds.length);
      const worstOf = (got: PartLineScore[], expected: PartLineScore[]): number => {
        assert.equal(got.length, expected.length);
        let worst = 0;
        for (const e of expected) {
          const line = got.find((l) => l.part === e.part && l.line === e.line);
          assert.ok(line, `line ${e.part}:${e.line} missing`);
          worst = Math.max(worst, Math.abs(line.score - e.score));
        }
        return worst;
      };
      // The one token of the shortest run is no copy; each longer run has some.
      if (maxTokens > 1) assert.ok(copies > 0, 'some picked tokens are copies');
      const expected = lineScores(mass, lines, 2);
      const worst = worstOf(evidence.lines, expected);
      console.log(`max |Δscore| ${worst.toExponential(2)} over ${expected.length} lines${int8Block ? ' (int8 KV)' : ''}`);
      assert.ok(worst < (int8Block ? 1e-3 : 1e-4));
      if (promptRows > 1) {
        const promptWorst = worstOf(evidence.promptLines!, lineScores(promptMass, lines, 2));
        assert.ok(promptWorst < (int8Block ? 1e-3 : 1e-4), `the prompt rows alone: max |Δscore| ${promptWorst}`);
      } else {
        assert.equal(evidence.promptLines, undefined, 'a completion does not rank its one prompt row apart');
      }
      assert.ok(Math.abs(evidence.lines.reduce((sum, l) => sum + l.score, 0) - 1) < 1e-5);
      assert.equal(evidence.perHead.length, 3);
    } finally {
      await model.dispose();
    }
  });
}

test('evidence heads: every head without a pattern; the all-heads baseline refuses the head-aware cache', async () => {
  const dense = { config, kv: { policy: 'dense' } } as unknown as LoadedModel;
  const none = chooseEvidenceHeads(dense, 'retrieval', () => undefined);
  assert.equal(none.kvHeads.length, 4);
  assert.match(none.source, /no head pattern/);
  const headAware = { config, kv: { policy: 'head-aware', patternFile: '/x/head-pattern.json', retrieval: [[0], []], retrievalRatio: 0.25, sinks: 4, window: 16 } } as unknown as LoadedModel;
  assert.deepEqual(chooseEvidenceHeads(headAware, 'retrieval', () => undefined).kvHeads, [{ layer: 0, kvHead: 0 }]);
  assert.throws(() => chooseEvidenceHeads(headAware, 'all', () => undefined), /dense KV cache/);
});
