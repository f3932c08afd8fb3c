// The evaluation pipeline end to end on the shipped model: heed eval over a small public case
// set from packages the model never saw. A check that every case runs and is scored, not of scores.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';

const root = join(__dirname, '..', '..', '..');
const work = mkdtempSync(join(tmpdir(), 'heed-public-cases-'));
after(() => rmSync(work, { recursive: true, force: true }));

test('heed eval runs the public held-out cases on heed-code-30m', () => {
  const cases = join(root, 'test', 'fixtures', 'cases', 'heldout-public.jsonl');
  const out = join(work, 'pred.jsonl');
  const summaryFile = join(work, 'summary.json');
  const run = spawnSync(process.execPath, [join(root, 'bin', 'heed.js'), 'eval', '--cases', cases, '--out', out, '--model', join(root, 'models', 'heed-code-30m'), '--summary-out', summaryFile], {
    encoding: 'utf8',
    env: { ...process.env, XDG_CACHE_HOME: join(work, 'cache') },
  });
  assert.equal(run.status, 0, run.stderr);
  console.log(run.stdout.trim());
  const expected = readFileSync(cases, 'utf8').trim().split('\n').length;
  const rows = readFileSync(out, 'utf8').trim().split('\n').map((l) => JSON.parse(l));
  assert.equal(rows.length, expected);
  for (const r of rows) {
    assert.equal(r.error, undefined, `${r.id}: ${r.error}`);
    assert.equal(typeof r.prediction, 'string');
    assert.ok(r.prompt_tokens > 0);
  }
  const summary = JSON.parse(readFileSync(summaryFile, 'utf8'));
  assert.equal(summary.kinds.all.cases, expected);
  assert.equal(summary.errors, 0);
  assert.ok(summary.kinds['needle 512'] && summary.kinds['needle 2048'], 'needles are summarized per distance');
});
