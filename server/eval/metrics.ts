// The metrics of EVAL.md for one predicted line against its target: exact match after
// trimming, edit similarity (Python difflib's SequenceMatcher ratio × 100), and identifier
// match (the same identifiers in the same order).

/** Longest common substring of a[aLo:aHi] and b[bLo:bHi], leftmost in a then b on ties (as difflib). */
function longestMatch(a: string, b: string, aLo: number, aHi: number, bLo: number, bHi: number): [number, number, number] {
  let best: [number, number, number] = [aLo, bLo, 0];
  // lengths[j] = length of the common run ending at a[i - 1], b[j - 1]
  let previous = new Uint32Array(bHi - bLo + 1);
  for (let i = aLo; i < aHi; i++) {
    const current = new Uint32Array(bHi - bLo + 1);
    for (let j = bLo; j < bHi; j++) {
      if (a[i] !== b[j]) continue;
      const length = previous[j - bLo] + 1;
      current[j - bLo + 1] = length;
      if (length > best[2]) best = [i - length + 1, j - length + 1, length];
    }
    previous = current;
  }
  return best;
}

/** Characters in matching blocks, found as difflib does: the longest match, then recursively either side. */
function matchingCharacters(a: string, b: string): number {
  let matched = 0;
  const queue: Array<[number, number, number, number]> = [[0, a.length, 0, b.length]];
  while (queue.length > 0) {
    const [aLo, aHi, bLo, bHi] = queue.pop()!;
    const [i, j, k] = longestMatch(a, b, aLo, aHi, bLo, bHi);
    if (k === 0) continue;
    matched += k;
    if (aLo < i && bLo < j) queue.push([aLo, i, bLo, j]);
    if (i + k < aHi && j + k < bHi) queue.push([i + k, aHi, j + k, bHi]);
  }
  return matched;
}

/**
 * difflib.SequenceMatcher(None, a, b).ratio() × 100. Equal to Python's for strings under 200
 * characters; longer ones differ only where difflib's automatic junk heuristic would apply.
 */
export function editSimilarity(a: string, b: string): number {
  const total = a.length + b.length;
  return total === 0 ? 100 : (200 * matchingCharacters(a, b)) / total;
}

const identifierPattern = /[A-Za-z_$][\w$]*/g;

export function identifiers(text: string): string[] {
  return text.match(identifierPattern) ?? [];
}

export interface LineScore {
  exactMatch: boolean;
  editSimilarity: number;
  identifierMatch: boolean;
}

export function scoreLine(prediction: string, target: string): LineScore {
  const p = prediction.trim();
  const t = target.trim();
  const pIds = identifiers(p);
  const tIds = identifiers(t);
  return {
    exactMatch: p === t,
    editSimilarity: editSimilarity(p, t),
    identifierMatch: pIds.length === tIds.length && pIds.every((id, i) => id === tIds[i]),
  };
}

export interface KindSummary {
  cases: number;
  exact_match: number;
  edit_similarity: number;
  identifier_match: number;
}

/** Means per kind (and "all"), rounded for printing. */
export function summarize(rows: Array<{ kind: string; score: LineScore }>): Record<string, KindSummary> {
  const groups = new Map<string, LineScore[]>();
  for (const { kind, score } of rows) {
    for (const key of [kind, 'all']) groups.set(key, [...(groups.get(key) ?? []), score]);
  }
  const summary: Record<string, KindSummary> = {};
  for (const [kind, scores] of groups) {
    const mean = (f: (s: LineScore) => number) => scores.reduce((sum, s) => sum + f(s), 0) / scores.length;
    summary[kind] = {
      cases: scores.length,
      exact_match: round(mean((s) => Number(s.exactMatch)), 4),
      edit_similarity: round(mean((s) => s.editSimilarity), 2),
      identifier_match: round(mean((s) => Number(s.identifierMatch)), 4),
    };
  }
  return summary;
}

function round(x: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}
