// The evidence benchmark's pairs: each run with evidence against the run without it that saw
// the same keystroke in the same block of four.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { pairedOverheads } from '../../../server/bench/evidenceBench';

test('pairs runs 4b+1 with 4b+3 and 4b+4 with 4b+2, and leaves out a block cut short', () => {
  // Runs 1..10 (5 runs of each kind): with evidence at 1, 4, 5, 8, 9; without at 2, 3, 6, 7, 10.
  const ms = new Map<number, number>([
    [1, 110], [2, 200], [3, 100], [4, 220],
    [5, 330], [6, 300], [7, 300], [8, 303],
    [9, 999], [10, 50],
  ]);
  const pairs = pairedOverheads(ms);
  assert.deepEqual(pairs.map((p) => p.ms), [10, 20, 30, 3]);
  assert.deepEqual(pairs.map((p) => Number(p.share.toFixed(4))), [0.1, 0.1, 0.1, 0.01]);
});

test('no pairs without runs', () => {
  assert.deepEqual(pairedOverheads(new Map()), []);
});
