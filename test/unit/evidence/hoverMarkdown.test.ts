// The evidence hover's Markdown: links with line fragments, fences that line text cannot close, escaping.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { escapeMarkdown, evidenceHover, scoreBar } from '../../../server/features/evidence/hoverMarkdown';
import type { EvidenceReport } from '../../../server/protocol';

const report = (text: string, path = 'src/a (copy).ts'): EvidenceReport => ({
  id: 'completion-1',
  kind: 'completion',
  text: 'x',
  heads: '8 retrieval KV heads of 32 (head-pattern.json)',
  spans: [
    { uri: 'file:///w/src/a%20(copy).ts', path, startLine: 4, endLine: 5, score: 0.6, lines: [{ uri: 'file:///w/src/a%20(copy).ts', path, line: 4, text, score: 0.6 }] },
    { uri: 'file:///w/b.ts', path: 'b.ts', startLine: 0, endLine: 0, score: 0.2, lines: [{ uri: 'file:///w/b.ts', path: 'b.ts', line: 0, text: 'const b = 1;', score: 0.2 }] },
  ],
  heat: [],
  perHead: [],
  promptTokens: 10,
  generatedTokens: 1,
  evidenceMs: 1,
  totalMs: 10,
});

test('spans link to their first line, 1-based, with parentheses escaped out of the link target', () => {
  const markdown = evidenceHover(report('const a = 1;'));
  assert.match(markdown, /\[src\/a \\\(copy\\\)\\\.ts:5\\-6\]\(file:\/\/\/w\/src\/a%20%28copy%29\.ts#L5\)/);
  assert.match(markdown, /\[b\\\.ts:1\]\(file:\/\/\/w\/b\.ts#L1\)/);
  assert.match(markdown, /60%/);
});

test('a line holding backticks gets a longer fence; markup in it stays code', () => {
  const line = 'const s = ```not a fence``` + "<script>alert(1)</script>";';
  const markdown = evidenceHover(report(line));
  assert.ok(markdown.includes('````\n' + line + '\n````'), markdown);
});

test('score bars are relative to the best span', () => {
  assert.equal(scoreBar(0.6, 0.6), '██████████');
  assert.equal(scoreBar(0.3, 0.6), '█████░░░░░');
  assert.equal(scoreBar(0.001, 0.6), '█░░░░░░░░░', 'a positive score shows at least one cell');
  assert.equal(escapeMarkdown('a_b*[c]'), 'a\\_b\\*\\[c\\]');
});

test('no spans: says so rather than showing an empty hover', () => {
  assert.match(evidenceHover({ ...report(''), spans: [] }), /found no workspace lines/);
});

test('after the top spans, the best of other files, ranked among themselves, until two of other files are shown', () => {
  const here = 'file:///w/src/main.ts';
  const money = 'file:///w/src/money.ts';
  const span = (uri: string, line: number, score: number) => ({ uri, path: uri.slice(10), startLine: line, endLine: line, score, lines: [{ uri, path: uri.slice(10), line, text: `line ${line}`, score }] });
  const base = report('x');
  // money.ts:8 is past the spans' cut of the whole report: only the other files' own ranking holds it.
  const local = {
    ...base,
    uri: here,
    spans: [span(here, 9, 0.4), span(here, 8, 0.2), span(here, 7, 0.1), span(here, 3, 0.05), span(money, 1, 0.03)],
    otherFileSpans: [span(money, 1, 0.03), span(money, 8, 0.01), span('file:///w/src/types.ts', 0, 0.005)],
  };
  const markdown = evidenceHover(local);
  assert.match(markdown, /From other files:\n\n\[src\/money\\\.ts:2\][^]*\[src\/money\\\.ts:9\]/);
  assert.doesNotMatch(markdown, /types\\\.ts/, 'two of other files at most');
  assert.doesNotMatch(markdown, /main\\\.ts:4\]/, 'only three spans of the current file');
  // With one other file's span among the top three, one more; it is not listed twice.
  const mixed = evidenceHover({ ...local, spans: [span(here, 9, 0.4), span(money, 1, 0.2), span(here, 7, 0.1)] });
  assert.equal(mixed.match(/money\\\.ts:2\]/g)?.length, 1);
  assert.match(mixed, /From other files:\n\n\[src\/money\\\.ts:9\]/);
  assert.doesNotMatch(mixed, /types\\\.ts/);
  // Without other files' spans, no section.
  assert.doesNotMatch(evidenceHover({ ...local, otherFileSpans: [] }), /From other files/);
});
