// The defining line of a cross_file case's needed identifier, found from the case's text.
import assert from 'node:assert/strict';
import { join, resolve } from 'node:path';
import { test } from 'node:test';
import { crossFileHit, declarationPattern, definingLine, foreignIdentifiers, needleDefiningLine, needleHit, promptLineOf, sourceLine, workspaceParts } from '../../../server/eval/definingLine';
import { casePrompt } from '../../../server/eval/casePrompt';
import { loadTokenizer } from '../../../server/engine/tokenizer';
import type { CompletionCase } from '../../../server/eval/cases';

function caseOf(workspace: Record<string, string>, target: string, prefix = '', path = 'src/main.ts'): CompletionCase {
  return { id: 'd', kind: 'cross_file', workspace, path, prefix, suffix: '\n', target };
}

// Each row: a line, the name, whether the line declares it.
const declarations: Array<[string, string, boolean]> = [
  ['export const LIMIT = 10;', 'LIMIT', true],
  ['export async function fetchAll(urls) {', 'fetchAll', true],
  ['export default class Store {', 'Store', true],
  ['interface Options {', 'Options', true],
  ['export type Mode = "a" | "b";', 'Mode', true],
  ['enum Color { Red }', 'Color', true],
  ['let counter = 0', 'counter', true],
  ['def helper(x):', 'helper', true],
  ['async def fetch_page(url):', 'fetch_page', true],
  ['class Parser(Base):', 'Parser', true],
  ['MAX_SIZE = 5', 'MAX_SIZE', true],
  ['MAX_SIZE: int = 5', 'MAX_SIZE', true],
  ['    self.encoding = encoding', 'encoding', true],
  ['  readonly timeoutMs: number;', 'timeoutMs', true],
  ['  name?: string;', 'name', true],
  ['export { parse, format } from "./text";', 'format', true],
  ['LIMITS = 3', 'LIMIT', false],
  ['if x == LIMIT:', 'LIMIT', false],
  ['total = clamp(LIMIT)', 'LIMIT', false],
  ['a.LIMIT = 4', 'LIMIT', false],
  ['const limitOf = (LIMIT) => LIMIT;', 'LIMIT', false],
  ['from .limits import LIMIT', 'LIMIT', false],
  ['  LIMIT == other', 'LIMIT', false],
  ['  LIMIT => 2', 'LIMIT', false],
];

test('declaration patterns: keywords, assignments and annotations at the line start, export lines; not uses', () => {
  for (const [line, name, declares] of declarations) assert.equal(declarationPattern(name).test(line), declares, `${name} in ${line}`);
});

test('foreign identifiers: in the target, not in the own file, present in a workspace file; each once', () => {
  const c = caseOf({ 'src/a.ts': 'export const LIMIT = 10;\nexport function clamp() {}\n' }, 'x = clamp(LIMIT, LIMIT, value)', 'let value = 1;\nlet x;\n');
  assert.deepEqual(foreignIdentifiers(c, Object.keys(c.workspace)), ['clamp', 'LIMIT']);
  // A name the own file mentions (even only in an import) is not foreign.
  const imported = caseOf(c.workspace, 'x = clamp(LIMIT)', 'import { LIMIT } from "./a";\n');
  assert.deepEqual(foreignIdentifiers(imported, Object.keys(c.workspace)), ['clamp']);
});

test('the defining line: the nearest file that declares a foreign identifier, its first declaring line', () => {
  const c = caseOf(
    {
      'lib/far.ts': 'export const LIMIT = 99;\n',
      'src/use.ts': 'import { LIMIT } from "./limits";\nconsole.log(LIMIT);\n',
      'src/limits.ts': '// limits\nexport const FLOOR = 1;\nexport const LIMIT = 10;\nexport const LIMIT2 = LIMIT;\n',
    },
    'return Math.min(x, LIMIT);',
    'export function f(x: number) {\n',
  );
  // src/limits.ts and src/use.ts are nearer than lib/far.ts; only src/limits.ts declares it.
  assert.deepEqual(definingLine(c), { identifier: 'LIMIT', path: 'src/limits.ts', line: 2, declares: true });
  // Among other files only: lib/far.ts declares it.
  assert.deepEqual(definingLine(c, ['lib/far.ts', 'src/use.ts']), { identifier: 'LIMIT', path: 'lib/far.ts', line: 0, declares: true });
});

test('without a declaration, the first line that contains it; without a foreign identifier, none', () => {
  const c = caseOf({ 'src/use.py': 'import os\nfrom .limits import LIMIT\n' }, 'return LIMIT', 'def f():\n');
  assert.deepEqual(definingLine(c), { identifier: 'LIMIT', path: 'src/use.py', line: 1, declares: false });
  assert.equal(definingLine(caseOf({ 'src/a.py': 'x = 1\n' }, 'return value', 'value = 2\n')), undefined);
  assert.equal(definingLine(caseOf({ 'src/a.py': 'x = 1\n' }, 'return other', '')), undefined);
});

