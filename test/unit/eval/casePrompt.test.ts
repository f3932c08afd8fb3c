// Case files and the prompts heed eval builds from them.
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { test } from 'node:test';
import { readCases, CaseFormatError, type CompletionCase } from '../../../server/eval/cases';
import { casePrompt } from '../../../server/eval/casePrompt';
import { loadTokenizer } from '../../../server/engine/tokenizer';
import { tokenizePrompt } from '../../../server/engine/promptTokens';
import { tempDir } from '../engine/engineFixtures';

// The shipped model's tokenizer (it has the FIM tokens); the bundle runs from out/test/unit/eval/.
const tokenizer = loadTokenizer(join(resolve(__dirname, '../../../..'), 'models', 'heed-code-30m'));

/** About two tokens a word: text that no tokenizer folds into a few tokens. */
const words = (n: number) => Array.from({ length: n }, (_, i) => `w${i * 7919}`).join(' ');

const base: CompletionCase = {
  id: 'c1',
  kind: 'cross_file',
  workspace: {
    'docs/notes.md': words(150),
    'src/core/constants.ts': 'export const LIMIT = 10;\n',
    'src/core/other.ts': 'export const OTHER = 2;\n',
    'test/far.ts': words(100),
  },
  path: 'src/core/main.ts',
  prefix: 'import { LIMIT } from "./constants";\n',
  suffix: '\nexport {};\n',
  target: 'const limit = LIMIT;',
};

function fileOrder(parts: ReturnType<typeof casePrompt>['parts']): string[] {
  return parts.flatMap((p) => ('text' in p && p.text.includes('\n') && !p.cut ? [p.text.split('\n')[0]] : []));
}

test('workspace files: the nearest paths are kept first and placed last; the budget is kept', () => {
  const wide = casePrompt(base, tokenizer, 'psm', { contextTokens: 4000, prefixTokens: 500, suffixTokens: 100, withContext: true });
  assert.deepEqual(fileOrder(wide.parts).slice(1, -1), ['test/far.ts', 'docs/notes.md', 'src/core/other.ts', 'src/core/constants.ts']);
  assert.equal(wide.contextFiles, 4);
  // A budget for about the current file and the two nearest files: the far ones go.
  const narrow = casePrompt(base, tokenizer, 'psm', { contextTokens: 200, prefixTokens: 500, suffixTokens: 100, withContext: true });
  assert.deepEqual(fileOrder(narrow.parts).slice(1, -1), ['src/core/other.ts', 'src/core/constants.ts']);
  assert.ok(tokenizePrompt(tokenizer, narrow.parts, 1_000_000).length <= 200);
  const alone = casePrompt(base, tokenizer, 'psm', { contextTokens: 4000, prefixTokens: 500, suffixTokens: 100, withContext: false });
  assert.equal(alone.contextFiles, 0);
});

test('a needle case keeps its own file order; SPM puts the suffix first', () => {
  const needle = { ...base, kind: 'needle', workspace: { 'app/settings.py': 'KEY = 1\n', 'lib/a.py': 'a = 2\n', 'lib/b.py': 'b = 3\n' } };
  const prompt = casePrompt(needle, tokenizer, 'spm', { contextTokens: 4000, prefixTokens: 500, suffixTokens: 100, withContext: true });
  assert.deepEqual(fileOrder(prompt.parts).slice(1, -1), ['app/settings.py', 'lib/a.py', 'lib/b.py']);
  const tail = prompt.parts.slice(-5).map((p) => ('special' in p ? p.special : 'text'));
  assert.deepEqual(tail, ['fimSuffix', 'text', 'fimPrefix', 'text', 'fimMiddle']);
});

test('the current file is cut to its token budgets at the far ends', () => {
  const long = { ...base, prefix: 'a'.repeat(50) + 'END\n', suffix: 'START' + 'b'.repeat(50) };
  const prompt = casePrompt(long, tokenizer, 'psm', { contextTokens: 4000, prefixTokens: 10, suffixTokens: 8, withContext: false });
  const texts = prompt.parts.filter((p) => 'cut' in p && p.cut).map((p) => ('text' in p ? p.text : ''));
  assert.ok(texts[0].endsWith('END\n') && tokenizer.encode(texts[0]).length <= 10, JSON.stringify(texts[0]));
  assert.ok(texts[1].startsWith('START') && tokenizer.encode(texts[1]).length <= 8, JSON.stringify(texts[1]));
});

test('case files: a bad line or a duplicate id is a problem with its line number; the other cases are read', () => {
  const dir = tempDir('heed-cases-');
  const good = JSON.stringify(base);
  const file = join(dir, 'cases.jsonl');
  writeFileSync(file, `${good}\n\n${JSON.stringify({ ...base, id: 'c2', extra: 1 })}\n`);
  assert.deepEqual(readCases(file).cases.map((c) => c.id), ['c1', 'c2']);
  writeFileSync(file, `${good}\n{"id": "x"}\nnot json\n${good}\n${JSON.stringify({ ...base, id: 'c3' })}\n`);
  const { cases, problems } = readCases(file);
  assert.deepEqual(cases.map((c) => c.id), ['c1', 'c3']);
  assert.deepEqual(problems.map((p) => p.line), [2, 3, 4]);
  assert.ok(problems[0] instanceof CaseFormatError && /"path"/.test(problems[0].message));
  assert.match(problems[2].message, /duplicate id "c1"/);
});
