// The evidence benchmark's pairs: each run with evidence against the run without it that saw
// the same keystroke in the same block of four; and its timing by parts.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { evidenceByParts, pairedOverheads } from '../../../server/bench/evidenceBench';
import { loadModel } from '../../../server/engine/loadModel';
import { CachedSequence } from '../../../server/engine/generate';
import { chooseEvidenceHeads, EvidenceCollector } from '../../../server/engine/evidence';
import { tinyModelDir } from '../engine/engineFixtures';

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

test('evidence by parts times a keystroke pass and a decode step each way, and leaves the sequence holding a keystroke prompt', async () => {
  const model = await loadModel(await tinyModelDir(), { threads: 1 });
  try {
    const heads = chooseEvidenceHeads(model, 'retrieval', () => undefined);
    const typedA = Array.from({ length: 40 }, (_, i) => 5 + (i % 17));
    const typedB = [...typedA.slice(0, -3), 30, 31, 32];
    const cached = new CachedSequence(model);
    cached.prefill(typedB, () => false);
    let collectors = 0;
    const parts = evidenceByParts(
      cached,
      () => {
        collectors++;
        return new EvidenceCollector(model, heads, { heads: 'retrieval' }, typedA);
      },
      [typedA, typedB],
      6,
    );
    assert.ok(Number.isFinite(parts.prefillMs) && Number.isFinite(parts.stepMs));
    assert.equal(collectors, 7, "one collector per keystroke pass with evidence, one for the steps' running mass");
    assert.equal(cached.length, typedA.length, 'the steps were cut off again');
  } finally {
    await model.dispose();
  }
});
