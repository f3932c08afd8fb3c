// Evidence faithfulness on a scorer whose answers are known: every line of the prompt adds
// its weight to the completion's log-probability, so removing lines drops it by the sum of
// their weights, and the oracle is the heaviest lines.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { drawLines, hitsAtK, measureFaithfulness, rankedCandidates, seedOf, type LogprobOf } from '../../../server/eval/evidenceEval';
import { candidateLines } from '../../../server/eval/removeLines';
import { summarizeDrops, summarizeHits, median } from '../../../server/eval/evidenceSummary';
import type { PromptParts } from '../../../server/worker/messages';

// Line "wN" weighs N; the cursor line ("cursor") would weigh most but is not a candidate.
const weights = [0, 9, 1, 0, 7, 2, 0, 5, 3, 0, 0, 8];
const parts: PromptParts = [
  { special: 'fileSep' },
  { text: weights.slice(0, 6).map((w, i) => `w${w}_${i}`).join('\n') },
  { special: 'fileSep' },
  { text: weights.slice(6).map((w, i) => `w${w}_${i + 6}`).join('\n') },
  { special: 'fimPrefix' },
  { text: 'w1_x\nw100_cursor', cut: 'start' },
  { special: 'fimMiddle' },
];

function additiveScorer(): { logprobOf: LogprobOf; calls: () => number } {
  let calls = 0;
  const logprobOf: LogprobOf = async (prompt) => {
    calls++;
    let total = -100;
    for (const p of prompt) if ('text' in p) for (const line of p.text.split('\n')) if (line) total += Number(/^w(\d+)/.exec(line)![1]);
    return total;
  };
  return { logprobOf, calls: () => calls };
}

const line = (part: number, l: number) => ({ part, line: l });
// Retrieval heads point at the weights 9, 8, 7, then the cursor (skipped), then 5, 3;
// all heads at the weights 0, 1, 2, 3, 5.
const evidence = {
  retrieval: [line(1, 1), line(3, 5), line(1, 4), line(5, 1), line(3, 1), line(3, 2)],
  all: [line(1, 0), line(1, 2), line(1, 5), line(3, 2), line(3, 1)],
};

test('drops: evidence, random and the pool oracle are base minus the log-probability without their lines', async () => {
  const scorer = additiveScorer();
  const result = await measureFaithfulness(parts, evidence, scorer.logprobOf, { ks: [1, 3, 5], randomDraws: 3, poolTopN: 10, seed: 7 });
  assert.equal(result.baseLogprob, -100 + weights.reduce((a, b) => a + b, 0) + 1 + 100);
  assert.equal(result.candidates, 13);
  assert.deepEqual(result.evidenceLines, { retrieval: 5, all: 5 });
  assert.deepEqual(result.drops.map((d) => [d.k, d.retrieval, d.all, d.oracle]), [
    [1, 9, 0, 9],
    [3, 24, 3, 24],
    [5, 32, 11, 32],
  ]);
  // The random drop is the mean weight of the seeded draws, the same draws every run.
  const candidates = [...parts.entries()].flatMap(([i, p]) => ('text' in p ? p.text.split('\n').map((_, l) => line(i, l)) : [])).filter((l) => !(l.part === 5 && l.line === 1));
  const weightOf = (l: { part: number; line: number }) => Number(/^w(\d+)/.exec((parts[l.part] as { text: string }).text.split('\n')[l.line])![1]);
  for (const d of result.drops) {
    const expected = [7, 8, 9].map((s) => drawLines(candidates, 5, s).slice(0, d.k).reduce((sum, l) => sum + weightOf(l), 0));
    assert.ok(Math.abs(d.random - expected.reduce((a, b) => a + b) / 3) < 1e-12, `k=${d.k}`);
  }
  // Every distinct removal is scored once.
  assert.equal(scorer.calls(), result.scoreCalls);
  assert.deepEqual(result.top.oracle.slice(0, 3), [line(1, 1), line(3, 5), line(1, 4)]);
});

test('the oracle is limited to its pool: the evidence tops and a seeded draw, never lines outside them', async () => {
  const scorer = additiveScorer();
  const narrow = { retrieval: [line(1, 2), line(1, 1)], all: [line(1, 5)] };
  const result = await measureFaithfulness(parts, narrow, scorer.logprobOf, { ks: [1, 3], randomDraws: 1, poolTopN: 1, seed: 3 });
  // The pool: w1 (retrieval's top), w2 (all heads' top) and the line drawn with seed + randomDraws.
  const [drawn] = drawLines(candidateLines(parts), 1, 4);
  const drawnWeight = Number(/^w(\d+)/.exec((parts[drawn.part] as { text: string }).text.split('\n')[drawn.line])![1]);
  assert.equal(result.poolLines, new Set(['1:2', '1:5', `${drawn.part}:${drawn.line}`]).size);
  assert.deepEqual(result.drops.map((d) => [d.k, d.retrieval, d.all, d.oracle]), [
    [1, 1, 2, Math.max(2, drawnWeight)],
    [3, 10, 2, 3 + drawnWeight],
  ]);
});

