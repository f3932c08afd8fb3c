// Candidate lines of a prompt and the prompt with lines removed, as the evidence eval uses them.
import assert from 'node:assert/strict';
import { join, resolve } from 'node:path';
import { test } from 'node:test';
import { candidateLines, removeLines } from '../../../server/eval/removeLines';
import { casePrompt } from '../../../server/eval/casePrompt';
import { loadTokenizer } from '../../../server/engine/tokenizer';
import type { PromptParts } from '../../../server/worker/messages';
import type { CompletionCase } from '../../../server/eval/cases';

// A prompt in casePrompt's SPM layout: the cursor sits between the prefix part's last line
// ("  return ") and the suffix part's first line ("" here: the target line's own end).
const parts: PromptParts = [
  { special: 'repoName' },
  { text: 'repo\n' },
  { special: 'fileSep' },
  { text: 'lib/a.ts\nexport const A = 1;\n\n   \nexport const B = 2;' },
  { special: 'fileSep' },
  { text: 'main.ts\n' },
  { special: 'fimSuffix' },
  { text: ' + 1;\n}\n', cut: 'end' },
  { special: 'fimPrefix' },
  { text: 'function f() {\n  return ', cut: 'start' },
  { special: 'fimMiddle' },
];

test('candidates: non-blank lines of text parts, in prompt order, without the cursor line on either side', () => {
  assert.deepEqual(candidateLines(parts), [
    { part: 1, line: 0 },
    { part: 3, line: 0 },
    { part: 3, line: 1 },
    { part: 3, line: 4 },
    { part: 5, line: 0 },
    { part: 7, line: 1 },
    { part: 9, line: 0 },
  ]);
});

test('removal deletes each line with its line break; a last line takes the break before it', () => {
  const removed = removeLines(parts, [
    { part: 3, line: 1 },
    { part: 3, line: 4 },
    { part: 7, line: 1 },
    { part: 9, line: 0 },
  ]);
  assert.deepEqual(removed[3], { text: 'lib/a.ts\n\n   ' });
  assert.deepEqual(removed[7], { text: ' + 1;\n', cut: 'end' });
  assert.deepEqual(removed[9], { text: '  return ', cut: 'start' });
  // Parts without removals are the same objects, and the input is left as it was.
  assert.equal(removed[1], parts[1]);
  assert.equal(removed[5], parts[5]);
  assert.equal((parts[3] as { text: string }).text, 'lib/a.ts\nexport const A = 1;\n\n   \nexport const B = 2;');
});

test('removing every line of a part leaves it empty; a line listed twice is removed once', () => {
  const removed = removeLines(parts, [{ part: 1, line: 0 }, { part: 1, line: 1 }, { part: 1, line: 0 }]);
  assert.deepEqual(removed[1], { text: '' });
  const once = removeLines(parts, [{ part: 3, line: 0 }, { part: 3, line: 0 }]);
  assert.deepEqual(once[3], { text: 'export const A = 1;\n\n   \nexport const B = 2;' });
});

test('a line that is not in a text part is refused by name', () => {
  assert.throws(() => removeLines(parts, [{ part: 0, line: 0 }]), /part 0 is not a text part/);
  assert.throws(() => removeLines(parts, [{ part: 1, line: 2 }]), /part 1 has 2 lines, not a line 2/);
  assert.throws(() => removeLines(parts, [{ part: 40, line: 0 }]), /part 40 is not a text part/);
});

test('on a prompt casePrompt built, the cursor line is never a candidate and each removal shortens the prompt by its line', () => {
  const tokenizer = loadTokenizer(join(resolve(__dirname, '../../../..'), 'models', 'heed-code-30m'));
  const c: CompletionCase = {
    id: 'r1',
    kind: 'cross_file',
    workspace: { 'src/limits.ts': 'export const LIMIT = 10;\nexport const FLOOR = 1;\n' },
    path: 'src/main.ts',
    prefix: 'import { LIMIT } from "./limits";\n\nexport function clamp(x: number) {\n  ',
    suffix: '\n  return x;\n}\n',
    target: 'if (x > LIMIT) x = LIMIT;',
  };
  const built = casePrompt(c, tokenizer, 'spm', { contextTokens: 1000, prefixTokens: 500, suffixTokens: 100, withContext: true }).parts;
  const texts = (p: PromptParts) => p.flatMap((x) => ('text' in x ? [x.text] : []));
  const lineText = (l: { part: number; line: number }) => (built[l.part] as { text: string }).text.split('\n')[l.line];
  const candidates = candidateLines(built);
  assert.deepEqual(candidates.map(lineText), [
    'workspace',
    'src/limits.ts',
    'export const LIMIT = 10;',
    'export const FLOOR = 1;',
    'src/main.ts',
    '  return x;',
    '}',
    'import { LIMIT } from "./limits";',
    'export function clamp(x: number) {',
  ]);
  for (const l of candidates) {
    const before = texts(built).join('');
    const after = texts(removeLines(built, [l])).join('');
    assert.equal(before.length - after.length, lineText(l).length + 1, lineText(l));
  }
});
