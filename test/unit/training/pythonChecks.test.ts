// The training recipe's Python helpers (training/copy_tasks.py, training/npm_subset.py) run
// on the training machine; their checks are Python's unittest, run here with the machine's
// python3 (standard library only), so that a change to them fails this suite.

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { test } from 'node:test';

const trainingDir = join(__dirname, '..', '..', '..', '..', 'training');

function unittest(module: string): void {
  const run = spawnSync('python3', ['-m', 'unittest', '-v', module], { cwd: trainingDir, encoding: 'utf8', env: { ...process.env, PYTHONDONTWRITEBYTECODE: '1' } });
  assert.equal(run.error, undefined, `python3 could not start: ${run.error?.message}`);
  assert.equal(run.status, 0, `python3 -m unittest ${module} failed:\n${run.stderr}${run.stdout}`);
  assert.match(run.stderr, /Ran \d+ tests/);
}

test('training copy files: values, spans, imports and paths (python3 -m unittest test_copy_tasks)', () => unittest('test_copy_tasks'));

test('training npm subset: the train packages of one language, the corpus files only (python3 -m unittest test_npm_subset)', () => unittest('test_npm_subset'));
