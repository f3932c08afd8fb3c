import { test } from 'node:test';
import assert from 'node:assert/strict';
import { estimateFileTokens, rankFiles, selectWithinBudget, type Candidate, type RankSignals } from '../../../server/context/rank';

const file = (absPath: string, chars = 40): Candidate => ({ absPath, path: absPath.slice(3), chars });
const signals = (overrides: Partial<RankSignals> = {}): RankSignals => ({
  activePath: '/w/src/app/main.ts',
  imported: new Set(),
  open: new Set(),
  lastEditMs: new Map(),
  ...overrides,
});

test('a stronger signal outranks any mix of weaker ones', () => {
  const candidates = [
    file('/w/lib/imported.ts'),
    file('/w/src/app/open-edited-near.ts'),
    file('/w/src/app/near.ts'),
    file('/w/lib/open.ts'),
    file('/w/zzz/edited.ts'),
    file('/w/src/app/main.ts'),
    file('/w/src/other/far.ts'),
  ];
  const ranked = rankFiles(candidates, signals({
    imported: new Set(['/w/lib/imported.ts']),
    open: new Set(['/w/src/app/open-edited-near.ts', '/w/lib/open.ts']),
    lastEditMs: new Map([['/w/src/app/open-edited-near.ts', 10], ['/w/zzz/edited.ts', 5], ['/w/src/app/main.ts', 20]]),
  }));
  assert.deepEqual(ranked.map((f) => f.absPath), [
    '/w/lib/imported.ts', // 8
    '/w/src/app/open-edited-near.ts', // 4 + 2 + 1
    '/w/lib/open.ts', // 4
    '/w/zzz/edited.ts', // 2
    '/w/src/app/near.ts', // 1
    '/w/src/other/far.ts', // 0, nearer than the rest of its tier
  ]);
  assert.ok(!ranked.some((f) => f.absPath === '/w/src/app/main.ts'), 'the active file is the FIM part, never context');
  assert.deepEqual(ranked.map((f) => f.score), [8, 7, 4, 2, 1, 0]);
});

test('ties: the more recently edited, then the nearer path, then the path', () => {
  const ranked = rankFiles(
    [file('/w/b/old.ts'), file('/w/b/new.ts'), file('/w/x/y.ts'), file('/w/src/z.ts'), file('/w/src/a/deep.ts'), file('/w/a/q.ts')],
    signals({ activePath: '/w/src/main.ts', lastEditMs: new Map([['/w/b/old.ts', 1], ['/w/b/new.ts', 2]]) }),
  );
  assert.deepEqual(ranked.map((f) => f.absPath), ['/w/b/new.ts', '/w/b/old.ts', '/w/src/z.ts', '/w/src/a/deep.ts', '/w/a/q.ts', '/w/x/y.ts']);
});

test('selection keeps the best that fit, passing over files too large for the room left', () => {
  const ranked = rankFiles([file('/w/a.ts', 400), file('/w/b.ts', 4000), file('/w/c.ts', 40), file('/w/d.ts', 400)], signals({ activePath: '/w/main.ts' }));
  assert.deepEqual(ranked.map((f) => f.absPath), ['/w/a.ts', '/w/b.ts', '/w/c.ts', '/w/d.ts']);
  const budget = ranked[0].estimatedTokens + ranked[2].estimatedTokens + 5;
  assert.deepEqual(selectWithinBudget(ranked, budget).map((f) => f.absPath), ['/w/a.ts', '/w/c.ts']);
  assert.deepEqual(selectWithinBudget(ranked, 0), []);
  assert.equal(selectWithinBudget(ranked, 1_000_000).length, 4);
});

test('the estimate counts the separator, the path line and the text at four characters a token', () => {
  assert.equal(estimateFileTokens('a.ts', 34), 1 + Math.ceil((4 + 1 + 34 + 1) / 4));
});
