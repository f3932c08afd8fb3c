// The built graph cached on disk with external weights: same logits as a build in memory,
// reused when valid, rebuilt when corrupt or stale, and never required.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadModel } from '../../../server/engine/loadModel';
import { maxAbsDiff, tempDir, tinyModelDir } from './engineFixtures';

const prompt = Array.from('const total = items.map((item) => item.price);', (ch) => ch.charCodeAt(0));

async function logitsOf(dir: string, graphCacheDir?: string, log?: (line: string) => void): Promise<Float32Array> {
  const model = await loadModel(dir, { threads: 1, graphCacheDir, log });
  try {
    return model.newSequence().append(prompt);
  } finally {
    await model.dispose();
  }
}

test('a cached graph gives the in-memory logits, is reused, and is rebuilt when corrupt or stale', async () => {
  const dir = await tinyModelDir();
  const cache = tempDir('heed-graphs-');
  const reference = await logitsOf(dir);

  const lines: string[] = [];
  const log = (line: string) => lines.push(line);
  assert.equal(maxAbsDiff(await logitsOf(dir, cache, log), reference), 0);
  assert.ok(lines.some((l) => l.startsWith('Built the graph')), lines.join('\n'));
  const [entry] = readdirSync(cache);
  assert.deepEqual(readdirSync(join(cache, entry)).sort(), ['graph.onnx', 'manifest.json', 'weights.bin']);

  lines.length = 0;
  assert.equal(maxAbsDiff(await logitsOf(dir, cache, log), reference), 0);
  assert.equal(lines.length, 0, `a valid entry is used as it is: ${lines.join('; ')}`);

  // One flipped byte in the weights: detected by the checksum, discarded, rebuilt.
  const weightsPath = join(cache, entry, 'weights.bin');
  const bytes = readFileSync(weightsPath);
  bytes[5000] ^= 0xff;
  writeFileSync(weightsPath, bytes);
  assert.equal(maxAbsDiff(await logitsOf(dir, cache, log), reference), 0);
  assert.ok(lines.some((l) => /Discarding .*weights\.bin does not match its checksum/.test(l)), lines.join('\n'));
  assert.ok(lines.some((l) => l.startsWith('Built the graph')));

  // A changed checkpoint is a different key: a new entry, the old one kept as the second most recent.
  const config = JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8'));
  writeFileSync(join(dir, 'config.json'), JSON.stringify({ ...config, rms_norm_eps: 1e-5 }));
  await logitsOf(dir, cache);
  assert.equal(readdirSync(cache).length, 2);
  for (const [eps, entries] of [[1e-4, 3], [1e-3, 4], [1e-2, 4]]) {
    writeFileSync(join(dir, 'config.json'), JSON.stringify({ ...config, rms_norm_eps: eps }));
    await logitsOf(dir, cache);
    assert.equal(readdirSync(cache).length, entries, 'the four most recent entries of a checkpoint folder are kept, older ones pruned');
  }
});

test('a cache folder that cannot be written falls back to a build in memory', async () => {
  const dir = await tinyModelDir();
  const blocker = join(tempDir('heed-graphs-'), 'not-a-folder');
  writeFileSync(blocker, 'a file where the cache folder should be');
  const lines: string[] = [];
  const logits = await logitsOf(dir, blocker, (line) => lines.push(line));
  assert.equal(maxAbsDiff(logits, await logitsOf(dir)), 0);
  assert.ok(lines.some((l) => l.startsWith('Could not write the graph cache')), lines.join('\n'));
});