test('within a subset of lines (the other files): evidence, random draws and the oracle all come from it', async () => {
  const scorer = additiveScorer();
  // Part 3 alone: the retrieval heads' lines there are the weights 8, 5, 3; all heads' 3, 5.
  const result = await measureFaithfulness(parts, evidence, scorer.logprobOf, { ks: [1, 3], randomDraws: 2, poolTopN: 10, seed: 7, within: (l) => l.part === 3 });
  assert.equal(result.candidates, 6);
  assert.deepEqual(result.evidenceLines, { retrieval: 3, all: 2 });
  assert.deepEqual(result.drops.map((d) => [d.k, d.retrieval, d.all, d.oracle]), [
    [1, 8, 3, 8],
    [3, 16, 8, 16],
  ]);
  assert.ok([...result.top.retrieval, ...result.top.all, ...result.top.oracle].every((l) => l.part === 3));
  // Random lines are drawn from part 3 only: its weights sum to 16, so no draw of 3 exceeds it.
  for (const d of result.drops) assert.ok(d.random >= 0 && d.random <= 16, `k=${d.k}: ${d.random}`);
  const part3 = candidateLines(parts).filter((l) => l.part === 3);
  const weightOf = (l: { part: number; line: number }) => Number(/^w(\d+)/.exec((parts[l.part] as { text: string }).text.split('\n')[l.line])![1]);
  const expected = [7, 8].map((seed) => drawLines(part3, 3, seed).slice(0, 1).reduce((sum, l) => sum + weightOf(l), 0));
  assert.equal(result.drops[0].random, (expected[0] + expected[1]) / 2);
});

test('draws are distinct, seeded, and no longer than the list; evidence keeps candidates in its order', () => {
  const items = Array.from({ length: 20 }, (_, i) => i);
  const a = drawLines(items, 10, 5);
  assert.equal(new Set(a).size, 10);
  assert.deepEqual(a, drawLines(items, 10, 5));
  assert.notDeepEqual(a, drawLines(items, 10, 6));
  assert.deepEqual(drawLines(items, 30, 1).slice().sort((x, y) => x - y), items);
  assert.deepEqual(rankedCandidates([line(5, 1), line(1, 1), line(9, 9), line(1, 1), line(1, 0)], [line(1, 0), line(1, 1)]), [line(1, 1), line(1, 0)]);
  assert.notEqual(seedOf('a', 1), seedOf('b', 1));
  assert.deepEqual(hitsAtK(line(1, 4), evidence.retrieval.filter((l) => l.part !== 5), [1, 3, 5]), { 1: false, 3: true, 5: true });
  assert.deepEqual(hitsAtK(line(2, 0), evidence.retrieval, [1]), { 1: false });
});

test('summary: ratio of mean drops, median of per-case ratios over positive references, hit@k shares', () => {
  const d = (k: number, retrieval: number, all: number, random: number, oracle: number) => ({ k, retrieval, all, random, oracle });
  const summary = summarizeDrops([
    { drops: [d(1, 2, 1, 1, 4)] },
    { drops: [d(1, 4, 4, 0, 4)] },
    { drops: [d(1, 0, 1, 2, 2)] },
  ]);
  assert.equal(summary.length, 1);
  assert.equal(summary[0].cases, 3);
  assert.deepEqual(summary[0].mean_drop, { retrieval: 2, all: 2, random: 1, oracle: 3.3333 });
  assert.deepEqual(summary[0].vs_random.retrieval, { ratio_of_means: 2, median_ratio: 1, median_over_cases: 2 });
  assert.deepEqual(summary[0].vs_oracle.retrieval, { ratio_of_means: 0.6, median_ratio: 0.5, median_over_cases: 3 });
  assert.deepEqual(summary[0].retrieval_beats_all, { more: 1, less: 1, equal: 1 });
  const hits = summarizeHits([
    { drops: [], hits: { retrieval: { 1: true, 3: true }, all: { 1: false, 3: true } } },
    { drops: [], hits: { retrieval: { 1: false, 3: true }, all: { 1: false, 3: false } } },
    { drops: [] },
  ]);
  assert.deepEqual(hits, { cases: 2, hit_at_k: { retrieval: { 1: 0.5, 3: 1 }, all: { 1: 0, 3: 0.5 } } });
  assert.equal(median([3, 1, 2, 10]), 2.5);
});