test('in the prompt: the workspace file parts casePrompt placed, a file line n at part line n + 1', () => {
  const tokenizer = loadTokenizer(join(resolve(__dirname, '../../../..'), 'models', 'heed-code-30m'));
  const c = caseOf({ 'src/limits.ts': 'export const FLOOR = 1;\nexport const LIMIT = 10;\n', 'src/big.ts': 'x'.repeat(20000) }, 'return LIMIT;', 'function f() {\n');
  const parts = casePrompt(c, tokenizer, 'spm', { contextTokens: 600, prefixTokens: 200, suffixTokens: 50, withContext: true }).parts;
  const files = workspaceParts(c, parts);
  assert.deepEqual([...files.keys()], ['src/limits.ts']); // src/big.ts is over the budget
  const where = promptLineOf(definingLine(c)!, files)!;
  assert.equal((parts[where.part] as { text: string }).text.split('\n')[where.line], 'export const LIMIT = 10;');
  assert.equal(promptLineOf({ identifier: 'x', path: 'src/big.ts', line: 0, declares: true }, files), undefined);
});

test('hit@k ranks evidence among candidate lines: the cursor line before the defining line does not push it down', () => {
  const tokenizer = loadTokenizer(join(resolve(__dirname, '../../../..'), 'models', 'heed-code-30m'));
  const c = caseOf({ 'src/limits.ts': 'export const FLOOR = 1;\nexport const LIMIT = 10;\n', 'lib/far.ts': 'export const LIMIT = 3;\n' }, 'return LIMIT;', 'function f() {\n  ');
  const parts = casePrompt(c, tokenizer, 'spm', { contextTokens: 600, prefixTokens: 200, suffixTokens: 50, withContext: false }).parts;
  // Without workspace files in the prompt, the definition is outside it.
  assert.deepEqual(crossFileHit(c, parts, { retrieval: [], all: [] }, [1]), { excluded: 'defined_outside_prompt' });
  assert.deepEqual(crossFileHit(caseOf(c.workspace, 'return x;', 'x = 1\n'), parts, { retrieval: [], all: [] }, [1]), { excluded: 'no_foreign_identifier' });

  const full = casePrompt(c, tokenizer, 'spm', { contextTokens: 600, prefixTokens: 200, suffixTokens: 50, withContext: true }).parts;
  const limits = full.findIndex((p) => 'text' in p && p.text.startsWith('src/limits.ts'));
  const cursor = full.findIndex((p) => 'text' in p && p.cut === 'start');
  const cursorLine = { part: cursor, line: 1 };
  const far = full.findIndex((p) => 'text' in p && p.text.startsWith('lib/far.ts'));
  // All heads rank lib/far.ts's declaration of LIMIT first: not the defining line, but a declaration of it.
  const all = [{ part: far, line: 1 }, { part: limits, line: 1 }, cursorLine, { part: limits, line: 0 }, { part: limits, line: 2 }];
  const result = crossFileHit(c, full, { retrieval: [cursorLine, { part: limits, line: 2 }], all }, [1, 3, 4]);
  assert.ok('hits' in result);
  assert.deepEqual(result.defining, { identifier: 'LIMIT', path: 'src/limits.ts', line: 1, declares: true });
  assert.deepEqual(result.hits, { retrieval: { 1: true, 3: true, 4: true }, all: { 1: false, 3: false, 4: true } });
  assert.deepEqual(result.anyDeclarationHits, { retrieval: { 1: true, 3: true, 4: true }, all: { 1: true, 3: true, 4: true } });
  // lib/far.ts's line is a character shorter, so more like the target: the source line, which only all heads rank.
  assert.deepEqual({ ...result.source, similarity: Math.round(result.source.similarity) }, { identifier: 'LIMIT', path: 'lib/far.ts', line: 0, declares: true, similarity: 56 });
  assert.deepEqual(result.sourceHits, { retrieval: { 1: false, 3: false, 4: false }, all: { 1: true, 3: true, 4: true } });
  // Among the other files' lines alone the current file's lines are set aside: its line `function f() {` ranked
  // first hides the defining line from hit@1, not from the other files' hit@1.
  const withOwnLine = crossFileHit(c, full, { retrieval: [{ part: cursor, line: 0 }, { part: limits, line: 2 }], all }, [1, 3, 4]);
  assert.ok('hits' in withOwnLine);
  assert.deepEqual(withOwnLine.hits.retrieval, { 1: false, 3: true, 4: true });
  assert.deepEqual(withOwnLine.otherFileHits, { retrieval: { 1: true, 3: true, 4: true }, all: { 1: false, 3: true, 4: true } });
  // The source line is far.ts's: all heads' first of the other files; the retrieval heads never rank it.
  assert.deepEqual(withOwnLine.otherFileSourceHits, { retrieval: { 1: false, 3: false, 4: false }, all: { 1: true, 3: true, 4: true } });
  // limits.ts's path line is no file line: all heads' third is the defining line.
  assert.deepEqual(withOwnLine.otherFileTop, { retrieval: ['src/limits.ts:1'], all: ['lib/far.ts:0', 'src/limits.ts:0', 'src/limits.ts:1'] });
});

