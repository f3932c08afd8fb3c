import { test } from 'node:test';
import assert from 'node:assert/strict';
import { askBody, doneTurn, locationsOf } from '../../../src/webview/askView';
import { page } from '../../../src/webview/html';
import { hostileUri, reportFixture } from './reportFixture';

test('locations are the spans best first, 1-based labels, bars relative to the best', () => {
  const locations = locationsOf(reportFixture());
  assert.deepEqual(
    locations.map((l) => [l.uri, l.line, l.label, l.relativeScore]),
    [
      ['file:///w/src/config.ts', 0, 'src/config.ts:1–2', 1],
      [hostileUri, 3, 'src/we"ird <name>.ts:4–5', 0.2],
    ],
  );
  // Plain text: the panel's script sets it with textContent.
  assert.equal(locations[1].text, `</div><div onclick="x()">\nconst s = 'it''s' && a < b;`);
});

test('a done turn carries the answer, the framing and the locations; no evidence is null, not empty', () => {
  const result = { answer: 'In src/config.ts.', framing: '// Q: where is the retry delay?', stopReason: 'eos', evidence: reportFixture() };
  const turn = doneTurn('ask-1', 'where is the retry delay?', result);
  assert.equal(turn.status, 'done');
  assert.equal(turn.answer, 'In src/config.ts.');
  assert.equal(turn.framing, '// Q: where is the retry delay?');
  assert.equal(turn.locations?.length, 2);
  assert.equal(doneTurn('ask-2', 'q', { ...result, evidence: null }).locations, null);
  // Even an empty answer keeps its locations: for "where is" questions they are the answer.
  assert.equal(doneTurn('ask-3', 'q', { ...result, answer: '' }).locations?.length, 2);
  // Where the question points: its own spans, when the report has them.
  assert.equal(turn.questionLocations, undefined);
  const report = reportFixture();
  const hostile = report.spans.find((span) => span.uri === hostileUri)!;
  const asked = doneTurn('ask-4', 'q', { ...result, evidence: { ...report, questionSpans: [hostile] } });
  assert.deepEqual(asked.questionLocations?.map((l) => [l.uri, l.line, l.relativeScore]), [[hostileUri, 3, 1]]);
  assert.equal(asked.questionBaseline, undefined);
  assert.equal(doneTurn('ask-5', 'q', { ...result, evidence: { ...report, questionSpans: [], questionBaseline: 'Where is it defined?' } }).questionBaseline, 'Where is it defined?');
});

test('the ask page has the follow-up form, the nonce on its script, and nothing remote', () => {
  const nonce = 'feedfacefeedfacefeedfacefeedface';
  const html = page({ title: 'Heed: Ask', cspSource: 'vscode-webview-resource:', nonce, styleUris: ['vscode-resource:/media/ask.css'], scriptUris: ['vscode-resource:/media/ask.js'], body: askBody() });
  assert.ok(html.includes('<form id="ask-form">'));
  assert.ok(html.includes('<textarea id="question"'));
  assert.ok(html.includes('<button type="button" id="cancel" hidden>Cancel</button>'));
  const scripts = html.match(/<script\b[^>]*>/g) ?? [];
  assert.equal(scripts.length, 1);
  assert.ok(scripts[0].includes(`nonce="${nonce}"`));
  assert.doesNotMatch(html, /https?:\/\//);
  assert.doesNotMatch(html, /\sstyle=|\son[a-z]+="/);
});
