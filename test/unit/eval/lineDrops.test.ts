// Single-line removals on a scorer whose answers are known: each line "wN" adds N to the
// completion's log-probability, so removing it alone drops it by N.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { measureLineDrops, summarizeLineDrops, type LineDrops } from '../../../server/eval/lineDrops';
import type { LogprobOf } from '../../../server/eval/evidenceEval';
import type { PromptParts } from '../../../server/worker/messages';

const parts: PromptParts = [
  { special: 'fileSep' },
  { text: 'path.ts\nw9_a\nw1_b\nw4_c' },
  { special: 'fimPrefix' },
  { text: 'w6_d\nw2_e\ncursor', cut: 'start' },
  { special: 'fimMiddle' },
];

function scorer(): { logprobOf: LogprobOf; prompts: string[] } {
  const prompts: string[] = [];
  const logprobOf: LogprobOf = async (prompt) => {
    let total = -50;
    const texts = prompt.flatMap((p) => ('text' in p ? [p.text] : []));
    prompts.push(texts.join('|'));
    for (const text of texts) for (const line of text.split('\n')) total += Number(/^w(\d+)/.exec(line)?.[1] ?? 0);
    return total;
  };
  return { logprobOf, prompts };
}

const at = (part: number, line: number) => ({ part, line });

test('line drops: each line alone, the ranking top 3 in order, each distinct line scored once', async () => {
  const s = scorer();
  // Ranking: w6, w1, w2, then w9 (the defining line, 4th); the source line is w4.
  const ranked = [at(3, 0), at(1, 2), at(3, 1), at(1, 1), at(1, 3)];
  const drops = await measureLineDrops(parts, at(1, 1), at(1, 3), ranked, s.logprobOf);
  assert.deepEqual(drops.top, [6, 1, 2]);
  assert.equal(drops.defining, 9);
  assert.equal(drops.source, 4);
  assert.equal(drops.definingRank, 4);
  assert.equal(drops.topBelowDefining, 3);
  // The base, then w9, w4, w6, w1, w2: six prompts, none twice.
  assert.equal(drops.scoreCalls, 6);
  assert.equal(s.prompts.length, 6);
  assert.equal(new Set(s.prompts).size, 6);
  assert.ok(!s.prompts[1].includes('w9_a') && s.prompts[1].includes('w1_b'));
});

test('line drops: a defining line that is also the source line and ranked first costs no extra scoring', async () => {
  const s = scorer();
  const drops = await measureLineDrops(parts, at(1, 3), at(1, 3), [at(1, 3), at(3, 0)], s.logprobOf);
  assert.deepEqual([drops.defining, drops.source, drops.top, drops.definingRank], [4, 4, [4, 6], 1]);
  assert.equal(drops.topBelowDefining, 0);
  assert.equal(s.prompts.length, 3);
});

test('line drops summary: misses split by whether leave-one-out ranks the defining line below every top line', () => {
  const make = (defining: number, top: number[], definingRank: number | null): LineDrops => ({
    defining,
    source: defining + 1,
    top,
    definingRank,
    topBelowDefining: top.filter((d) => d < defining).length,
    scoreCalls: 0,
  });
  const summary = summarizeLineDrops([make(5, [5, 1, 0], 1), make(0.5, [3, 2, 1], 7), make(4, [6, 2, 3], null), make(0.1, [2, 2, 2], 4)]);
  assert.deepEqual(summary.in_top, { cases: 1, median_defining_drop: 5, median_source_drop: 6, median_least_top_drop: 0 });
  assert.equal(summary.missed.cases, 3);
  assert.equal(summary.missed.median_defining_drop, 0.5);
  assert.equal(summary.missed.median_least_top_drop, 2);
  assert.equal(summary.missed.below_every_top_line, 2);
  assert.equal(summary.missed.above_a_top_line, 1);
  assert.deepEqual(summary.by_defining_drop, [
    { min_drop_nats: 0.5, cases: 3, in_top: 1 },
    { min_drop_nats: 1, cases: 2, in_top: 1 },
    { min_drop_nats: 2, cases: 2, in_top: 1 },
  ]);
});