test('the source line: of the lines holding a foreign identifier, the one most like the target, wherever the name is declared', () => {
  const c = caseOf(
    {
      'src/breaker/count.js': 'Object.defineProperty(exports, "__esModule", { value: true });\nclass CountBreaker {\n  set state(value) {\n  }\n}\n',
      'src/breaker/sampling.d.ts': 'export declare class SamplingBreaker {\n  get state(): unknown;\n  set state(value: unknown);\n}\n',
      'lib/far.d.ts': 'set state(value: unknown);\n',
    },
    '  set state(value: unknown);',
    'export declare class CountBreaker {\n  get state(): unknown;\n',
    'src/breaker/count.d.ts',
  );
  // The defining line is the first line that merely contains `value`; the source line is the signature copied
  // (lib/far.d.ts holds the same line, but the nearer file wins the tie).
  assert.deepEqual(definingLine(c), { identifier: 'value', path: 'src/breaker/count.js', line: 0, declares: false });
  const source = sourceLine(c)!;
  assert.deepEqual({ ...source, similarity: Math.round(source.similarity) }, { identifier: 'set', path: 'src/breaker/sampling.d.ts', line: 2, declares: false, similarity: 100 });
  // Among other files only, the far file's identical line.
  assert.equal(sourceLine(c, ['lib/far.d.ts', 'src/breaker/count.js'])!.path, 'lib/far.d.ts');
  assert.equal(sourceLine(caseOf({ 'src/a.py': 'x = 1\n' }, 'return other', '')), undefined);
});

test("a needle's defining line assigns the value its target repeats; hit@k asks whether evidence ranks that line", () => {
  const tokenizer = loadTokenizer(join(resolve(__dirname, '../../../..'), 'models', 'heed-code-30m'));
  const workspace = {
    'src/settings-alpha.ts': '// Settings of the beta service.\n\nexport const alphaBetaGamma = 604211;\n',
    'lib/1/filler.ts': 'const other = 6042;\nexport const limit = 604211 + 1;\n',
  };
  const c: CompletionCase = {
    id: 'n',
    kind: 'needle',
    workspace,
    path: 'src/settings.test.ts',
    prefix: "import { alphaBetaGamma } from './settings-alpha';\n\ntest('gamma setting', () => {\n  expect(alphaBetaGamma).toBe(",
    suffix: '\n});\n',
    target: '604211);',
  };
  assert.deepEqual(needleDefiningLine(c), { identifier: 'alphaBetaGamma', path: 'src/settings-alpha.ts', line: 2, declares: true });
  const python = { ...c, workspace: { 'app/settings_alpha.py': '"""Settings."""\n\nALPHA_BETA = "k7f9q2"\n' }, path: 'app/test_settings.py', target: '"k7f9q2"' };
  assert.deepEqual(needleDefiningLine(python), { identifier: 'ALPHA_BETA', path: 'app/settings_alpha.py', line: 2, declares: true });
  assert.equal(needleDefiningLine({ ...c, target: '604212);' }), undefined);

  const budget = { contextTokens: 600, prefixTokens: 200, suffixTokens: 50 };
  const bare = casePrompt(c, tokenizer, 'spm', { ...budget, withContext: false }).parts;
  assert.deepEqual(needleHit(c, bare, { retrieval: [], all: [] }, [1]), { excluded: 'defined_outside_prompt' });
  assert.deepEqual(needleHit({ ...c, target: '1);' }, bare, { retrieval: [], all: [] }, [1]), { excluded: 'no_value_line' });
  const parts = casePrompt(c, tokenizer, 'spm', { ...budget, withContext: true }).parts;
  const settings = parts.findIndex((p) => 'text' in p && p.text.startsWith('src/settings-alpha.ts'));
  const filler = parts.findIndex((p) => 'text' in p && p.text.startsWith('lib/1/filler.ts'));
  assert.ok(settings >= 0 && filler >= 0);
  const value = { part: settings, line: 3 }; // the file's line 2, after the path line
  assert.equal((parts[settings] as { text: string }).text.split('\n')[value.line], 'export const alphaBetaGamma = 604211;');
  const result = needleHit(c, parts, { retrieval: [{ part: filler, line: 2 }, value], all: [{ part: filler, line: 1 }, { part: filler, line: 2 }, { part: settings, line: 1 }, value] }, [1, 2, 3]);
  assert.ok('hits' in result);
  assert.deepEqual(result.hits, { retrieval: { 1: false, 2: true, 3: true }, all: { 1: false, 2: false, 3: false } });
});
