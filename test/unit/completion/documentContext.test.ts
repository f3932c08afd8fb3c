import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cursorText, skipReason, maxDocumentChars } from '../../../server/features/completion/documentContext';
import { completionPrompt, promptFormatFor } from '../../../server/features/completion/prompt';

function at(marked: string): { text: string; offset: number } {
  const offset = marked.indexOf('║');
  return { text: marked.replace('║', ''), offset };
}

test('cursorText splits at the cursor and keeps whole lines within budgets', () => {
  const { text, offset } = at('line one\nline two\nline th║ree\nline four\nline five\n');
  assert.deepEqual(cursorText(text, offset, 1000, 1000), { prefix: 'line one\nline two\nline th', suffix: 'ree\nline four\nline five\n', truncated: false });
  const cut = cursorText(text, offset, 12, 12);
  assert.equal(cut.prefix, 'line th');
  assert.equal(cut.suffix, 'ree\n');
  assert.equal(cut.truncated, true);
});

test('cursorText keeps multi-byte text and CRLF intact', () => {
  const { text, offset } = at('const ñ = "日本語";\r\nconst 😀 = ║1;\r\n');
  const { prefix, suffix } = cursorText(text, offset, 1000, 1000);
  assert.equal(prefix + suffix, text);
  assert.ok(prefix.endsWith('const 😀 = '));
});

test('skipReason finds binary and oversized documents', () => {
  assert.equal(skipReason('plain text\n'), undefined);
  assert.equal(skipReason('abc\u0000def'), 'binary');
  assert.equal(skipReason('\uFFFD'.repeat(50) + 'x'.repeat(100)), 'binary');
  assert.equal(skipReason('naïve café \uFFFD once in a long text '.repeat(20)), undefined);
  assert.equal(skipReason('x'.repeat(maxDocumentChars + 1)), 'too_large');
});

test("prompt uses FIM in the model's order when the tokenizer has its tokens, prefix-only otherwise", () => {
  const cursor = { prefix: 'a = ', suffix: '\nb', truncated: false };
  const fim = { eos: [0], fimPrefix: 1, fimSuffix: 2, fimMiddle: 3, fileSep: 4, repoName: 5 };
  const head = [{ special: 'repoName' }, { text: 'repo\n' }, { special: 'fileSep' }, { text: 'src/a.ts\n' }];
  const prefix = [{ special: 'fimPrefix' }, { text: 'a = ', cut: 'start' }];
  const suffix = [{ special: 'fimSuffix' }, { text: '\nb', cut: 'end' }];
  assert.equal(promptFormatFor(fim, 'psm'), 'psm');
  assert.equal(promptFormatFor(fim, 'spm'), 'spm');
  assert.deepEqual(completionPrompt(fim, 'psm', 'repo', 'src/a.ts', cursor), [...head, ...prefix, ...suffix, { special: 'fimMiddle' }]);
  assert.deepEqual(completionPrompt(fim, 'spm', 'repo', 'src/a.ts', cursor), [...head, ...suffix, ...prefix, { special: 'fimMiddle' }]);
  const plain = { eos: [0], fileSep: 4 };
  assert.equal(promptFormatFor(plain, 'spm'), 'prefix');
  assert.deepEqual(completionPrompt(plain, 'spm', 'repo', 'src/a.ts', cursor), [{ special: 'fileSep' }, { text: 'src/a.ts\n' }, { text: 'a = ', cut: 'start' }]);
});
