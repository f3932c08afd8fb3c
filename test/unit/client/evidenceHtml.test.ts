import { test } from 'node:test';
import assert from 'node:assert/strict';
import { evidenceUris, heatLevel, heatLevels, rankedSpans, renderEvidenceBody } from '../../../src/webview/evidenceHtml';
import { page } from '../../../src/webview/html';
import { hostilePath, hostileUri, reportFixture } from './reportFixture';

const nonce = '0123456789abcdef0123456789abcdef';
const render = (accepted = false) =>
  page({
    title: 'Heed: Evidence',
    cspSource: 'vscode-webview-resource:',
    nonce,
    styleUris: ['vscode-resource:/media/evidence.css'],
    scriptUris: ['vscode-resource:/media/evidence.js'],
    body: renderEvidenceBody(reportFixture(), { accepted }),
  });

const count = (text: string, pattern: RegExp) => (text.match(pattern) ?? []).length;

test('file and model text render as text, never as markup', () => {
  const html = render();
  assert.ok(!html.includes('<script>alert(1)'), 'no script from a line or the completion');
  assert.ok(html.includes('&lt;script&gt;alert(1)&lt;/script&gt;'));
  assert.ok(html.includes('&lt;/div&gt;&lt;div onclick=&quot;x()&quot;&gt;'));
  assert.ok(!html.includes('onclick="'));
  assert.ok(html.includes('a &lt; b'));
  assert.ok(html.includes('&amp; &quot;done&quot;'));
  // Only the page's own script tag, and it carries the nonce.
  assert.equal(count(html, /<script\b/g), 1);
  assert.match(html, new RegExp(`<script nonce="${nonce}" src="vscode-resource:/media/evidence.js"></script>`));
  // The line's </div> did not close anything: the markup's divs balance.
  assert.equal(count(html, /<div\b/g), count(html, /<\/div>/g));
  assert.equal(count(html, /<pre\b/g), count(html, /<\/pre>/g));
});

