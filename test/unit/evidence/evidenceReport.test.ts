// From the worker's (part, line) scores to files and lines: sources of each prompt part,
// the current file's two parts, CRLF text, spans and heat.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buildReport, partSources, type CurrentFile } from '../../../server/features/evidence/evidenceReport';
import type { PromptEvidence } from '../../../server/engine/evidence';
import type { PromptParts } from '../../../server/worker/messages';

const money = 'export const taxRate = 0.2;\r\nexport function withTax(x: number) {\r\n  return x * (1 + taxRate);\r\n}\r\n';
const activeText = 'import { withTax } from "./money";\n\nconst price = 10;\nconst total = withTax(pri\nconsole.log(total);\n';
const cursor = activeText.indexOf('pri\n') + 3;
const current: CurrentFile = { uri: 'file:///w/src/main.ts', path: 'src/main.ts', text: activeText, prefixStart: activeText.indexOf('const price'), cursor, excludeCursorLine: true };

// repo header, one workspace file, the current file in SPM order
const parts: PromptParts = [
  { special: 'repoName' },
  { text: 'w\n' },
  { special: 'fileSep', dropRank: 1 },
  { text: 'src/money.ts\n', dropRank: 1 },
  { text: money, dropRank: 1 },
  { special: 'fileSep' },
  { text: 'src/main.ts\n' },
  { special: 'fimSuffix' },
  { text: activeText.slice(cursor), cut: 'end' },
  { special: 'fimPrefix' },
  { text: activeText.slice(current.prefixStart, cursor), cut: 'start' },
  { special: 'fimMiddle' },
];
const uriOfPath = (path: string) => (path === 'src/money.ts' ? 'file:///w/src/money.ts' : undefined);

test('each text part maps to its file: workspace files from line 0, the text around the cursor from where it starts', () => {
  const sources = partSources(parts, uriOfPath, current);
  assert.deepEqual(
    sources.map((s) => s && [s.path, s.firstLine]),
    [undefined, undefined, undefined, undefined, ['src/money.ts', 0], undefined, undefined, undefined, ['src/main.ts', 3], undefined, ['src/main.ts', 2], undefined],
  );
  assert.equal(sources[4]!.lines[2], '  return x * (1 + taxRate);', 'CRLF lines lose their \\r');
  // A file the server cannot name stays out.
  assert.equal(partSources(parts, () => undefined, current)[4], undefined);
});

test('the report ranks lines of files, leaves out the cursor line and unnamed parts, merges neighbours into spans', () => {
  const sources = partSources(parts, uriOfPath, current);
  const evidence: PromptEvidence = {
    heads: 'retrieval',
    kvHeads: [{ layer: 1, kvHead: 0 }],
    headSource: '1 retrieval KV head of 4 (head-pattern.json)',
    lines: [
      { part: 4, line: 0, score: 0.3 }, // money.ts:1 taxRate
      { part: 10, line: 1, score: 0.25 }, // main.ts:4, the cursor line: not evidence
      { part: 4, line: 2, score: 0.15 }, // money.ts:3, one line from :1: same span
      { part: 10, line: 0, score: 0.1 }, // main.ts:3
      { part: 8, line: 0, score: 0.1 }, // main.ts:4 again (the suffix's first line): not evidence
      { part: 1, line: 0, score: 0.1 }, // the repo name: no file
    ],
    perHead: [{ layer: 1, kvHead: 0, lines: [{ part: 4, line: 0, score: 1 }] }],
    queries: 3,
    ms: 1.5,
  };
  const report = buildReport(evidence, sources, current, { id: 'completion-1', kind: 'completion', text: 'ce);', promptTokens: 100, generatedTokens: 3, totalMs: 40 });
  assert.equal(report.spans.length, 2);
  const [first, second] = report.spans;
  assert.deepEqual([first.path, first.startLine, first.endLine], ['src/money.ts', 0, 2]);
  assert.deepEqual(first.lines.map((l) => [l.line, l.text]), [
    [0, 'export const taxRate = 0.2;'],
    [2, '  return x * (1 + taxRate);'],
  ]);
  assert.ok(Math.abs(first.score - 0.45 / 0.55) < 1e-9, 'scores are shares of the lines that are files, cursor line left out');
  assert.deepEqual([second.path, second.startLine, second.lines[0].text], ['src/main.ts', 2, 'const price = 10;']);
  const moneyHeat = report.heat.find((h) => h.path === 'src/money.ts')!;
  assert.equal(moneyHeat.firstLine, 0);
  assert.equal(moneyHeat.scores.length, 5, 'four lines and the empty one after the last line break');
  const mainHeat = report.heat.find((h) => h.path === 'src/main.ts')!;
  assert.equal(mainHeat.firstLine, 2, 'the current file from where its text starts, the cursor line shared by both parts');
  assert.equal(mainHeat.scores.length, 4);
  assert.deepEqual(report.perHead[0].lines.map((l) => [l.path, l.line]), [['src/money.ts', 0]]);
  assert.equal(report.heads, evidence.headSource);
  // The other files' lines alone, scores still shares of the whole report.
  assert.deepEqual(report.otherFileSpans?.map((s) => [s.path, s.startLine, s.endLine, Number(s.score.toFixed(4))]), [['src/money.ts', 0, 2, Number((0.45 / 0.55).toFixed(4))]]);
});

