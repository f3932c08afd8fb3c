import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cacheStableOrder, contextParts, type ContextFile } from '../../../server/context/assemble';

const f = (path: string, dropRank: number, lastEditMs?: number): ContextFile => ({ path, text: `// ${path}\n`, dropRank, lastEditMs });

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
