import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ropeInverseFrequencies, ropeTables } from '../../../server/engine/graph/rope';
import { parseDecoderConfig } from '../../../server/engine/checkpoint/config';
import { ModelLoadError } from '../../../server/engine/types';

const base = {
  model_type: 'llama',
  vocab_size: 32,
  hidden_size: 64,
  intermediate_size: 128,
  num_hidden_layers: 1,
  num_attention_heads: 4,
  max_position_embeddings: 1024,
};

test('plain rope: cos/sin of position × theta^(-2i/d)', () => {
  const config = parseDecoderConfig({ ...base, rope_theta: 10000 });
  const { cos, sin } = ropeTables(config, 5, 2); // positions 5 and 6, 8 frequencies each
  const half = config.headDim / 2;
  for (let i = 0; i < half; i++) {
    const angle = 6 / Math.pow(10000, (2 * i) / config.headDim);
    assert.ok(Math.abs(cos[half + i] - Math.cos(angle)) < 1e-6);
    assert.ok(Math.abs(sin[half + i] - Math.sin(angle)) < 1e-6);
  }
});

test('linear scaling divides every frequency by the factor', () => {
  const plain = ropeInverseFrequencies(64, 10000);
  const scaled = ropeInverseFrequencies(64, 10000, { type: 'linear', factor: 4 });
  plain.forEach((f, i) => assert.ok(Math.abs(scaled[i] - f / 4) <= 1e-7 * f));
});

test('llama3 scaling keeps short wavelengths, slows long ones, blends the band between', () => {
  // Llama 3.1's parameters.
  const scaling = { type: 'llama3' as const, factor: 8, lowFreqFactor: 1, highFreqFactor: 4, originalMaxPositions: 8192 };
  const plain = ropeInverseFrequencies(128, 500000);
  const scaled = ropeInverseFrequencies(128, 500000, scaling);
  let kept = 0;
  let slowed = 0;
  let blended = 0;
  plain.forEach((f, i) => {
    const wavelen = (2 * Math.PI) / f;
    if (wavelen < 8192 / 4) {
      assert.equal(scaled[i], f);
      kept++;
    } else if (wavelen > 8192 / 1) {
      assert.ok(Math.abs(scaled[i] - f / 8) <= 1e-6 * f);
      slowed++;
    } else {
      assert.ok(scaled[i] < f && scaled[i] > f / 8, `frequency ${i} should be blended`);
      blended++;
    }
  });
  assert.ok(kept > 0 && slowed > 0 && blended > 0, `kept ${kept}, slowed ${slowed}, blended ${blended}`);
  // Monotone: frequencies still decrease with i after scaling.
  for (let i = 1; i < scaled.length; i++) assert.ok(scaled[i] < scaled[i - 1]);
});

test('rope_scaling in config.json: linear and llama3 parsed, others refused', () => {
  assert.deepEqual(parseDecoderConfig({ ...base, rope_scaling: { type: 'linear', factor: 2 } }).ropeScaling, { type: 'linear', factor: 2 });
  assert.equal(parseDecoderConfig({ ...base, rope_scaling: null }).ropeScaling, undefined);
  assert.equal(parseDecoderConfig({ ...base, rope_scaling: { rope_type: 'default' } }).ropeScaling, undefined);
  const llama3 = { rope_type: 'llama3', factor: 8, low_freq_factor: 1, high_freq_factor: 4, original_max_position_embeddings: 8192 };
  assert.equal(parseDecoderConfig({ ...base, rope_scaling: llama3 }).ropeScaling?.type, 'llama3');
  const refused = (rope_scaling: unknown, pattern: RegExp) =>
    assert.throws(() => parseDecoderConfig({ ...base, rope_scaling }), (e: unknown) => e instanceof ModelLoadError && e.file === 'config.json' && pattern.test(e.message));
  refused({ type: 'dynamic', factor: 2 }, /"dynamic" is not supported/);
  refused({ rope_type: 'llama3', factor: 8 }, /low_freq_factor/);
  refused({ type: 'linear', factor: -1 }, /factor/);
  refused('yes', /must be an object/);
});
