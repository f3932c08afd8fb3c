// Whether a defining line that the evidence leaves out of its top k is a miss of the
// evidence or of the question. The model's own answer is the leave-one-out drop (EVAL.md's
// oracle, one line at a time): what the completion's log-probability loses when the
// defining line alone is removed, beside what it loses when each of the evidence's top k
// lines alone is. A defining line that hurts less than every one of them was used less
// than they were, and a ranking faithful to the model keeps it out; one that hurts more
// than one of them is a line the model leaned on that the evidence put lower.

import { median } from './evidenceSummary';
import { removalScorer, type LogprobOf } from './evidenceEval';
import { lineKey, type PartLine } from './removeLines';
import type { PromptParts } from '../worker/messages';

export interface LineDrops {
  /** Nats the completion loses without the defining line alone (base − after). */
  defining: number;
  /** The same without the source line alone (equal to `defining` when it is the same line). */
  source: number;
  /** The same for each of the ranking's first k lines alone, in rank order. */
  top: number[];
  /** The defining line's 1-based place in the ranking; null when the ranking does not hold it. */
  definingRank: number | null;
  /** How many of the top k lines hurt less alone than the defining line alone does. */
  topBelowDefining: number;
  /** Distinct prompts scored, the base included. */
  scoreCalls: number;
}

/**
 * Scores the prompt whole and without each line in turn: the defining line, the source
 * line and the first `k` lines of `ranked` (candidate lines, best first). Each distinct
 * line is scored once.
 */
export async function measureLineDrops(parts: PromptParts, defining: PartLine, source: PartLine, ranked: PartLine[], logprobOf: LogprobOf, k = 3): Promise<LineDrops> {
  const scorer = removalScorer(parts, logprobOf);
  const dropOf = (line: PartLine) => scorer.dropOf([line]);
  const definingDrop = await dropOf(defining);
  const sourceDrop = await dropOf(source);
  const top: number[] = [];
  for (const line of ranked.slice(0, k)) top.push(await dropOf(line));
  const at = ranked.findIndex((l) => lineKey(l) === lineKey(defining));
  return {
    defining: definingDrop,
    source: sourceDrop,
    top,
    definingRank: at < 0 ? null : at + 1,
    topBelowDefining: top.filter((drop) => drop < definingDrop).length,
    scoreCalls: scorer.calls(),
  };
}

export interface LineDropGroup {
  cases: number;
  /** Medians over the cases, in nats. */
  median_defining_drop: number;
  median_source_drop: number;
  /** Per case the smallest of the top k lines' drops, then the median over cases. */
  median_least_top_drop: number;
}

export interface LineDropSummary {
  k: number;
  /** Cases whose defining line is among the ranking's top k, and those whose is not. */
  in_top: LineDropGroup;
  missed: LineDropGroup & {
    /** Misses whose defining line hurt less alone than each of the top k lines alone: leave-one-out ranks it below them too. */
    below_every_top_line: number;
    /** Misses whose defining line hurt more alone than at least one of the top k lines alone. */
    above_a_top_line: number;
  };
  /**
   * The cases whose defining line alone costs the completion at least `min_drop_nats`
   * (the model needed it), and how many of them have it in the top k.
   */
  by_defining_drop: Array<{ min_drop_nats: number; cases: number; in_top: number }>;
}

/** Thresholds for by_defining_drop: from a line the completion leans on a little to one it cannot do without. */
export const definingDropThresholdsNats = [0.5, 1, 2];

const round = (x: number) => (Number.isNaN(x) ? x : Math.round(x * 1e4) / 1e4);

function group(cases: LineDrops[]): LineDropGroup {
  return {
    cases: cases.length,
    median_defining_drop: round(median(cases.map((c) => c.defining))),
    median_source_drop: round(median(cases.map((c) => c.source))),
    median_least_top_drop: round(median(cases.flatMap((c) => (c.top.length > 0 ? [Math.min(...c.top)] : [])))),
  };
}

export function summarizeLineDrops(cases: LineDrops[], k = 3): LineDropSummary {
  const inTop = (c: LineDrops) => c.definingRank !== null && c.definingRank <= k;
  const missed = cases.filter((c) => !inTop(c));
  return {
    k,
    in_top: group(cases.filter(inTop)),
    missed: {
      ...group(missed),
      below_every_top_line: missed.filter((c) => c.topBelowDefining === 0).length,
      above_a_top_line: missed.filter((c) => c.topBelowDefining > 0).length,
    },
    by_defining_drop: definingDropThresholdsNats.map((min) => {
      const needed = cases.filter((c) => c.defining >= min);
      return { min_drop_nats: min, cases: needed.length, in_top: needed.filter(inTop).length };
    }),
  };
}
