// Evidence under the head-aware cache: the decode steps, and a short last prefill pass,
// give their full heads' attention mass from their own passes (Sequence.appendWithMass),
// where the dense cache's evidence computes it again from the passes' queries and the
// cached keys. Both ways must give the same evidence, and asking for the mass must not
// change what the model computes: on the shipped model, with a prompt long enough that a
// prefill chunk takes the flash path.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { test } from 'node:test';
import { loadModel, massRowWeights } from '../../../server/engine/loadModel';
import { modelSha256 } from '../../../server/engine/checkpoint/modelHash';
import { CachedSequence, generate, defaultGenerateOptions } from '../../../server/engine/generate';
import { chooseEvidenceHeads, EvidenceCollector, type PromptEvidence } from '../../../server/engine/evidence';
import type { QueryRowsHook } from '../../../server/engine/cachedSequence';
import type { PartTokens } from '../../../server/engine/promptTokens';
import { codePromptFile, maxAbsDiff, tempDir, writePattern } from './engineFixtures';

const root = resolve(__dirname, '../../../..');
const modelDir = join(root, 'models', 'heed-code-30m');

// Under int8 KV the passes' mass comes from the integer scores (queries in two 8-bit parts),
// the queries' from fp32 scores over the dequantized keys: the same up to that rounding
// (2e-5 in a line's score, where fp32 agrees within 1e-6).
for (const int8 of [false, true]) {
  test(`head-aware${int8 ? '+int8' : ''} evidence from the decode steps' own attention mass equals evidence from their queries`, async () => {
    const dir = tempDir('heed-head-aware-evidence-');
    const patternFile = writePattern(dir, modelSha256(modelDir), 4, 60);
    const model = await loadModel(modelDir, { chunkTokens: 128, kv: { policy: 'head-aware', patternFile, int8 } });
    const tolerance = int8 ? 1e-4 : 1e-5;
    try {
      assert.equal(model.kv.policy, 'head-aware');
      assert.equal(Boolean(model.kv.int8Block), int8);
      const text = readFileSync(codePromptFile, 'utf8');
      const heads = chooseEvidenceHeads(model, 'retrieval', () => undefined);
      assert.equal(heads.kvHeads.length, 8);
      // Chunks of 128: those after the first 1,024 tokens take the flash path. The last pass
      // has 5 tokens (within maxMassPassTokens: the prompt's rows come as mass too) or 20
      // (they come as queries); a question counts its prompt's last 3 rows.
      for (const { tokens, promptRows } of [
        { tokens: 1285, promptRows: 1 },
        { tokens: 1300, promptRows: 1 },
        { tokens: 1285, promptRows: 3 },
      ]) {
        const promptIds = model.tokenizer.encode(text).slice(0, tokens);
        const map: PartTokens[] = [{ part: 0, start: 0, count: promptIds.length, skip: 0, original: promptIds }];
        const run = (hook: (collector: EvidenceCollector) => QueryRowsHook) => {
          const cached = new CachedSequence(model);
          // A question's request (fromPart) also ranks the prompt's rows alone.
          const collector = new EvidenceCollector(model, heads, promptRows > 1 ? { heads: 'retrieval', fromPart: 0 } : { heads: 'retrieval' }, promptIds, promptRows);
          const result = generate(cached, promptIds, { ...defaultGenerateOptions, maxTokens: 6 }, () => false, undefined, hook(collector));
          return { tokens: result.tokens, evidence: collector.finish(cached.sequence, result.tokens, map) };
        };
        // The collector itself takes the mass; the wrapper offers only queries.
        const byMass = run((collector) => collector);
        const byQueries = run((collector) => ({ promptRows: collector.promptRows, add: (queries, n, fromRow) => collector.add(queries, n, fromRow) }));
        const what = `${tokens} tokens, ${promptRows} prompt rows`;
        assert.deepEqual(byMass.tokens, byQueries.tokens, `${what}: the mass outputs change nothing the model computes`);
        // Copies (copyMass.ts) come from the steps' running mass on one side, from the queries on the other.
        assert.ok(byMass.tokens.some((t) => promptIds.includes(t)), `${what}: some picked tokens are copies`);
        assert.equal(byMass.evidence.queries, byMass.tokens.length - 1 + promptRows, what);

        const scores = (evidence: PromptEvidence['lines']) => new Map(evidence.map((l) => [`${l.part}:${l.line}`, l.score]));
        const expect = (got: PromptEvidence['lines'], want: PromptEvidence['lines'], part: string) => {
          assert.equal(got.length, want.length, `${what}, ${part}`);
          const wanted = scores(want);
          const worst = Math.max(...got.map((l) => Math.abs(l.score - (wanted.get(`${l.part}:${l.line}`) ?? Infinity))));
          assert.ok(worst < tolerance, `${what}, ${part}: max |Δscore| ${worst}`);
        };
        expect(byMass.evidence.lines, byQueries.evidence.lines, 'lines');
        byMass.evidence.perHead.forEach((head, i) => expect(head.lines, byQueries.evidence.perHead[i].lines, `head ${head.layer}:${head.kvHead}`));
        assert.equal(byMass.evidence.promptLines === undefined, promptRows === 1, `${what}: the prompt's own ranking only for a question`);
        if (promptRows > 1) expect(byMass.evidence.promptLines!, byQueries.evidence.promptLines!, 'the prompt rows alone');
      }

      // The logits of a step that asks for the mass are the logits of one that does not.
      const promptIds = model.tokenizer.encode(text).slice(0, 1300);
      const a = model.newSequence();
      const b = model.newSequence();
      a.append(promptIds);
      b.append(promptIds);
      assert.ok(a.appendWithMass, 'a head-aware sequence gives the mass');
      const withMass = a.appendWithMass!([promptIds[5]]);
      const plain = b.append([promptIds[5]]);
      assert.ok(maxAbsDiff(withMass.logits, plain) < 1e-6);
      assert.equal(withMass.mass.byHead, true);
      // Each query head's probabilities sum to 1, so its squares sum to at most 1: per KV
      // head, at most `group`. The step's own position has its share; later slots none.
      for (const { sums, capacity, kvHeads } of withMass.mass.layers) {
        kvHeads.forEach((_, j) => {
          const head = sums.subarray(j * capacity, (j + 1) * capacity);
          const total = head.reduce((sum, v) => sum + v, 0);
          assert.ok(total > 0 && total <= 2 + 1e-5, `a step's mass per KV head: ${total}`);
          assert.ok(head[promptIds.length] > 0, 'mass on the step\'s own position');
          assert.ok(head.subarray(promptIds.length + 1).every((v) => v === 0), 'no mass on unfilled slots');
        });
      }
      // Summed (how decode steps give it): the one row is every layer's heads' rows added, on
      // the positions before the step (its own is a generated token, never evidence), and
      // the next step adds its own to it.
      const everyHead = (mass: typeof withMass.mass, p: number) => mass.layers.reduce((sum, { sums, capacity, kvHeads }) => sum + kvHeads.reduce((s, _, j) => s + sums[j * capacity + p], 0), 0);
      const closeTo = (row: Float32Array, want: (p: number) => number, what: string) => {
        let worst = 0;
        for (let p = 0; p < row.length; p++) worst = Math.max(worst, Math.abs(row[p] - want(p)));
        assert.ok(worst < 1e-5, `${what}: max |Δ| ${worst}`);
      };
      const c = model.newSequence();
      c.append(promptIds);
      const summed = c.appendWithMassSum!([promptIds[5]]);
      assert.equal(summed.mass.byHead, false);
      assert.equal(summed.mass.steps, 1);
      assert.deepEqual(summed.mass.heads, withMass.mass.layers.map(({ layer, kvHeads }) => ({ layer, kvHeads })));
      assert.equal(summed.mass.capacity, withMass.mass.layers[0].capacity);
      const ownPosition = promptIds.length;
      closeTo(summed.mass.sums, (p) => (p === ownPosition ? 0 : everyHead(withMass.mass, p)), 'one step summed');
      const next = a.appendWithMass!([promptIds[6]]);
      const continued = c.appendWithMassSum!([promptIds[6]], summed.mass);
      assert.equal(continued.mass.steps, 2);
      closeTo(continued.mass.sums, (p) => summed.mass.sums[p] + (p === ownPosition + 1 ? 0 : everyHead(next.mass, p)), 'two steps summed');
      assert.throws(() => a.appendWithMass!(promptIds.slice(0, a.maxMassTokens + 1)), /takes 1 to/);
      assert.throws(() => a.appendWithMass!(promptIds.slice(0, 2), 3), /counts 1 to 2/);
      assert.throws(() => c.appendWithMassSum!(promptIds.slice(0, c.maxMassTokens + 1)), /takes 1 to/);
    } finally {
      await model.dispose();
    }
  });
}

test('sequences without full-head mass outputs do not offer it: dense caches, fp32 and int8', async () => {
  for (const kv of [undefined, { policy: 'dense' as const, int8: true }]) {
    const model = await loadModel(modelDir, { chunkTokens: 128, kv });
    try {
      assert.equal(model.newSequence().appendWithMass, undefined, kv ? 'dense+int8' : 'dense');
      assert.equal(model.newSequence().appendWithMassSum, undefined, kv ? 'dense+int8' : 'dense');
      assert.equal(model.newSequence().maxMassTokens, 0);
    } finally {
      await model.dispose();
    }
  }
});

test('mass_rows counts the last tokens of each query head group', () => {
  // Rows [group, count]: group 2, 4 tokens, the last 3 counted.
  assert.deepEqual(Array.from(massRowWeights(2, 4, 3)), [0, 1, 1, 1, 0, 1, 1, 1]);
  assert.deepEqual(Array.from(massRowWeights(2, 1, 1)), [1, 1]);
  assert.deepEqual(Array.from(massRowWeights(1, 3, 1)), [0, 0, 1]);
});
