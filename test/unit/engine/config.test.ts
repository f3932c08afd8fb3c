// config.json normalization and the errors an unusable config gives.
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { parseDecoderConfig, readDecoderConfig } from '../../../server/engine/checkpoint/config';
import { ModelLoadError } from '../../../server/engine/types';
import { tempDir } from './engineFixtures';

const qwen = {
  model_type: 'qwen2',
  vocab_size: 151936,
  hidden_size: 896,
  intermediate_size: 4864,
  num_hidden_layers: 24,
  num_attention_heads: 14,
  num_key_value_heads: 2,
  max_position_embeddings: 32768,
  rope_theta: 1000000,
  rms_norm_eps: 1e-6,
  tie_word_embeddings: true,
};

const rejects = (raw: Record<string, unknown>, problem: RegExp) =>
  assert.throws(() => parseDecoderConfig(raw), (e: unknown) => e instanceof ModelLoadError && e.file === 'config.json' && problem.test(e.problem));

test('Qwen2.5-Coder-0.5B config normalizes', () => {
  assert.deepEqual(parseDecoderConfig(qwen), {
    modelType: 'qwen2',
    vocabSize: 151936,
    hiddenSize: 896,
    intermediateSize: 4864,
    numLayers: 24,
    numHeads: 14,
    numKvHeads: 2,
    headDim: 64,
    ropeTheta: 1000000,
    rmsNormEps: 1e-6,
    maxPositions: 32768,
    tieWordEmbeddings: true,
    attentionBias: true,
  });
});

test('llama and mistral have no q/k/v biases; kv heads default to heads', () => {
  const { num_key_value_heads: _unused, ...withoutKv } = qwen;
  void _unused;
  const llama = parseDecoderConfig({ ...withoutKv, model_type: 'llama' });
  assert.equal(llama.attentionBias, false);
  assert.equal(llama.numKvHeads, 14);
  assert.equal(parseDecoderConfig({ ...qwen, model_type: 'mistral' }).attentionBias, false);
});

test('unusable configs name config.json and the problem', () => {
  rejects({ ...qwen, model_type: 'gpt2' }, /model_type "gpt2" is not supported/);
  rejects({ ...qwen, model_type: undefined }, /model_type undefined/);
  const { hidden_size: _h, ...noHidden } = qwen;
  void _h;
  rejects(noHidden, /missing "hidden_size"/);
  rejects({ ...qwen, num_hidden_layers: 0 }, /num_hidden_layers/);
  rejects({ ...qwen, num_attention_heads: 13 }, /not divisible by num_attention_heads 13/);
  rejects({ ...qwen, num_key_value_heads: 3 }, /14 is not divisible by num_key_value_heads 3/);
  rejects({ ...qwen, rope_scaling: { type: 'yarn', factor: 4 } }, /rope_scaling/);
  rejects({ ...qwen, hidden_act: 'gelu' }, /hidden_act/);
});

test('a missing or malformed config.json is a ModelLoadError', () => {
  const dir = tempDir();
  assert.throws(() => readDecoderConfig(dir), (e: unknown) => e instanceof ModelLoadError && e.file === 'config.json' && /missing/.test(e.problem));
  writeFileSync(join(dir, 'config.json'), '{"model_type": ');
  assert.throws(() => readDecoderConfig(dir), (e: unknown) => e instanceof ModelLoadError && /not valid JSON/.test(e.problem));
});
