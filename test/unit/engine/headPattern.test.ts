// Head pattern files: what is refused, with which message, and how heads are chosen.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { chooseRetrievalHeads, HeadPatternError, parseHeadPattern, rankHeads, retrievalHeadsAbove, type HeadPattern } from '../../../server/engine/headPattern';

const target = { sha256: 'a'.repeat(64), numLayers: 2, numHeads: 4, numKvHeads: 2 };

function pattern(): HeadPattern {
  const heads = rankHeads([
    { layer: 0, kvHead: 0, retrievalScore: 0.1, windowError: 0.2 },
    { layer: 0, kvHead: 1, retrievalScore: 0.9, windowError: 0.5 },
    { layer: 1, kvHead: 0, retrievalScore: 0, windowError: 0.05 },
    { layer: 1, kvHead: 1, retrievalScore: 0.4, windowError: 1 },
  ]);
  return {
    format: 'heed-head-pattern',
    version: 1,
    model: { name: 'm', ...target },
    sinks: 4,
    window: 60,
    method: {},
    heads,
    retrievalRatio: 0.5,
    retrieval: chooseRetrievalHeads(heads, 2, 0.5),
  };
}

function refused(text: string, pattern: RegExp): void {
  assert.throws(() => parseHeadPattern('head-pattern.json', text, target), (error: unknown) => error instanceof HeadPatternError && pattern.test(error.message));
}

test('head pattern: a valid file parses; its ranking keeps the heads with the strongest signals', () => {
  const p = pattern();
  assert.deepEqual(parseHeadPattern('head-pattern.json', JSON.stringify(p), target), p);
  assert.deepEqual(p.retrieval, [[1], [1]]);
  assert.deepEqual(chooseRetrievalHeads(p.heads, 2, 0), [[], []]);
  assert.deepEqual(chooseRetrievalHeads(p.heads, 2, 0.25), [[1], []]);
  assert.deepEqual(chooseRetrievalHeads(p.heads, 2, 1), [[0, 1], [0, 1]]);
  assert.throws(() => chooseRetrievalHeads(p.heads, 2, 1.5), RangeError);
  // By score instead of by share: the same heads as the ratio that keeps as many.
  const scores = [...p.heads.map((h) => h.score)].sort((a, b) => b - a);
  assert.deepEqual(retrievalHeadsAbove(p.heads, 2, scores[0]), chooseRetrievalHeads(p.heads, 2, 0.25));
  assert.deepEqual(retrievalHeadsAbove(p.heads, 2, 0), [[0, 1], [0, 1]]);
  assert.equal(retrievalHeadsAbove(p.heads, 2, 1).flat().length, p.heads.filter((h) => h.score >= 1).length);
  assert.throws(() => retrievalHeadsAbove(p.heads, 2, -0.1), RangeError);
});

test('head pattern: corrupt, foreign, mis-shaped and out-of-range files are refused with the reason', () => {
  const p = pattern();
  refused('{"format": "heed-head-pattern", ', /not valid JSON/);
  refused(JSON.stringify({ ...p, format: 'other' }), /not a head pattern/);
  refused(JSON.stringify({ ...p, version: 2 }), /version 2/);
  refused(JSON.stringify({ ...p, model: { ...p.model, sha256: 'b'.repeat(64) } }), /calibrated for another model/);
  refused(JSON.stringify({ ...p, model: { ...p.model, numLayers: 3 } }), /3 layers/);
  refused(JSON.stringify({ ...p, heads: p.heads.slice(1) }), /every one of the 4 KV heads/);
  refused(JSON.stringify({ ...p, heads: [...p.heads.slice(1), { ...p.heads[0], kvHead: 5 }] }), /does not have/);
  refused(JSON.stringify({ ...p, retrieval: [[0, 1, 2], []] }), /KV heads the model does not have/);
  refused(JSON.stringify({ ...p, sinks: -1 }), /sinks and window/);
  refused(JSON.stringify({ ...p, heads: [...p.heads.slice(1), { ...p.heads[0], score: 'x' }] }), /not a number/);
});
