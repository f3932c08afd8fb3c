// Evidence's lines: which (text part, line) each prompt position lies on, from the
// prompt's token map (promptTokens.ts) and each token's line breaks, and a line ranking
// from mass summed per line. Kept apart from the collector (evidence.ts), which decides
// what mass is summed.

import type { PartTokens } from './promptTokens';

/** A line of one text part of the prompt: `part` indexes the job's prompt parts, `line` counts line breaks within that part's text (0-based). */
export interface PartLineScore {
  part: number;
  line: number;
  score: number;
}

/** Per tokenizer, each token id's line breaks; -1 where not counted yet. Read for every prompt position of every completion with evidence, so an array rather than a Map. */
const newlineMemos = new WeakMap<object, { counts: Int32Array }>();

/** Counts line breaks in a token's text, memoized per tokenizer. A token's bytes may end inside a UTF-8 character, but never inside a line break (one byte), so the count is exact. */
function newlineCounter(tokenizer: { decode(ids: number[]): string }): (id: number) => number {
  let memo = newlineMemos.get(tokenizer);
  if (!memo) newlineMemos.set(tokenizer, (memo = { counts: new Int32Array(0) }));
  const held = memo;
  return (id) => {
    if (id >= held.counts.length) {
      const grown = new Int32Array(Math.max(id + 1, held.counts.length * 2)).fill(-1);
      grown.set(held.counts);
      held.counts = grown;
    }
    let count = held.counts[id];
    if (count < 0) {
      count = 0;
      for (const ch of tokenizer.decode([id])) if (ch === '\n') count++;
      held.counts[id] = count;
    }
    return count;
  };
}

/** The prompt's positions by (text part, line): a dense list of the distinct pairs, and runs of positions on each. */
export interface PositionLines {
  lines: Array<{ part: number; line: number }>;
  /**
   * The positions by line, as runs: [start, end, entry of `lines`] for each run of
   * consecutive positions on one line of one part's tokens, in position order; positions on
   * no text part (special tokens) are in none. Summing mass over a run reads it in order.
   */
  runs: Int32Array;
}

/**
 * Per tokenizer, per token array of a prompt part (PartTokens.original: a workspace file's
 * is the same array in every prompt, tokenizePrompt memoizes it), its kept tokens' runs by
 * line, keyed by `skip:kept`: the workspace's lines are counted once, not at every completion.
 */
const entryRunsMemos = new WeakMap<object, WeakMap<object, Map<string, Int32Array>>>();

/**
 * Tokens [skip, skip + kept) of `original` as runs [from, to, line], one per line: offsets
 * from the first kept token, the line of a token's first character counted from the part's start.
 */
function entryLineRuns(tokenizer: { decode(ids: number[]): string }, original: PartTokens['original'], skip: number, kept: number): Int32Array {
  let byTokens = entryRunsMemos.get(tokenizer);
  if (!byTokens) entryRunsMemos.set(tokenizer, (byTokens = new WeakMap()));
  let byRange = byTokens.get(original);
  if (!byRange) byTokens.set(original, (byRange = new Map()));
  const key = `${skip}:${kept}`;
  const held = byRange.get(key);
  if (held) return held;
  const newlinesOf = newlineCounter(tokenizer);
  let line = 0;
  for (let i = 0; i < skip; i++) line += newlinesOf(original[i]);
  const runs: number[] = [];
  let from = 0;
  for (let j = 0; j < kept; j++) {
    const breaks = newlinesOf(original[skip + j]);
    if (breaks === 0) continue;
    // The next token starts a later line.
    runs.push(from, j + 1, line);
    from = j + 1;
    line += breaks;
  }
  if (from < kept) runs.push(from, kept, line);
  const entryRuns = Int32Array.from(runs);
  byRange.set(key, entryRuns);
  return entryRuns;
}

