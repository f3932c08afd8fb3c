import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cursorText, cursorTokenCaps, skipReason, maxDocumentChars } from '../../../server/features/completion/documentContext';
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

test('the prefix starts at a line start that typing moves only once every quarter of its budget', () => {
  const text = Array.from({ length: 400 }, (_, i) => `const line${i} = ${i};`).join('\n');
  const starts = new Set<number>();
  let typed = text;
  let offset = 3000;
  for (let keystroke = 0; keystroke < 200; keystroke++) {
    typed = typed.slice(0, offset) + 'x' + typed.slice(offset);
    offset++;
    const { prefix } = cursorText(typed, offset, 1000, 100);
    assert.ok(prefix.length <= 1000, 'within its budget');
    assert.ok(prefix.length >= 1000 - 250 - 20, 'at most a step and a line short of it');
    const start = offset - prefix.length;
    assert.ok(start === 0 || typed[start - 1] === '\n', 'at a line start');
    starts.add(start);
  }
  assert.ok(starts.size <= 2, `200 keystrokes moved the start ${starts.size - 1} times`);
  // One long line: the start is cut inside it rather than giving up the prefix.
  const long = 'x'.repeat(5000);
  assert.equal(cursorText(long, 4000, 1000, 10).prefix.length, 1000);
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

test('workspace files stand between the repo name and the current file; cursor caps go on the cut parts', () => {
  const cursor = { prefix: 'a = ', suffix: '\nb', truncated: false };
  const fim = { eos: [0], fimPrefix: 1, fimSuffix: 2, fimMiddle: 3, fileSep: 4, repoName: 5 };
  const workspace = [{ special: 'fileSep' as const, dropRank: 1 }, { text: 'src/b.ts\n', dropRank: 1 }, { text: 'b\n', dropRank: 1 }];
  const parts = completionPrompt(fim, 'spm', 'repo', 'src/a.ts', cursor, { workspace, cursorTokens: { prefixMaxTokens: 30, suffixMaxTokens: 10 } });
  assert.deepEqual(parts, [
    { special: 'repoName' },
    { text: 'repo\n' },
    ...workspace,
    { special: 'fileSep' },
    { text: 'src/a.ts\n' },
    { special: 'fimSuffix' },
    { text: '\nb', cut: 'end', maxTokens: 10 },
    { special: 'fimPrefix' },
    { text: 'a = ', cut: 'start', maxTokens: 30 },
    { special: 'fimMiddle' },
  ]);
});

test('cursor caps: the suffix up to its share, the prefix the rest of the current file budget', () => {
  // A long suffix takes its whole share; a short one leaves the rest to the prefix.
  assert.deepEqual(cursorTokenCaps(2048, 100_000, 0.25, true), { prefixMaxTokens: 1536, suffixMaxTokens: 512 });
  assert.deepEqual(cursorTokenCaps(2048, 40, 0.25, true), { prefixMaxTokens: 2038, suffixMaxTokens: 512 });
  assert.deepEqual(cursorTokenCaps(2048, 0, 0.25, true), { prefixMaxTokens: 2048, suffixMaxTokens: 512 });
  // Without fill-in-the-middle the prefix is the whole current file.
  assert.deepEqual(cursorTokenCaps(2048, 100_000, 0.25, false), { prefixMaxTokens: 2048, suffixMaxTokens: 0 });
});