test("a completion's other files are ranked among themselves, past the cut of the whole report's spans", () => {
  // 30 lines before the cursor, each outranking money.ts's: only the other files' own ranking keeps money.ts.
  const longText = Array.from({ length: 30 }, (_, i) => `const v${i} = ${i};`).join('\n') + '\nconst total = withTax(v';
  const longCurrent: CurrentFile = { ...current, text: longText, prefixStart: 0, cursor: longText.length };
  const longParts: PromptParts = [...parts.slice(0, 8), { text: '', cut: 'end' }, { special: 'fimPrefix' }, { text: longText, cut: 'start' }, { special: 'fimMiddle' }];
  const sources = partSources(longParts, uriOfPath, longCurrent);
  const evidence: PromptEvidence = {
    heads: 'retrieval',
    kvHeads: [{ layer: 1, kvHead: 0 }],
    headSource: '1 retrieval KV head of 4 (head-pattern.json)',
    lines: [...Array.from({ length: 30 }, (_, line) => ({ part: 10, line, score: 0.5 - line * 0.001 })), { part: 4, line: 3, score: 0.002 }, { part: 4, line: 0, score: 0.001 }],
    perHead: [],
    queries: 3,
    ms: 1,
  };
  const meta = { id: 'completion-2', kind: 'completion' as const, text: 'x', promptTokens: 100, generatedTokens: 3, totalMs: 40 };
  const report = buildReport(evidence, sources, longCurrent, meta);
  assert.ok(report.spans.length > 0 && report.spans.every((s) => s.path === 'src/main.ts'));
  assert.deepEqual(report.otherFileSpans?.map((s) => [s.path, s.startLine, s.endLine]), [['src/money.ts', 3, 3], ['src/money.ts', 0, 0]]);
  assert.equal(buildReport(evidence, partSources(longParts, uriOfPath, undefined), undefined, meta).otherFileSpans, undefined, 'an answer has no file it was written in');
});

test("an answer's report ranks the question's own lines apart; a completion's has none", () => {
  const sources = partSources(parts, uriOfPath, undefined);
  const evidence: PromptEvidence = {
    heads: 'retrieval',
    kvHeads: [{ layer: 1, kvHead: 0 }],
    headSource: '1 retrieval KV head of 4 (head-pattern.json)',
    lines: [{ part: 4, line: 3, score: 0.6 }, { part: 4, line: 0, score: 0.4 }],
    perHead: [],
    promptLines: [{ part: 4, line: 0, score: 0.5 }, { part: 1, line: 0, score: 0.3 }, { part: 4, line: 3, score: 0.2 }],
    queries: 12,
    ms: 1,
  };
  const meta = { id: 'answer-1', kind: 'answer' as const, text: 'x', promptTokens: 100, generatedTokens: 3, totalMs: 40 };
  const report = buildReport(evidence, sources, undefined, meta);
  assert.deepEqual(report.spans.map((s) => [s.startLine, s.endLine]), [[3, 3], [0, 0]], "the answer's lines");
  assert.deepEqual(report.questionSpans?.map((s) => [s.path, s.startLine, Number(s.score.toFixed(3))]), [['src/money.ts', 0, 0.714], ['src/money.ts', 3, 0.286]], "the question's, the repo name left out");
  assert.equal(buildReport({ ...evidence, promptLines: undefined }, sources, undefined, meta).questionSpans, undefined);
});

test('multi-byte text keeps its lines', () => {
  const text = 'const 名前 = "🎉";\nconst é = 1;\n';
  const sources = partSources([{ special: 'fileSep' }, { text: 'a.ts\n' }, { text }], () => 'file:///a.ts');
  assert.deepEqual(sources[2]!.lines, ['const 名前 = "🎉";', 'const é = 1;', '']);
});
