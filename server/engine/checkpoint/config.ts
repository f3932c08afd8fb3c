// Normalizes a Hugging Face config.json into DecoderConfig, once per architecture, so the
// rest of the engine speaks one vocabulary (numLayers, numKvHeads, headDim).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { DecoderConfig, ModelLoadError, RopeScaling } from '../types';

const file = 'config.json';

/** Architectures whose graph we build: Qwen2 (q/k/v biases) and Llama/Mistral (none). */
const supportedModelTypes: Record<string, { attentionBias: boolean }> = {
  qwen2: { attentionBias: true },
  llama: { attentionBias: false },
  mistral: { attentionBias: false },
};

export function readDecoderConfig(dir: string): DecoderConfig {
  let text: string;
  try {
    text = readFileSync(join(dir, file), 'utf8');
  } catch {
    throw new ModelLoadError(file, 'missing or unreadable');
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new ModelLoadError(file, `not valid JSON (${(e as Error).message})`);
  }
  if (typeof json !== 'object' || json === null || Array.isArray(json)) throw new ModelLoadError(file, 'not a JSON object');
  return parseDecoderConfig(json as Record<string, unknown>);
}

export function parseDecoderConfig(raw: Record<string, unknown>): DecoderConfig {
  const modelType = raw.model_type;
  if (typeof modelType !== 'string' || !(modelType in supportedModelTypes)) {
    throw new ModelLoadError(file, `model_type ${JSON.stringify(modelType)} is not supported (supported: ${Object.keys(supportedModelTypes).join(', ')})`);
  }
  const positive = (key: string, fallback?: number): number => {
    const value = raw[key] ?? fallback;
    if (value === undefined) throw new ModelLoadError(file, `missing "${key}"`);
    if (typeof value !== 'number' || !Number.isSafeInteger(value) || value <= 0) {
      throw new ModelLoadError(file, `"${key}" must be a positive integer, got ${JSON.stringify(value)}`);
    }
    return value;
  };
  const positiveNumber = (key: string, fallback: number): number => {
    const value = raw[key] ?? fallback;
    if (typeof value !== 'number' || !(value > 0)) throw new ModelLoadError(file, `"${key}" must be a positive number, got ${JSON.stringify(value)}`);
    return value;
  };

  const hiddenSize = positive('hidden_size');
  const numHeads = positive('num_attention_heads');
  // Older Llama configs omit num_key_value_heads: that means multi-head attention.
  const numKvHeads = positive('num_key_value_heads', numHeads);
  if (hiddenSize % numHeads !== 0 && raw.head_dim === undefined) {
    throw new ModelLoadError(file, `hidden_size ${hiddenSize} is not divisible by num_attention_heads ${numHeads}`);
  }
  if (numHeads % numKvHeads !== 0) {
    throw new ModelLoadError(file, `num_attention_heads ${numHeads} is not divisible by num_key_value_heads ${numKvHeads}`);
  }
  const headDim = positive('head_dim', hiddenSize / numHeads);
  if (headDim % 2 !== 0) throw new ModelLoadError(file, `head_dim ${headDim} must be even for rotary embeddings`);

  const ropeScaling = parseRopeScaling(raw.rope_scaling);
  const attentionBias = typeof raw.attention_bias === 'boolean' ? raw.attention_bias : supportedModelTypes[modelType].attentionBias;
  const hiddenAct = raw.hidden_act ?? 'silu';
  if (hiddenAct !== 'silu') throw new ModelLoadError(file, `hidden_act ${JSON.stringify(hiddenAct)} is not supported (only silu)`);

  return {
    modelType,
    vocabSize: positive('vocab_size'),
    hiddenSize,
    intermediateSize: positive('intermediate_size'),
    numLayers: positive('num_hidden_layers'),
    numHeads,
    numKvHeads,
    headDim,
    ropeTheta: positiveNumber('rope_theta', 10000),
    ...(ropeScaling ? { ropeScaling } : {}),
    rmsNormEps: positiveNumber('rms_norm_eps', 1e-6),
    maxPositions: positive('max_position_embeddings'),
    tieWordEmbeddings: raw.tie_word_embeddings === true,
    attentionBias,
  };
}

/**
 * rope_scaling: absent, null or "default" is plain rope; "linear" and "llama3" are
 * computed in JS (graph/rope.ts). Other kinds (dynamic, yarn, longrope) change more than
 * the angles, so they are refused rather than run as a silently different model.
 */
function parseRopeScaling(value: unknown): RopeScaling | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'object' || Array.isArray(value)) throw new ModelLoadError(file, `"rope_scaling" must be an object, got ${JSON.stringify(value)}`);
  const r = value as Record<string, unknown>;
  const kind = r.rope_type ?? r.type;
  const positiveNumber = (key: string): number => {
    const n = r[key];
    if (typeof n !== 'number' || !(n > 0)) throw new ModelLoadError(file, `rope_scaling "${key}" must be a positive number, got ${JSON.stringify(n)}`);
    return n;
  };
  if (kind === 'default') return undefined;
  if (kind === 'linear') return { type: 'linear', factor: positiveNumber('factor') };
  if (kind === 'llama3') {
    const scaling = {
      type: 'llama3' as const,
      factor: positiveNumber('factor'),
      lowFreqFactor: positiveNumber('low_freq_factor'),
      highFreqFactor: positiveNumber('high_freq_factor'),
      originalMaxPositions: positiveNumber('original_max_position_embeddings'),
    };
    if (scaling.highFreqFactor <= scaling.lowFreqFactor) throw new ModelLoadError(file, 'rope_scaling "high_freq_factor" must exceed "low_freq_factor"');
    return scaling;
  }
  throw new ModelLoadError(file, `rope_scaling of type ${JSON.stringify(kind)} is not supported (supported: linear, llama3)`);
}
