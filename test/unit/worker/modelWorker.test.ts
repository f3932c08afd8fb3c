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

test('a warm-up caches the workspace prefix, a completion pre-empts it, and the prefix survives a restart on disk', async () => {
  const workspace = [{ special: 'repoName' as const }, { text: 'shop\n' }, { special: 'fileSep' as const }, { text: `cart.ts\n${'const total = items.reduce((sum, item) => sum + item.price, 0);\n'.repeat(12)}` }];
  const completion = [...workspace, { special: 'fileSep' as const }, { text: 'a.ts\nconst total = items.' }];
  const prefixFile = join(dir, 'kv', 'prefix.heedkv');
  await host.load({ modelPath: dir, threads: 1, weightFormat: 'fp32' });
  const progress: number[] = [];
  const warmed = await host.warm(workspace, 4096, undefined, (p) => progress.push(p.warmedTokens));
  assert.equal(warmed.computedTokens, warmed.promptTokens);
  assert.ok(progress.length > 0 && progress[progress.length - 1] === warmed.promptTokens, 'progress ends at the whole prompt');
  const warm = await host.generate(completion, 4096, { ...defaultGenerateOptions, maxTokens: 4 });
  assert.ok(warm.reusedTokens >= warmed.promptTokens - 1, `the completion reused ${warm.reusedTokens} of the ${warmed.promptTokens} warmed tokens`);

  // An interactive job stops a warm-up in flight at its next forward pass.
  const longer = [...workspace, { text: 'export const more = 1;\n'.repeat(80) }];
  const background = host.warm(longer, 8192);
  const interactive = host.generate(completion, 4096, { ...defaultGenerateOptions, maxTokens: 2 });
  await assert.rejects(background, /cancelled/);
  assert.equal((await interactive).tokens.length, 2);

  const saved = await host.persist(prefixFile);
  assert.equal(saved.tokens, warm.promptTokens, 'the whole latest prompt');
  const reloaded = await host.load({ modelPath: dir, threads: 1, weightFormat: 'fp32', prefixFile });
  assert.ok(reloaded.prefix && 'restoredTokens' in reloaded.prefix && reloaded.prefix.restoredTokens === saved.tokens, JSON.stringify(reloaded.prefix));
  const afterRestart = await host.generate(completion, 4096, { ...defaultGenerateOptions, maxTokens: 4 });
  assert.equal(afterRestart.restoredTokens, saved.tokens - 1, "all but the last prompt token, which always runs");
  assert.deepEqual(afterRestart.tokens, warm.tokens);

  // A file computed under another weight format is refused and named; the model still loads.
  const int4 = await host.load({ modelPath: dir, threads: 1, weightFormat: 'int4', prefixFile });
  assert.ok(int4.prefix && 'problem' in int4.prefix && /another weight format/.test(int4.prefix.problem), JSON.stringify(int4.prefix));
});
