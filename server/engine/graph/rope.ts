// Rotary position embeddings, computed in JS and fed to the graph as cos/sin tables, so
// that every variant of Hugging Face's rope (plain, linear scaling, Llama 3 scaling) is
// plain arithmetic here and the graph stays the same.

import type { DecoderConfig, RopeScaling } from '../types';

/**
 * inv_freq[i] = 1 / theta^(2i / headDim), adjusted by the config's rope_scaling exactly as
 * transformers' rope initialisation functions do. Float32 rounding matches HF, which
 * computes these in fp32.
 */
export function ropeInverseFrequencies(headDim: number, theta: number, scaling?: RopeScaling): Float32Array {
  const half = headDim / 2;
  const invFreq = new Float32Array(half);
  for (let i = 0; i < half; i++) invFreq[i] = 1 / Math.pow(theta, (2 * i) / headDim);
  if (!scaling) return invFreq;
  if (scaling.type === 'linear') {
    for (let i = 0; i < half; i++) invFreq[i] = invFreq[i] / scaling.factor;
    return invFreq;
  }
  // Llama 3: long wavelengths are slowed by `factor`, short ones kept, the band between
  // blended smoothly.
  const { factor, lowFreqFactor, highFreqFactor, originalMaxPositions } = scaling;
  const lowFreqWavelen = originalMaxPositions / lowFreqFactor;
  const highFreqWavelen = originalMaxPositions / highFreqFactor;
  for (let i = 0; i < half; i++) {
    const wavelen = (2 * Math.PI) / invFreq[i];
    if (wavelen > lowFreqWavelen) {
      invFreq[i] = invFreq[i] / factor;
    } else if (wavelen >= highFreqWavelen) {
      const smooth = (originalMaxPositions / wavelen - lowFreqFactor) / (highFreqFactor - lowFreqFactor);
      invFreq[i] = (1 - smooth) * (invFreq[i] / factor) + smooth * invFreq[i];
    }
  }
  return invFreq;
}

const inverseFrequencyCache = new WeakMap<DecoderConfig, Float32Array>();

/** cos and sin of position × inv_freq for positions [start, start + seqLen): each [seqLen, headDim / 2]. */
export function ropeTables(c: DecoderConfig, start: number, seqLen: number): { cos: Float32Array; sin: Float32Array } {
  let invFreq = inverseFrequencyCache.get(c);
  if (!invFreq) {
    invFreq = ropeInverseFrequencies(c.headDim, c.ropeTheta, c.ropeScaling);
    inverseFrequencyCache.set(c, invFreq);
  }
  const half = c.headDim / 2;
  const cos = new Float32Array(seqLen * half);
  const sin = new Float32Array(seqLen * half);
  for (let s = 0; s < seqLen; s++) {
    for (let i = 0; i < half; i++) {
      const angle = Math.fround((start + s) * invFreq[i]);
      cos[s * half + i] = Math.cos(angle);
      sin[s * half + i] = Math.sin(angle);
    }
  }
  return { cos, sin };
}
