// The hover over an accepted completion: its evidence as Markdown. Links are file URIs with
// a line fragment (`#L12`), which VS Code opens at that line without trusted Markdown; each
// line's text goes in a code fence long enough that the text cannot close it.

import type { EvidenceReport, EvidenceSpan } from '../../protocol';

const barCells = 10;
/** Spans the hover lists by score, then the best of other files until it shows this many of them. */
const hoverSpans = 3;
const otherFileSpans = 2;
const hoverLinesPerSpan = 3;

/** A bar of `barCells` cells, filled in proportion to score / best. */
export function scoreBar(score: number, best: number): string {
  const filled = best > 0 ? Math.max(score > 0 ? 1 : 0, Math.round((score / best) * barCells)) : 0;
  return '█'.repeat(filled) + '░'.repeat(barCells - filled);
}

/** A fence of backticks longer than any run of them in `text`. */
function fenceFor(text: string): string {
  let longest = 0;
  for (const run of text.match(/`+/g) ?? []) longest = Math.max(longest, run.length);
  return '`'.repeat(Math.max(3, longest + 1));
}

/** Escapes the characters Markdown would read as formatting in link text. */
export function escapeMarkdown(text: string): string {
  return text.replace(/[\\`*_{}[\]()#+\-.!|<>]/g, (ch) => `\\${ch}`);
}

export function evidenceHover(report: EvidenceReport, languageOf: (path: string) => string = () => ''): string {
  const top = report.spans.slice(0, hoverSpans);
  if (top.length === 0) return `**Heed** found no workspace lines behind this completion (${escapeMarkdown(report.heads)}).`;
  const best = top[0].score;
  const out = [`**Why Heed suggested this**: the lines its ${escapeMarkdown(report.heads)} attended to most`, ''];
  // The lines just above the cursor usually lead; what came from other files is the part a
  // user cannot see from where they are, so the best of it (ranked among other files' lines
  // alone) is listed too, up to otherFileSpans in all.
  const overlaps = (a: EvidenceSpan, b: EvidenceSpan) => a.uri === b.uri && a.startLine <= b.endLine && b.startLine <= a.endLine;
  const othersShown = top.filter((span) => span.uri !== report.uri).length;
  const others = (report.otherFileSpans ?? []).filter((span) => !top.some((shown) => overlaps(shown, span))).slice(0, Math.max(0, otherFileSpans - othersShown));
  const listed = others.length > 0 ? [...top, undefined, ...others] : top;
  for (const span of listed) {
    if (!span) {
      out.push('From other files:', '');
      continue;
    }
    const where = span.startLine === span.endLine ? `${span.path}:${span.startLine + 1}` : `${span.path}:${span.startLine + 1}-${span.endLine + 1}`;
    out.push(`[${escapeMarkdown(where)}](${span.uri.replace(/\(/g, '%28').replace(/\)/g, '%29')}#L${span.startLine + 1}) \`${scoreBar(span.score, best)}\` ${(span.score * 100).toFixed(0)}%`, '');
    const text = span.lines
      .slice(0, hoverLinesPerSpan)
      .map((line) => line.text)
      .join('\n');
    const fence = fenceFor(text);
    out.push(`${fence}${languageOf(span.path)}`, text, fence, '');
  }
  out.push(`_"Heed: Show Evidence" shows every span, a heat strip per file and each head._`);
  return out.join('\n');
}
