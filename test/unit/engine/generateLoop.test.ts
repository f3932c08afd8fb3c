// The generation loop over the real tiny model: prefix reuse gives the same tokens as a
// fresh sequence, cancellation stops between passes and leaves the cache consistent.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { makeTinyModel } from '../../../server/engine/tinyModel';
import { loadModel } from '../../../server/engine/loadModel';
import { CachedSequence, CancelledError, generate, score, type GenerateOptions } from '../../../server/engine/generate';
import type { LoadedModel } from '../../../server/engine/types';

const dir = mkdtempSync(join(tmpdir(), 'heed-generate-'));
let model: LoadedModel;
const options: GenerateOptions = { maxTokens: 12, temperature: 0, topP: 1, seed: 0, stop: [] };
const corpus = ['function add(a, b) {\n  return a + b;\n}\n'.repeat(20), 'const total = items.map((item) => item.price);\n'.repeat(20)];

before(async () => {
  await makeTinyModel(dir, corpus);
  model = await loadModel(dir, { threads: 1, chunkTokens: 16 });
});
after(async () => {
  await model?.dispose();
  rmSync(dir, { recursive: true, force: true });
});

const encode = (text: string) => model.tokenizer.encode(text);
const maxDiff = (a: number[], b: number[]) => a.reduce((max, v, i) => Math.max(max, Math.abs(v - b[i])), 0);

test('a reused prefix gives the same tokens and log-probabilities as a fresh sequence', () => {
  const first = encode('function add(a, b) {\n  return a');
  const second = encode('function add(a, b) {\n  return a + b;\n}\nconst total = items.');
  const cached = new CachedSequence(model);
  const warm1 = generate(cached, first, options, () => false);
  assert.equal(warm1.reusedTokens, 0);
  const warm2 = generate(cached, second, options, () => false);
  assert.ok(warm2.reusedTokens >= first.length - 1, `reused ${warm2.reusedTokens} of ${first.length}`);
  const cold2 = generate(new CachedSequence(model), second, options, () => false);
  assert.deepEqual(warm2.tokens, cold2.tokens);
  const diff = maxDiff(warm2.logprobs, cold2.logprobs);
  console.log(`max |Δlogprob| warm vs cold: ${diff.toExponential(2)}`);
  assert.ok(diff <= 1e-4, `warm and cold log-probabilities differ by ${diff}`);
  // The same prompt again reuses all but its last token.
  assert.equal(generate(cached, second, options, () => false).reusedTokens, second.length - 1);
});

test('cancellation stops between passes and leaves the cache consistent', () => {
  const prompt = encode('const total = items.map((item) => item.price);\n'.repeat(3));
  const cached = new CachedSequence(model);
  let passes = 0;
  assert.throws(() => generate(cached, prompt, options, () => ++passes > 3), CancelledError);
  assert.equal(passes, 4, 'shouldStop is consulted once per pass');
  assert.ok(cached.length > 0 && cached.length < prompt.length, 'the finished chunks stay cached');
  const after = generate(cached, prompt, options, () => false);
  const fresh = generate(new CachedSequence(model), prompt, options, () => false);
  assert.deepEqual(after.tokens, fresh.tokens);
});

test('stop strings, token limits and the context limit end generation', () => {
  const prompt = encode('function add(a, b) {\n  return ');
  const limited = generate(new CachedSequence(model), prompt, { ...options, maxTokens: 3 }, () => false);
  assert.equal(limited.tokens.length, 3);
  assert.equal(limited.stopReason, 'max_tokens');
  const free = generate(new CachedSequence(model), prompt, { ...options, maxTokens: 40 }, () => false);
  const stopAt = free.text.slice(1, 3);
  const stopped = generate(new CachedSequence(model), prompt, { ...options, maxTokens: 40, stop: [stopAt] }, () => false);
  assert.equal(stopped.stopReason, 'stop');
  assert.equal(stopped.text, free.text.slice(0, free.text.indexOf(stopAt)));
  const tooLong = new Array(model.config.maxPositions).fill(encode('a')[0]);
  assert.throws(() => generate(new CachedSequence(model), tooLong, options, () => false), /does not fit the model's context/);
});

test('scoring a continuation gives the log-probabilities generation reported for it', () => {
  const prompt = encode('function add(a, b) {\n  return ');
  const generated = generate(new CachedSequence(model), prompt, { ...options, maxTokens: 6 }, () => false);
  const cached = new CachedSequence(model);
  const scored = score(cached, prompt, generated.tokens, () => false);
  const diff = maxDiff(scored.logprobs, generated.logprobs);
  assert.ok(diff <= 1e-4, `scored and generated log-probabilities differ by ${diff}`);
  assert.ok(Math.abs(scored.total - generated.logprobs.reduce((a, b) => a + b, 0)) <= 1e-3);
  // A second score over the same context reuses it.
  const again = score(cached, prompt, generated.tokens.slice(0, 2), () => false);
  assert.equal(again.reusedTokens, prompt.length - 1);
  assert.ok(maxDiff(again.logprobs, scored.logprobs.slice(0, 2)) <= 1e-4);
  assert.throws(() => score(new CachedSequence(model), prompt, generated.tokens, () => true), CancelledError);
});
