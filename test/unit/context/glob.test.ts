import { test } from 'node:test';
import assert from 'node:assert/strict';
import { compileVsCodeGlob, excludesFile, excludesFolder } from '../../../server/context/glob';

const matches = (glob: string, path: string) => compileVsCodeGlob(glob).test(path);

test('* and ? stay within a segment; ** spans segments', () => {
  assert.ok(matches('*.ts', 'a.ts'));
  assert.ok(!matches('*.ts', 'src/a.ts'), 'a glob without ** is relative to the folder root');
  assert.ok(matches('**/*.ts', 'src/deep/a.ts'));
  assert.ok(matches('**/*.ts', 'a.ts'), '**/ matches zero folders');
  assert.ok(matches('src/**/a.ts', 'src/a.ts'));
  assert.ok(matches('src/**/a.ts', 'src/x/y/a.ts'));
  assert.ok(!matches('src/**/a.ts', 'srcx/a.ts'));
  assert.ok(matches('a?.js', 'ab.js'));
  assert.ok(!matches('a?.js', 'a/.js'));
  assert.ok(matches('**', 'any/thing'));
  assert.ok(matches('a**b', 'axxb'), 'a ** inside a segment is a plain *');
  assert.ok(!matches('a**b', 'ax/xb'));
});

test('braces, classes and escapes', () => {
  assert.ok(matches('**/*.{js,map}', 'dist/a.map'));
  assert.ok(matches('**/*.{js,map}', 'a.js'));
  assert.ok(!matches('**/*.{js,map}', 'a.ts'));
  assert.ok(matches('{src,lib}/**/*.ts', 'lib/x/a.ts'));
  assert.ok(matches('{src/{a,b},test}/x', 'src/b/x'), 'nested alternatives');
  assert.ok(matches('file[0-9].txt', 'file7.txt'));
  assert.ok(!matches('file[!0-9].txt', 'file7.txt'));
  assert.ok(matches('file[!0-9].txt', 'filex.txt'));
  assert.ok(!matches('a[!x]b', 'a/b'), 'a negated class never matches /');
  assert.ok(matches('[]]x', ']x'), 'a ] first in a class is a member');
  assert.ok(matches('a\\*b', 'a*b'));
  assert.ok(!matches('a\\*b', 'axb'));
  assert.ok(matches('a.b', 'a.b') && !matches('a.b', 'axb'), 'regex characters are literal');
  assert.ok(matches('unclosed[x', 'unclosed[x') && matches('brace{x', 'brace{x'));
  assert.ok(matches('/src/*.ts', 'src/a.ts') && matches('./src/*.ts', 'src/a.ts'), 'a leading / or ./ is the folder root');
});

test('folders: excluded when they match or when a glob covers everything inside', () => {
  const globs = ['**/node_modules', 'out/**', 'tmp/*', '**/*.log'].map(compileVsCodeGlob);
  assert.ok(excludesFolder(globs, 'packages/a/node_modules'));
  assert.ok(excludesFolder(globs, 'out'));
  assert.ok(excludesFolder(globs, 'tmp'));
  assert.ok(!excludesFolder(globs, 'src'));
  assert.ok(!excludesFolder(globs, 'logs'), '*.log covers files, not the folder');
  assert.ok(excludesFile(globs, 'out/deep/a.js'));
  assert.ok(excludesFile(globs, 'x/node_modules/p/index.js'));
  assert.ok(excludesFile(globs, 'src/debug.log'));
  assert.ok(!excludesFile(globs, 'src/index.ts'));
  assert.ok(!excludesFile([], 'anything'));
});