/** The (part, line) of each of the first `promptLength` prompt positions laid out as `map` says. */
export function positionLines(tokenizer: { decode(ids: number[]): string }, map: readonly PartTokens[], promptLength: number): PositionLines {
  const lines: PositionLines['lines'] = [];
  const entries = map.map(({ original, skip, start, count }) => entryLineRuns(tokenizer, original, skip, Math.max(0, Math.min(count, promptLength - start))));
  const runs = new Int32Array(entries.reduce((total, runsOf) => total + runsOf.length, 0));
  let r = 0;
  let lastPart = -1;
  let lastLine = -1;
  map.forEach(({ part, start }, e) => {
    const entryRuns = entries[e];
    for (let k = 0; k < entryRuns.length; k += 3) {
      const line = entryRuns[k + 2];
      if (part !== lastPart || line !== lastLine) {
        lines.push({ part, line });
        lastPart = part;
        lastLine = line;
      }
      runs[r++] = start + entryRuns[k];
      runs[r++] = start + entryRuns[k + 1];
      runs[r++] = lines.length - 1;
    }
  });
  return { lines, runs };
}

/** Adds `mass[p]` to the sum of its line (its run's entry of lines.lines), for positions p ≥ sinks that are on a line. */
export function addLineSums(sums: Float64Array, mass: Float32Array | Float64Array, lines: PositionLines, sinks: number): void {
  const { runs } = lines;
  for (let r = 0; r < runs.length; r += 3) {
    const start = Math.max(runs[r], sinks);
    const end = Math.min(runs[r + 1], mass.length);
    if (start >= end) continue;
    let sum = 0;
    for (let p = start; p < end; p++) sum += mass[p];
    sums[runs[r + 2]] += sum;
  }
}

/** Sums `mass` per (part, line) over positions [sinks, promptLength) and normalizes to 1; positive scores only, highest first, at most `limit`. */
export function lineScores(mass: Float32Array, lines: PositionLines, sinks: number, limit = Infinity): PartLineScore[] {
  const sums = new Float64Array(lines.lines.length);
  addLineSums(sums, mass, lines, sinks);
  return rankedLines(sums, lines, limit);
}

/** Lines by their summed mass (`sums`, one per entry of lines.lines), normalized to 1: positive scores only, highest first, at most `limit`. */
export function rankedLines(sums: Float64Array, lines: PositionLines, limit = Infinity): PartLineScore[] {
  let total = 0;
  for (let i = 0; i < sums.length; i++) total += sums[i];
  // Larger sum first, then earlier part, then earlier line (sums are finite: their difference has the sign).
  const at = lines.lines;
  const order = (i: number, j: number): number => sums[j] - sums[i] || at[i].part - at[j].part || at[i].line - at[j].line;
  let ranked: ArrayLike<number>;
  if (limit * 8 < sums.length) {
    ranked = topLines(sums, (i, j) => order(i, j) < 0, limit);
  } else {
    let positive = 0;
    for (let i = 0; i < sums.length; i++) if (sums[i] > 0) positive++;
    const indices = new Int32Array(positive);
    for (let i = 0, k = 0; i < sums.length; i++) if (sums[i] > 0) indices[k++] = i;
    // A typed array sorts in half the time of an array here.
    indices.sort(order);
    ranked = indices.subarray(0, Math.min(limit, positive));
  }
  return Array.from(ranked, (i) => ({ part: lines.lines[i].part, line: lines.lines[i].line, score: total > 0 ? sums[i] / total : 0 }));
}

/**
 * The indices of the `limit` largest positive sums in `before`'s order, without sorting
 * every line: the per-head view asks for 10 of a thousand or more lines for each head.
 */
function topLines(sums: Float64Array, before: (i: number, j: number) => boolean, limit: number): number[] {
  const top: number[] = []; // best first
  for (let i = 0; i < sums.length; i++) {
    if (!(sums[i] > 0) || (top.length === limit && !before(i, top[limit - 1]))) continue;
    let at = top.length;
    while (at > 0 && before(i, top[at - 1])) at--;
    top.splice(at, 0, i);
    if (top.length > limit) top.pop();
  }
  return top;
}