test('a quote in a path or URI stays inside its attribute', () => {
  const html = render();
  assert.ok(html.includes(`data-uri="file:///w/src/we%22ird%20%3Cname%3E.ts"`));
  assert.ok(html.includes('src/we&quot;ird &lt;name&gt;.ts:4–5'));
  assert.ok(!html.includes(hostilePath));
  for (const value of html.match(/data-uri="[^"]*"/g) ?? []) assert.ok(!value.slice(10, -1).includes('<'), value);
});

test('multi-byte text renders verbatim', () => {
  assert.ok(render().includes('export const retryDelayMs = 250; // 日本語 — naïve café 🚀'));
});

test('nothing remote and no inline style', () => {
  const html = render();
  assert.doesNotMatch(html, /https?:\/\//);
  assert.doesNotMatch(html, /\sstyle=/);
  // An escaped line may read "onclick=&quot;"; only an attribute has a raw quote after it.
  assert.doesNotMatch(html, /\son[a-z]+="/);
});

test('spans are ranked by score, with bars relative to the best', () => {
  const html = renderEvidenceBody(reportFixture(), { accepted: false });
  const config = html.indexOf('src/config.ts:1–2');
  const hostile = html.indexOf('src/we&quot;ird &lt;name&gt;.ts:4–5');
  assert.ok(config >= 0 && hostile > config, 'the 0.5 span before the 0.1 span');
  const meters = [...html.matchAll(/<meter min="0" max="1" value="([0-9.]+)"><\/meter>/g)].map((m) => Number(m[1]));
  assert.deepEqual(meters, [1, 0.2]);
  assert.ok(html.includes('50.0 %') && html.includes('10.0 %'));
  assert.deepEqual(rankedSpans(reportFixture().spans).map((s) => s.score), [0.5, 0.1]);
});

test('the header says which heads, how long, and whether it was accepted', () => {
  const html = renderEvidenceBody(reportFixture(), { accepted: true });
  assert.ok(html.includes('Completion (accepted)'));
  assert.ok(html.includes('Heads: 8 retrieval KV heads of 32 (head-pattern.json).'));
  assert.ok(html.includes('Evidence took 4 ms of 120 ms in all'));
  assert.ok(html.includes('client.ts:10'));
  assert.ok(!renderEvidenceBody(reportFixture(), { accepted: false }).includes('(accepted)'));
});

test('each heat strip has one clickable cell per line the prompt held', () => {
  const html = renderEvidenceBody(reportFixture(), { accepted: false });
  const strips = [...html.matchAll(/<div class="strip">(.*?)<\/div>/g)].map((m) => m[1]);
  assert.equal(strips.length, 2);
  assert.equal(count(strips[0], /class="cell /g), 5);
  assert.equal(count(strips[1], /class="cell /g), 3);
  // The second file starts at line 2: its cells open lines 2, 3, 4.
  assert.deepEqual([...strips[1].matchAll(/data-line="(\d+)"/g)].map((m) => Number(m[1])), [2, 3, 4]);
  // The hottest line is the top level; no attention is level 0.
  assert.ok(strips[0].startsWith('<span class="cell h9"'));
  assert.equal(count(strips[0], /class="cell h0"/g), 2);
});

test('heat levels: 0 only for no attention, the maximum at the top', () => {
  assert.equal(heatLevel(0, 1), 0);
  assert.equal(heatLevel(0.5, 0), 0);
  assert.equal(heatLevel(1e-9, 1), 1);
  assert.equal(heatLevel(1, 1), heatLevels - 1);
  assert.equal(heatLevel(Number.NaN, 1), 0);
});

test('the per-head view is a collapsed details with each head and its lines', () => {
  const html = renderEvidenceBody(reportFixture(), { accepted: false });
  assert.match(html, /<details>\s*<summary>Per head, up to the first token \(2\)<\/summary>/);
  assert.ok(html.includes('layer 3, KV head 1'));
  assert.ok(html.includes('layer 5, KV head 0</h3><p class="empty">No lines.</p>'));
});

test('a report with no spans or heat says so instead of drawing nothing', () => {
  const empty = { ...reportFixture(), spans: [], heat: [], perHead: [] };
  const html = renderEvidenceBody(empty, { accepted: false });
  assert.ok(html.includes('The report holds no workspace lines.'));
  assert.ok(html.includes('The prompt held no file lines.'));
});

test('the URIs a panel may open are exactly those the report names', () => {
  assert.deepEqual([...evidenceUris(reportFixture())].sort(), ['file:///w/src/client.ts', 'file:///w/src/config.ts', hostileUri].sort());
});

test("an answer's report lists where its question points first, escaped like every span; the panel may open those places", () => {
  const report = reportFixture();
  const elsewhere = { ...report.spans[0], uri: 'file:///w/src/elsewhere.ts', path: 'src/elsewhere.ts', lines: report.spans[0].lines.map((line) => ({ ...line, uri: 'file:///w/src/elsewhere.ts' })) };
  const asked = { ...report, kind: 'answer' as const, questionSpans: [elsewhere, report.spans.find((span) => span.uri === hostileUri)!] };
  const html = renderEvidenceBody(asked, { accepted: false });
  const question = html.indexOf('<h2>Where the question points</h2>');
  assert.ok(question >= 0 && question < html.indexOf('<h2>Workspace lines, by attention</h2>'));
  assert.ok(!html.slice(question).includes('onclick="'));
  assert.ok(html.includes('src/elsewhere.ts'));
  assert.ok(evidenceUris(asked).has('file:///w/src/elsewhere.ts'));
  assert.ok(!renderEvidenceBody(report, { accepted: false }).includes('Where the question points'), 'a completion has no question');
  assert.ok(renderEvidenceBody({ ...asked, questionSpans: [] }, { accepted: false }).includes('The question drew no attention to workspace lines.'));
  assert.ok(!html.includes('a question that names nothing'));
  const lessNeutral = renderEvidenceBody({ ...asked, questionBaseline: 'Where is <it>?' }, { accepted: false });
  assert.ok(lessNeutral.includes('beyond what it attends to for “Where is &lt;it&gt;?”, a question that names nothing.'));
});

test("a completion's other files' spans follow the ranked spans, escaped like every span; the panel may open those places", () => {
  const report = reportFixture();
  const other = (uri: string, path: string) => ({ ...report.spans[0], uri, path, lines: report.spans[0].lines.map((line) => ({ ...line, uri, path })) });
  const withOthers = { ...report, otherFileSpans: [other('file:///w/src/far.ts', 'src/far.ts'), report.spans.find((span) => span.uri === hostileUri)!] };
  const html = renderEvidenceBody(withOthers, { accepted: false });
  const section = html.indexOf('<h2>From other files</h2>');
  assert.ok(section > html.indexOf('<h2>Workspace lines, by attention</h2>') && section < html.indexOf('<h2>Attention per file</h2>'));
  assert.ok(html.slice(section).includes('src/far.ts'));
  assert.ok(html.slice(section).includes('src/we&quot;ird &lt;name&gt;.ts'));
  assert.ok(!html.includes('onclick="') && !html.includes('<script>alert(1)'));
  assert.ok(evidenceUris(withOthers).has('file:///w/src/far.ts'));
  assert.ok(!renderEvidenceBody(report, { accepted: false }).includes('From other files'), 'a report without them has no section');
  assert.ok(renderEvidenceBody({ ...withOthers, otherFileSpans: [] }, { accepted: false }).includes('No other file drew attention.'));
});
