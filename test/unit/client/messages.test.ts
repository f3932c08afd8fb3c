import { test } from 'node:test';
import assert from 'node:assert/strict';
import { maxQuestionChars, parseAskPanelMessage, parseEvidencePanelMessage, parseOpenMessage } from '../../../src/webview/messages';

const allowed = new Set(['file:///w/a.ts']);
const asks = new Set(['ask-1']);

test('an open request needs a URI the panel showed and a non-negative integer line', () => {
  assert.deepEqual(parseOpenMessage({ type: 'open', uri: 'file:///w/a.ts', line: 3 }, allowed), { type: 'open', uri: 'file:///w/a.ts', line: 3 });
  const rejected: unknown[] = [
    { type: 'open', uri: 'file:///etc/passwd', line: 0 },
    { type: 'open', uri: 'command:workbench.action.terminal.new', line: 0 },
    { type: 'open', uri: 'file:///w/a.ts', line: 1.5 },
    { type: 'open', uri: 'file:///w/a.ts', line: -1 },
    { type: 'open', uri: 'file:///w/a.ts', line: '3' },
    { type: 'open', uri: 'file:///w/a.ts', line: Number.NaN },
    { type: 'open', uri: 'file:///w/a.ts', line: Number.POSITIVE_INFINITY },
    { type: 'open', uri: ['file:///w/a.ts'], line: 0 },
    { type: 'open', line: 0 },
    { type: 'ask', uri: 'file:///w/a.ts', line: 0 },
    null,
    'open',
    [],
  ];
  for (const message of rejected) assert.equal(parseOpenMessage(message, allowed), undefined, JSON.stringify(message));
  assert.equal(parseEvidencePanelMessage({ type: 'open', uri: 'file:///w/a.ts', line: 0 }, new Set()), undefined);
});

test('the evidence panel accepts nothing but open', () => {
  assert.equal(parseEvidencePanelMessage({ type: 'cancel' }, allowed), undefined);
  assert.equal(parseEvidencePanelMessage({ type: 'ask', question: 'x' }, allowed), undefined);
});

test('ask panel messages', () => {
  assert.deepEqual(parseAskPanelMessage({ type: 'ask', question: '  where is the retry delay?\n' }, allowed, asks), { type: 'ask', question: 'where is the retry delay?' });
  assert.equal(parseAskPanelMessage({ type: 'ask', question: '   ' }, allowed, asks), undefined);
  assert.equal(parseAskPanelMessage({ type: 'ask', question: 42 }, allowed, asks), undefined);
  assert.equal(parseAskPanelMessage({ type: 'ask', question: 'x'.repeat(maxQuestionChars + 1) }, allowed, asks), undefined);
  assert.deepEqual(parseAskPanelMessage({ type: 'cancel' }, allowed, asks), { type: 'cancel' });
  assert.deepEqual(parseAskPanelMessage({ type: 'ready' }, allowed, asks), { type: 'ready' });
  assert.deepEqual(parseAskPanelMessage({ type: 'copy' }, allowed, asks), { type: 'copy' });
  assert.deepEqual(parseAskPanelMessage({ type: 'copy', askId: 'ask-1' }, allowed, asks), { type: 'copy', askId: 'ask-1' });
  assert.equal(parseAskPanelMessage({ type: 'copy', askId: 'ask-2' }, allowed, asks), undefined);
  assert.deepEqual(parseAskPanelMessage({ type: 'evidence', askId: 'ask-1' }, allowed, asks), { type: 'evidence', askId: 'ask-1' });
  assert.equal(parseAskPanelMessage({ type: 'evidence' }, allowed, asks), undefined);
  assert.deepEqual(parseAskPanelMessage({ type: 'open', uri: 'file:///w/a.ts', line: 7 }, allowed, asks), { type: 'open', uri: 'file:///w/a.ts', line: 7 });
  assert.equal(parseAskPanelMessage({ type: 'open', uri: 'file:///w/b.ts', line: 7 }, allowed, asks), undefined);
  assert.equal(parseAskPanelMessage({ type: 'eval', code: '1' }, allowed, asks), undefined);
  assert.equal(parseAskPanelMessage(undefined, allowed, asks), undefined);
});
