// Which editor lines heed.evidence.highlightLines marks, and how strongly. Pure.

import type { EvidenceReport } from '../../server/protocol';

/** Decoration strengths, weakest first (src/evidence/lineHighlights.ts has one type each). */
export const highlightTiers = 3;

/**
 * Per document URI, the 0-based lines of the report's spans (a completion's other files'
 * spans too: what it drew from files the user may have open beside) and each line's tier
 * (0..highlightTiers-1), relative to the report's best line.
 */
export function lineTiers(report: EvidenceReport): Map<string, Map<number, number>> {
  const spans = [...report.spans, ...(report.otherFileSpans ?? [])];
  let maxScore = 0;
  for (const span of spans) for (const line of span.lines) if (line.score > maxScore) maxScore = line.score;
  const byUri = new Map<string, Map<number, number>>();
  for (const span of spans) {
    for (const line of span.lines) {
      const ratio = maxScore > 0 ? Math.max(0, line.score) / maxScore : 0;
      const tier = Math.min(highlightTiers - 1, Math.max(0, Math.ceil(ratio * highlightTiers) - 1));
      const lines = byUri.get(line.uri) ?? new Map<number, number>();
      // A line in two spans keeps its stronger mark.
      lines.set(line.line, Math.max(tier, lines.get(line.line) ?? 0));
      byUri.set(line.uri, lines);
    }
  }
  return byUri;
}
