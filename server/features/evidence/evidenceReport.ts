// From the worker's evidence (scores per prompt part and line) to what the editor shows:
// the parts that are files are mapped to their documents and lines, the rest (the repo
// name, path lines) left out; the top lines are merged into spans; each file gets a heat
// strip and each head its own top lines.

import type { PromptEvidence } from '../../engine/evidence';
import type { PartLineScore } from '../../engine/evidenceLines';
import type { EvidenceHead, EvidenceHeat, EvidenceLine, EvidenceReport, EvidenceSpan } from '../../protocol';
import type { PromptParts } from '../../worker/messages';

/** A prompt part that is a file's text: its document, and the file line its first line is. */
export interface PartSource {
  uri: string;
  path: string;
  firstLine: number;
  /** The file's lines (or the part's, for workspace files, which hold the whole file), '\r' removed; split when first read. */
  readonly lines: string[];
  /** Lines of the file this part holds: [firstLine, firstLine + lineCount). */
  lineCount: number;
}

/** The document a completion or question was asked in, and where its text before the cursor starts. */
export interface CurrentFile {
  uri: string;
  path: string;
  text: string;
  /** Offsets of the text before the cursor ([prefixStart, cursor)) and of the cursor; the text after it starts there. */
  prefixStart: number;
  cursor: number;
  /** The cursor's own line is what is being written: never evidence. */
  excludeCursorLine: boolean;
}

const splitLines = (text: string): string[] => text.split('\n').map((line) => (line.endsWith('\r') ? line.slice(0, -1) : line));

/** Line breaks in text: its lines are one more. */
function lineBreaks(text: string): number {
  let count = 0;
  for (let i = text.indexOf('\n'); i >= 0; i = text.indexOf('\n', i + 1)) count++;
  return count;
}

/**
 * A source whose lines are split only when read: a completion maps every part of its
 * prompt (the whole workspace) but shows a few dozen lines, on every keystroke.
 */
function source(uri: string, path: string, firstLine: number, lines: () => string[], partText: string): PartSource {
  return {
    uri,
    path,
    firstLine,
    lineCount: lineBreaks(partText) + 1,
    get lines() {
      return lines();
    },
  };
}

/** The lines of `text`, split at the first call and remembered. */
function linesOnce(text: string): () => string[] {
  let lines: string[] | undefined;
  return () => (lines ??= splitLines(text));
}

function lineAt(text: string, offset: number): number {
  let line = 0;
  for (let i = text.indexOf('\n'); i >= 0 && i < offset; i = text.indexOf('\n', i + 1)) line++;
  return line;
}

/**
 * The source of each prompt part: a workspace file's text part follows its separator and
 * path line (assemble.ts's layout), and `uriOfPath` names its document; the current file's
 * text is the part cut at its start (before the cursor) and the part cut at its end (after).
 */
export function partSources(parts: PromptParts, uriOfPath: (path: string) => string | undefined, current?: CurrentFile): Array<PartSource | undefined> {
  const currentLines = current && linesOnce(current.text);
  return parts.map((part, i): PartSource | undefined => {
    if (!('text' in part)) return undefined;
    if (part.cut && current) {
      const start = part.cut === 'start' ? current.prefixStart : current.cursor;
      return source(current.uri, current.path, lineAt(current.text, start), currentLines!, part.text);
    }
    const separator = parts[i - 2];
    const pathPart = parts[i - 1];
    if (!separator || !('special' in separator) || separator.special !== 'fileSep' || !pathPart || !('text' in pathPart) || pathPart.cut) return undefined;
    const path = pathPart.text.replace(/\n$/, '');
    const uri = uriOfPath(path);
    if (!uri) return undefined;
    return source(uri, path, 0, linesOnce(part.text), part.text);
  });
}

/** How many lines the report lists, at most, before merging them into spans; and spans kept. */
const topLines = 24;
const maxSpans = 8;
/** Evidence lines of one file with at most this many lines between them merge into one span. */
const spanGapLines = 1;
/** A span stops growing at this many lines: a hover shows a place, not a function. */
const maxSpanLines = 6;
const perHeadTop = 5;

interface Located {
  uri: string;
  path: string;
  line: number;
  text: string;
  score: number;
}

