// The "Heed: Evidence" panel's body: the completion, which heads and how long, the ranked
// spans, a heat strip per file and the per-head lines. Pure, so tests can render reports.
//
// Every clickable element carries data-uri and data-line; media/evidence.js posts them back
// as {type: 'open'} and the extension opens only URIs the report contains (messages.ts).

import type { EvidenceHead, EvidenceHeat, EvidenceLine, EvidenceReport, EvidenceSpan } from '../../server/protocol';
import { escapeHtml, lineRangeLabel, percent } from './html';

/** Heat cells are drawn in this many intensity classes (h0 = no attention, media/evidence.css). */
export const heatLevels = 10;

export interface EvidenceView {
  /** Whether this report is the completion the user accepted last. */
  accepted: boolean;
}

/** Every URI the report names: the only ones an {type: 'open'} message may ask for. */
export function evidenceUris(report: EvidenceReport): Set<string> {
  const uris = new Set<string>();
  if (report.uri) uris.add(report.uri);
  for (const span of [...report.spans, ...(report.questionSpans ?? []), ...(report.otherFileSpans ?? [])]) {
    uris.add(span.uri);
    for (const line of span.lines) uris.add(line.uri);
  }
  for (const heat of report.heat) uris.add(heat.uri);
  for (const head of report.perHead) for (const line of head.lines) uris.add(line.uri);
  return uris;
}

/** Spans best first; equal scores keep the server's order. */
export function rankedSpans(spans: readonly EvidenceSpan[]): EvidenceSpan[] {
  return [...spans].sort((a, b) => b.score - a.score);
}

/** The heat class of a score relative to the report's highest: 0 only for no attention at all. */
export function heatLevel(score: number, maxScore: number): number {
  if (!(score > 0) || !(maxScore > 0)) return 0;
  return Math.min(heatLevels - 1, Math.max(1, Math.ceil(((heatLevels - 1) * score) / maxScore)));
}

function target(uri: string, line: number): string {
  return `data-uri="${escapeHtml(uri)}" data-line="${line}"`;
}

function lineRow(line: EvidenceLine): string {
  return `<span class="line" ${target(line.uri, line.line)} title="${escapeHtml(`${lineRangeLabel(line.path, line.line)}: ${percent(line.score)}`)}"><span class="ln">${line.line + 1}</span>${escapeHtml(line.text)}</span>`;
}

function spanHtml(span: EvidenceSpan, topScore: number): string {
  const label = lineRangeLabel(span.path, span.startLine, span.endLine);
  // A <meter> needs no inline style, which the Content-Security-Policy forbids.
  const bar = `<meter min="0" max="1" value="${topScore > 0 ? (span.score / topScore).toFixed(4) : '0'}"></meter>`;
  const lines = span.lines.map(lineRow).join('\n');
  return `<li class="span">
<button class="location" ${target(span.uri, span.startLine)}>${escapeHtml(label)}</button>
${bar}<span class="score">${percent(span.score)}</span>
<pre>${lines}</pre>
</li>`;
}

function heatHtml(heat: EvidenceHeat, maxScore: number): string {
  const cells = heat.scores
    .map((score, i) => {
      const line = heat.firstLine + i;
      return `<span class="cell h${heatLevel(score, maxScore)}" ${target(heat.uri, line)} title="${escapeHtml(`${lineRangeLabel(heat.path, line)}: ${percent(score)}`)}"></span>`;
    })
    .join('');
  const range = heat.scores.length > 0 ? lineRangeLabel(heat.path, heat.firstLine, heat.firstLine + heat.scores.length - 1) : heat.path;
  return `<div class="heat"><div class="heat-path">${escapeHtml(range)}</div><div class="strip">${cells}</div></div>`;
}

function headHtml(head: EvidenceHead): string {
  const lines = head.lines
    .map((line) => `<li><button class="location" ${target(line.uri, line.line)}>${escapeHtml(lineRangeLabel(line.path, line.line))}</button> <span class="score">${percent(line.score)}</span> <code>${escapeHtml(line.text)}</code></li>`)
    .join('\n');
  return `<li><h3>layer ${head.layer}, KV head ${head.kvHead}</h3>${head.lines.length > 0 ? `<ol>${lines}</ol>` : '<p class="empty">No lines.</p>'}</li>`;
}

function lastSegment(uri: string): string {
  const segment = uri.slice(uri.lastIndexOf('/') + 1);
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
}

function whereHtml(report: EvidenceReport): string {
  if (!report.uri || report.line === undefined) return '';
  // The report names the document by URI only; its last segment is what a person recognises.
  const name = lastSegment(report.uri);
  return ` at <button class="location" ${target(report.uri, report.line)}>${escapeHtml(lineRangeLabel(name, report.line))}</button>`;
}

/** Spans best first as a list, bars relative to the best; `none` when there are none. */
function spansHtml(evidenceSpans: readonly EvidenceSpan[], none: string): string {
  const spans = rankedSpans(evidenceSpans);
  const topScore = spans.length > 0 ? spans[0].score : 0;
  return spans.length > 0 ? `<ol class="spans">\n${spans.map((span) => spanHtml(span, topScore)).join('\n')}\n</ol>` : `<p class="empty">${none}</p>`;
}

export function renderEvidenceBody(report: EvidenceReport, view: EvidenceView): string {
  // A loop, not Math.max(...scores): a long file's scores would overflow the argument list.
  let maxHeat = 0;
  for (const heat of report.heat) for (const score of heat.scores) if (score > maxHeat) maxHeat = score;
  const kind = report.kind === 'completion' ? (view.accepted ? 'Completion (accepted)' : 'Completion') : 'Answer';
  return `<header>
<h1>${kind}${whereHtml(report)}</h1>
<pre class="completion">${escapeHtml(report.text)}</pre>
<p class="meta">Heads: ${escapeHtml(report.heads)}.</p>
<p class="meta">Evidence took ${Math.round(report.evidenceMs)} ms of ${Math.round(report.totalMs)} ms in all; the prompt had ${report.promptTokens} tokens and the model wrote ${report.generatedTokens}.</p>
</header>
${
  report.questionSpans
    ? `<section>
<h2>Where the question points</h2>
<p class="meta">The workspace lines the model attended to while it read the question, before answering${report.questionBaseline ? `, beyond what it attends to for “${escapeHtml(report.questionBaseline)}”, a question that names nothing` : ''}.</p>
${spansHtml(report.questionSpans, 'The question drew no attention to workspace lines.')}
</section>
`
    : ''
}<section>
<h2>Workspace lines, by attention</h2>
${spansHtml(report.spans, 'The report holds no workspace lines.')}
</section>
${
  report.otherFileSpans
    ? `<section>
<h2>From other files</h2>
<p class="meta">The lines of files other than the one written in, ranked among themselves: the context you cannot see from the cursor.</p>
${spansHtml(report.otherFileSpans, 'No other file drew attention.')}
</section>
`
    : ''
}<section>
<h2>Attention per file</h2>
${report.heat.length > 0 ? report.heat.map((heat) => heatHtml(heat, maxHeat)).join('\n') : '<p class="empty">The prompt held no file lines.</p>'}
</section>
<details>
<summary>Per head, up to the first token (${report.perHead.length})</summary>
<ol class="heads">
${report.perHead.map(headHtml).join('\n')}
</ol>
</details>`;
}
