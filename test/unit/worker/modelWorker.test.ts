// The real model worker (dist/modelWorker.js) behind ModelHost, on the tiny model.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ModelHost, Priority } from '../../../server/worker/modelHost';
import { makeTinyModel } from '../../../server/engine/tinyModel';
import { defaultGenerateOptions } from '../../../server/engine/generate';

const root = join(__dirname, '..', '..', '..', '..');
const dir = mkdtempSync(join(tmpdir(), 'heed-worker-'));
let host: ModelHost;

before(async () => {
  await makeTinyModel(dir, ['const total = items.reduce((sum, item) => sum + item.price, 0);\n'.repeat(30)]);
  host = new ModelHost(join(root, 'dist', 'modelWorker.js'));
});
after(async () => {
  await host?.dispose();
  rmSync(dir, { recursive: true, force: true });
});

test('load, generate, and score the generated text through the worker', async () => {
  const model = await host.load({ modelPath: dir, threads: 1, weightFormat: 'fp32' });
  assert.equal(model.config.modelType, 'qwen2');
  assert.equal(model.special.fileSep, 257);
  const prompt = [{ special: 'fileSep' as const }, { text: 'a.ts\nconst total = items.' }];
  const generated = await host.generate(prompt, 512, { ...defaultGenerateOptions, maxTokens: 8 });
  assert.equal(generated.tokens.length, 8);
  const scored = await host.score(prompt, 512, generated.text);
  const sum = generated.logprobs.reduce((a, b) => a + b, 0);
  assert.ok(Math.abs(scored.total - sum) < 1e-3, `score ${scored.total} vs generation ${sum}`);
});

test('a streamed generation reports its text after each token, ending with the result', async () => {
  await host.load({ modelPath: dir, threads: 1, weightFormat: 'fp32' });
  const seen: string[] = [];
  const result = await host.generate([{ text: 'const total = items.' }], 512, { ...defaultGenerateOptions, maxTokens: 10 }, undefined, Priority.Interactive, (text) => seen.push(text));
  assert.equal(seen.length, result.tokens.length);
  assert.equal(seen[seen.length - 1], result.text);
  seen.forEach((text, i) => i > 0 && assert.ok(text.startsWith(seen[i - 1]), 'each report extends the one before'));
});

test('a model folder that is not there fails the load with the path', async () => {
  await assert.rejects(host.load({ modelPath: join(dir, 'missing'), threads: 1, weightFormat: 'fp32' }), /missing: model folder does not exist/);
});