/** Scores of the lines that map to files, summed per file line (the current file's two parts share the cursor line), renormalized to 1. */
function locate(scores: readonly PartLineScore[], sources: ReadonlyArray<PartSource | undefined>, current: CurrentFile | undefined): Located[] {
  const cursorLine = current?.excludeCursorLine ? lineAt(current.text, current.cursor) : -1;
  const byLine = new Map<string, Located>();
  let total = 0;
  for (const { part, line, score } of scores) {
    const source = sources[part];
    if (!source) continue;
    const fileLine = source.firstLine + line;
    if (current && source.uri === current.uri && fileLine === cursorLine) continue;
    const key = `${source.uri}\n${fileLine}`;
    let entry = byLine.get(key);
    if (!entry) byLine.set(key, (entry = { uri: source.uri, path: source.path, line: fileLine, text: source.lines[fileLine] ?? '', score: 0 }));
    entry.score += score;
    total += score;
  }
  const located = [...byLine.values()].sort((a, b) => b.score - a.score || (a.path < b.path ? -1 : a.path > b.path ? 1 : 0) || a.line - b.line);
  if (total > 0) for (const entry of located) entry.score /= total;
  return located;
}

/** The top lines merged into spans of nearby lines of the same file, highest summed score first. */
export function spansOf(located: readonly Located[]): EvidenceSpan[] {
  const top = located.slice(0, topLines).slice().sort((a, b) => (a.uri < b.uri ? -1 : a.uri > b.uri ? 1 : a.line - b.line));
  const spans: EvidenceSpan[] = [];
  for (const line of top) {
    const last = spans[spans.length - 1];
    const evidenceLine: EvidenceLine = { uri: line.uri, path: line.path, line: line.line, text: line.text, score: line.score };
    if (last && last.uri === line.uri && line.line - last.endLine <= spanGapLines + 1 && line.line - last.startLine < maxSpanLines) {
      last.endLine = line.line;
      last.score += line.score;
      last.lines.push(evidenceLine);
    } else {
      spans.push({ uri: line.uri, path: line.path, startLine: line.line, endLine: line.line, score: line.score, lines: [evidenceLine] });
    }
  }
  return spans.sort((a, b) => b.score - a.score).slice(0, maxSpans);
}

function heatOf(located: readonly Located[], sources: ReadonlyArray<PartSource | undefined>): EvidenceHeat[] {
  const files = new Map<string, { path: string; first: number; end: number; scores: Map<number, number> }>();
  for (const source of sources) {
    if (!source) continue;
    const file = files.get(source.uri) ?? { path: source.path, first: source.firstLine, end: source.firstLine, scores: new Map() };
    file.first = Math.min(file.first, source.firstLine);
    file.end = Math.max(file.end, source.firstLine + source.lineCount);
    files.set(source.uri, file);
  }
  for (const line of located) files.get(line.uri)?.scores.set(line.line, line.score);
  return [...files.entries()].map(([uri, file]) => ({
    uri,
    path: file.path,
    firstLine: file.first,
    scores: Array.from({ length: file.end - file.first }, (_, i) => file.scores.get(file.first + i) ?? 0),
  }));
}

export interface ReportMeta {
  id: string;
  kind: EvidenceReport['kind'];
  text: string;
  uri?: string;
  line?: number;
  character?: number;
  promptTokens: number;
  generatedTokens: number;
  totalMs: number;
  /** EvidenceReport.questionBaseline. */
  questionBaseline?: string;
}

export function buildReport(evidence: PromptEvidence, sources: ReadonlyArray<PartSource | undefined>, current: CurrentFile | undefined, meta: ReportMeta): EvidenceReport {
  const located = locate(evidence.lines, sources, current);
  const perHead: EvidenceHead[] = evidence.perHead.map(({ layer, kvHead, lines }) => ({
    layer,
    kvHead,
    lines: locate(lines, sources, current)
      .slice(0, perHeadTop)
      .map(({ uri, path, line, text, score }) => ({ uri, path, line, text, score })),
  }));
  return {
    ...meta,
    heads: evidence.headSource,
    spans: spansOf(located),
    ...(current ? { otherFileSpans: spansOf(located.filter((line) => line.uri !== current.uri)) } : {}),
    ...(evidence.promptLines ? { questionSpans: spansOf(locate(evidence.promptLines, sources, current)) } : {}),
    heat: heatOf(located, sources),
    perHead,
    evidenceMs: evidence.ms,
  };
}
