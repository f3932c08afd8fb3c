import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cacheStableOrder, contextParts, type ContextFile } from '../../../server/context/assemble';

const f = (path: string, dropRank: number, lastEditMs?: number): ContextFile => ({ path, text: `// ${path}\n`, dropRank, lastEditMs });

test('files changed on disk since go after the unchanged ones: a checkout or a new file keeps the prefix before them', () => {
  const disk = (path: string, modifiedMs: number): ContextFile => ({ path, text: '', dropRank: 1, modifiedMs });
  const before = [disk('a.ts', 100), disk('b.ts', 100), disk('c.ts', 100), disk('d.ts', 100)];
  assert.deepEqual(cacheStableOrder(before).map((file) => file.path), ['a.ts', 'b.ts', 'c.ts', 'd.ts']);
  // b.ts changed by a checkout, aa.ts created: both after the files that did not change.
  const after = [disk('a.ts', 100), disk('b.ts', 900), disk('c.ts', 100), disk('d.ts', 100), disk('aa.ts', 950)];
  assert.deepEqual(cacheStableOrder(after).map((file) => file.path), ['a.ts', 'c.ts', 'd.ts', 'b.ts', 'aa.ts']);
});

test('never-edited files first by path, then edited ones oldest first; rank never moves a file', () => {
  const files = [f('src/z.ts', 1, 300), f('src/b.ts', 2), f('lib/a.ts', 3, 100), f('README.md', 4), f('src/a.ts', 5), f('src/y.ts', 6, 100)];
  assert.deepEqual(cacheStableOrder(files).map((file) => file.path), ['README.md', 'src/a.ts', 'src/b.ts', 'lib/a.ts', 'src/y.ts', 'src/z.ts']);
  const reranked = files.map((file, i) => ({ ...file, dropRank: files.length - i }));
  assert.deepEqual(cacheStableOrder(reranked).map((file) => file.path), cacheStableOrder(files).map((file) => file.path));
});

test('each file is three parts sharing its dropRank: separator, path line, text ending in a line break', () => {
  const parts = contextParts([{ path: 'b.ts', text: 'const b = 1;', dropRank: 1 }, { path: 'a.ts', text: 'const a = 1;\n', dropRank: 2 }]);
  assert.deepEqual(parts, [
    { special: 'fileSep', dropRank: 2 },
    { text: 'a.ts\n', dropRank: 2 },
    { text: 'const a = 1;\n', dropRank: 2 },
    { special: 'fileSep', dropRank: 1 },
    { text: 'b.ts\n', dropRank: 1 },
    { text: 'const b = 1;\n', dropRank: 1 },
  ]);
  assert.deepEqual(contextParts([]), []);
});
