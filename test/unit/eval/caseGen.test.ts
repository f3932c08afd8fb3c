// Cases generated from a folder of code: repo-level lines and needles.
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { needleCases, readSourceFiles, repoCases } from '../../../server/eval/caseGen';
import { tempDir } from '../engine/engineFixtures';

function project(): string {
  const dir = tempDir('heed-casegen-');
  mkdirSync(join(dir, 'src', 'core'), { recursive: true });
  mkdirSync(join(dir, 'node_modules', 'dep'), { recursive: true });
  writeFileSync(join(dir, 'src', 'core', 'limits.ts'), 'export const MAX_RETRIES = 5;\nexport function backoffDelay(attempt: number): number {\n  return 100 * 2 ** attempt;\n}\n');
  writeFileSync(
    join(dir, 'src', 'client.ts'),
    '// A client.\n\nexport class Client {\n  private attempts = 0;\n  async send(): Promise<void> {\n    while (this.attempts < MAX_RETRIES) {\n      await sleep(backoffDelay(this.attempts));\n      this.attempts = this.attempts + 1;\n    }\n  }\n}\n',
  );
  writeFileSync(join(dir, 'node_modules', 'dep', 'index.js'), 'module.exports = 1;\n');
  writeFileSync(join(dir, 'binary.js'), Buffer.from([0xff, 0xfe, 0x00, 0x41]));
  return dir;
}

test('source files: dependencies and non-UTF-8 files are left out', () => {
  assert.deepEqual(readSourceFiles(project()).map((f) => f.path), ['src/client.ts', 'src/core/limits.ts']);
});

test('repo cases find lines that use another file\'s definitions, the same for a seed', () => {
  const files = readSourceFiles(project());
  const cases = repoCases('demo', files, 6, 7);
  const cross = cases.filter((c) => c.kind === 'cross_file').map((c) => c.target.trim());
  assert.ok(cross.includes('while (this.attempts < MAX_RETRIES) {'), JSON.stringify(cross));
  for (const c of cases) {
    assert.equal(c.prefix + c.target + '\n' + c.suffix, files.find((f) => f.path === c.path)!.text);
    assert.ok(!(c.path in c.workspace));
  }
  assert.deepEqual(repoCases('demo', files, 6, 7), cases);
});

test('needle cases put the definition first and about `distance` tokens of filler after it', () => {
  const files = readSourceFiles(project());
  const countTokens = (text: string) => Math.ceil(text.length / 4);
  const cases = needleCases(files, countTokens, [200, 800], 2, 3);
  assert.equal(cases.length, 4);
  for (const c of cases) {
    const [settings, ...fillers] = Object.keys(c.workspace);
    assert.match(c.workspace[settings], new RegExp(c.target.replace(/\);$/, '').replace(/[.*+?^${}()|[\]\\"]/g, '\\$&')));
    const filler = fillers.reduce((sum, p) => sum + countTokens(c.workspace[p]) + 8, 0);
    assert.ok(filler >= c.needle_distance_tokens! && filler <= c.needle_distance_tokens! + 200, `${c.id}: ${filler} tokens of filler`);
  }
  assert.deepEqual(needleCases(files, countTokens, [200, 800], 2, 3), cases);
});

test('needle cases of one language are the cases that language gets in a mixed set, and more of them', () => {
  const files = readSourceFiles(project());
  const countTokens = (text: string) => Math.ceil(text.length / 4);
  const mixed = needleCases(files, countTokens, [300], 6, 5);
  assert.deepEqual(mixed.map((c) => c.language), ['python', 'typescript', 'python', 'typescript', 'python', 'typescript']);
  const typescript = needleCases(files, countTokens, [300], 6, 5, { languages: ['typescript'] });
  assert.equal(typescript.length, 6);
  for (const c of typescript) {
    assert.equal(c.language, 'typescript');
    assert.match(c.prefix, /expect\(\w+\)\.toBe\($/);
  }
  assert.deepEqual(typescript.filter((_, k) => k % 2 === 1), mixed.filter((c) => c.language === 'typescript'));
  assert.equal(new Set(typescript.map((c) => c.target)).size, 6, 'each case its own value');
  assert.throws(() => needleCases(files, countTokens, [300], 2, 5, { languages: [] }), /at least one language/);
});

test('a needle use path moves the using file and changes nothing else', () => {
  const files = readSourceFiles(project());
  const countTokens = (text: string) => Math.ceil(text.length / 4);
  const python = needleCases(files, countTokens, [300], 3, 5, { languages: ['python'] });
  const moved = needleCases(files, countTokens, [300], 3, 5, { languages: ['python'], usePath: 'tests/test_settings.py' });
  assert.deepEqual(python.map((c) => c.path), ['app/test_settings.py', 'app/test_settings.py', 'app/test_settings.py']);
  assert.deepEqual(moved.map((c) => c.path), ['tests/test_settings.py', 'tests/test_settings.py', 'tests/test_settings.py']);
  assert.deepEqual(moved.map((c) => ({ ...c, path: 'app/test_settings.py' })), python);
  assert.throws(() => needleCases(files, countTokens, [300], 2, 5, { usePath: 'tests/test_settings.py' }), /single language/);
  assert.throws(() => needleCases(files, countTokens, [300], 2, 5, { languages: ['typescript'], usePath: 'tests/test_settings.py' }), /python path; these needles are typescript/);
});
