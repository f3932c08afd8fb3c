// Evidence packed for the worker boundary: what crosses (a structured clone, as postMessage
// makes) unpacks to the evidence the worker had, scores exact.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { PromptEvidence } from '../../../server/engine/evidence';
import { packEvidence, unpackEvidence, unpackLines } from '../../../server/worker/evidenceWire';
import { seededRandom } from '../../../server/engine/sampling';

function evidenceFixture(lineCount: number): PromptEvidence {
  const random = seededRandom(5);
  const lines = Array.from({ length: lineCount }, (_, i) => ({ part: (i * 7) % 23, line: i * 3 + 1, score: random() / lineCount }));
  return {
    heads: 'retrieval',
    kvHeads: [{ layer: 6, kvHead: 0 }, { layer: 7, kvHead: 3 }],
    headSource: 'retrieval: 2 retrieval KV heads of 32 (head-pattern.json)',
    lines,
    perHead: [{ layer: 6, kvHead: 0, lines: lines.slice(0, 10) }, { layer: 7, kvHead: 3, lines: [] }],
    queries: 24,
    ms: 1.25,
  };
}

test('evidence packed, cloned as postMessage clones it, and unpacked is the evidence it was', () => {
  for (const count of [0, 1, 900]) {
    const evidence = evidenceFixture(count);
    const crossed = structuredClone(packEvidence(evidence));
    assert.ok(crossed.lines.score instanceof Float64Array && crossed.lines.part instanceof Int32Array, 'lines cross as typed arrays');
    assert.deepEqual(unpackEvidence(crossed), evidence, `${count} lines`);
  }
  // A question's evidence also ranks the question's own rows: those lines cross packed too.
  const question = { ...evidenceFixture(40), promptLines: evidenceFixture(12).lines };
  const crossed = structuredClone(packEvidence(question));
  assert.ok(crossed.promptLines?.score instanceof Float64Array);
  assert.deepEqual(unpackEvidence(crossed), question);
});

test('packed lines of unequal lengths are refused', () => {
  assert.throws(() => unpackLines({ part: new Int32Array(3), line: new Int32Array(2), score: new Float64Array(3) }), /unequal lengths: 3, 2, 3/);
});
