// The generated tiny model: byte-identical output, code-like greedy text, and the errors a
// damaged model folder gives when loaded.
import assert from 'node:assert/strict';
import { readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { loadModel } from '../../../server/engine/loadModel';
import { makeTinyModel } from '../../../server/engine/tinyModel';
import { ModelLoadError } from '../../../server/engine/types';
import { codeCorpus, tempDir, tinyModelDir } from './engineFixtures';
import { argmax } from '../../../server/engine/sampling';

test('the same corpus gives byte-identical folders', async () => {
  const a = tempDir();
  const b = tempDir();
  await makeTinyModel(a, codeCorpus);
  await makeTinyModel(b, codeCorpus);
  const files = readdirSync(a).sort();
  assert.deepEqual(files, ['README.md', 'config.json', 'generation_config.json', 'model.safetensors', 'tokenizer.json', 'tokenizer_config.json']);
  assert.deepEqual(readdirSync(b).sort(), files);
  for (const file of files) assert.ok(readFileSync(join(a, file)).equals(readFileSync(join(b, file))), `${file} differs`);
});

test('greedy decoding of a code prefix gives printable, code-like text', async () => {
  const model = await loadModel(await tinyModelDir(), { threads: 1 });
  try {
    const { tokenizer } = model;
    const seq = model.newSequence();
    let logits = seq.append(tokenizer.encode('export function total(items: number[]): number {\n  return '));
    const out: number[] = [];
    const steps = 64;
    const started = performance.now();
    for (let i = 0; i < steps; i++) {
      const next = argmax(logits);
      if (tokenizer.special.eos.includes(next)) break;
      out.push(next);
      logits = seq.append([next]);
    }
    const seconds = (performance.now() - started) / 1000;
    const text = tokenizer.decode(out);
    console.log(`tiny model greedy: ${JSON.stringify(text)} (${(out.length / seconds).toFixed(0)} tokens/s decode, 1 thread)`);
    assert.ok(out.length >= 8, 'should not stop at once');
    assert.match(text, /^[\x20-\x7e\n\t]+$/, 'printable ASCII, spaces and newlines only');
  } finally {
    await model.dispose();
  }
});

const loadError = async (dir: string, file: string, problem: RegExp) => {
  await assert.rejects(loadModel(dir), (e: unknown) => e instanceof ModelLoadError && e.file === file && problem.test(e.problem));
};

test('missing or corrupt model files fail naming the file', async () => {
  let dir = await tinyModelDir();
  rmSync(join(dir, 'config.json'));
  await loadError(dir, 'config.json', /missing/);

  dir = await tinyModelDir();
  rmSync(join(dir, 'tokenizer.json'));
  await loadError(dir, 'tokenizer.json', /missing/);

  dir = await tinyModelDir();
  rmSync(join(dir, 'model.safetensors'));
  await loadError(dir, 'model.safetensors', /missing/);

  dir = await tinyModelDir();
  const weights = readFileSync(join(dir, 'model.safetensors'));
  writeFileSync(join(dir, 'model.safetensors'), weights.subarray(0, weights.length - 1000));
  await loadError(dir, 'model.safetensors', /truncated/);

  // A config that disagrees with the weights: the shape check names the tensor.
  dir = await tinyModelDir();
  const config = JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8'));
  writeFileSync(join(dir, 'config.json'), JSON.stringify({ ...config, intermediate_size: 128 }));
  await loadError(dir, 'model.safetensors', /mlp\.gate_proj\.weight has shape \[256,128\] but config\.json implies \[128,128\]/);

  await assert.rejects(loadModel(join(dir, 'nope')), (e: unknown) => e instanceof ModelLoadError && /does not exist/.test(e.problem));
});
