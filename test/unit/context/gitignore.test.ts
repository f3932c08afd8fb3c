import { test } from 'node:test';
import assert from 'node:assert/strict';
import { IgnoreRules, parseGitignore } from '../../../server/context/gitignore';

/** Rules of one .gitignore at /repo, asked about paths relative to it. */
function rootRules(text: string) {
  const rules = new IgnoreRules();
  rules.add('/repo', parseGitignore(text));
  return {
    file: (path: string) => rules.ignoresWithAncestors('/repo', `/repo/${path}`, false),
    folder: (path: string) => rules.ignoresWithAncestors('/repo', `/repo/${path}`, true),
  };
}

test('comments, blank lines and trailing spaces', () => {
  const r = rootRules('# a comment\n\n*.log   \n\\#hash\nspace\\ \n');
  assert.ok(r.file('a.log'), 'trailing spaces are dropped');
  assert.ok(!r.file('# a comment'));
  assert.ok(r.file('#hash'), '\\# is a literal #');
  assert.ok(r.file('space '), 'an escaped trailing space is kept');
  assert.ok(!r.file('space'));
  assert.equal(parseGitignore('# only\n\n   \n').length, 0);
});

test('a pattern without a slash matches at any depth; with one it is anchored', () => {
  const r = rootRules('*.tmp\ndoc/frotz\n/root-only.txt\n');
  assert.ok(r.file('a.tmp') && r.file('x/y/a.tmp'));
  assert.ok(r.file('doc/frotz'));
  assert.ok(!r.file('a/doc/frotz'), 'a middle slash anchors to the .gitignore folder');
  assert.ok(r.file('root-only.txt'));
  assert.ok(!r.file('sub/root-only.txt'), 'a leading slash anchors too');
});

test('a trailing slash matches folders only, and what is inside them', () => {
  const r = rootRules('build/\n');
  assert.ok(r.folder('build'));
  assert.ok(r.folder('pkg/build'), 'no other slash: any depth');
  assert.ok(!r.file('build'), 'a file named build is not a folder');
  assert.ok(r.file('build/out.js'), 'files under an ignored folder are ignored');
  assert.ok(r.file('pkg/build/deep/out.js'));
});

test('negation re-includes, the last matching rule wins, but not under an ignored folder', () => {
  const r = rootRules('*.log\n!keep.log\nlogs/\n!logs/important.log\n');
  assert.ok(r.file('a.log'));
  assert.ok(!r.file('keep.log'));
  assert.ok(!r.file('sub/keep.log'));
  assert.ok(r.file('logs/important.log'), 'a file cannot be re-included when its folder is ignored');
  const reordered = rootRules('!keep.log\n*.log\n');
  assert.ok(reordered.file('keep.log'), 'a negation before the rule it would undo has no effect');
  const contents = rootRules('/*\n!/src/\n');
  assert.ok(contents.file('README.md'));
  assert.ok(!contents.folder('src') && !contents.file('src/index.ts'), 'the classic "only src" pattern');
});

test('** forms: leading, trailing and middle', () => {
  const r = rootRules('**/cache\nlogs/**\na/**/b\n');
  assert.ok(r.folder('cache') && r.folder('x/y/cache'));
  assert.ok(r.file('logs/a.txt') && r.file('logs/x/y.txt'));
  assert.ok(!r.folder('logs'), 'logs/** matches inside logs, not logs itself');
  assert.ok(r.file('a/b') && r.file('a/x/b') && r.file('a/x/y/b'));
  assert.ok(!r.file('xa/b'));
  const withNegation = rootRules('logs/**\n!logs/keep.txt\n');
  assert.ok(!withNegation.file('logs/keep.txt'), 'logs/** leaves logs itself unignored, so a file in it can come back');
});

test('character classes and ? never match a slash; other characters are literal', () => {
  const r = rootRules('file[0-9].txt\nx?y\na+b(c).js\n[z-a]\n');
  assert.ok(r.file('file3.txt') && !r.file('filex.txt'));
  assert.ok(r.file('xzy') && !r.file('x/y'));
  assert.ok(r.file('a+b(c).js') && !r.file('aab(c).js'));
  assert.equal(parseGitignore('[z-a]\n').length, 0, 'a class no regex can hold matches nothing, as in git');
});

test('nested .gitignore files: deeper rules apply to their folder and override the outer ones', () => {
  const rules = new IgnoreRules();
  rules.add('/repo', parseGitignore('*.gen.ts\n/top.txt\n'));
  rules.add('/repo/pkg', parseGitignore('!keep.gen.ts\n/top.txt\nlocal/\n'));
  const file = (path: string) => rules.ignoresWithAncestors('/repo', `/repo/${path}`, false);
  assert.ok(file('a.gen.ts') && file('pkg/a.gen.ts'));
  assert.ok(!file('pkg/keep.gen.ts'), 'the deeper file re-includes');
  assert.ok(file('keep.gen.ts'), 'but only below its own folder');
  assert.ok(file('top.txt') && file('pkg/top.txt'), 'anchored to each file\'s own folder');
  assert.ok(!file('pkg/sub/top.txt'));
  assert.ok(file('pkg/local/x.ts') && !file('local/x.ts'));
});
