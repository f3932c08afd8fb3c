// The two calibration signals, per (layer, query head), accumulated over copy probes:
// - retrieval: the head's strongest attention from the probe lands on the token being
//   copied (Retrieval Head's retrieval score);
// - window error: how much the head's output changes when it may only see the first
//   `sinks` tokens and the last `window` ones (attention renormalized over them), as a
//   squared error relative to the output's squared norm (what DuoAttention's gates trade).
// Attention is computed in JS from the pass's post-RoPE queries and the cached keys and
// values (engine/attention.ts), so the graph needs no extra outputs.

import { headAttention } from '../engine/attention';
import type { DecoderConfig, Sequence } from '../engine/types';
import type { CopyProbe } from './tasks';

export class HeadStats {
  /** [numLayers * numHeads]: probes whose argmax was the source. */
  readonly hits: Float64Array;
  /** [numLayers * numHeads]: summed relative window errors. */
  readonly errors: Float64Array;
  probes = 0;

  constructor(readonly config: DecoderConfig) {
    this.hits = new Float64Array(config.numLayers * config.numHeads);
    this.errors = new Float64Array(config.numLayers * config.numHeads);
  }

  /**
   * Scores the probes asked in the pass just appended: `queries[layer]` is its
   * [numHeads, chunkTokens, headDim] output and `chunkStart` the position of its first token.
   */
  addProbes(sequence: Sequence, queries: Float32Array[], chunkStart: number, chunkTokens: number, probes: CopyProbe[], sinks: number, window: number): void {
    const { numLayers, numHeads, numKvHeads, headDim } = this.config;
    const group = numHeads / numKvHeads;
    const full = new Float64Array(headDim);
    const kept = new Float64Array(headDim);
    for (const probe of probes) {
      const row = probe.position - chunkStart;
      if (row < 0 || row >= chunkTokens) throw new RangeError(`probe at ${probe.position} is outside the pass [${chunkStart}, ${chunkStart + chunkTokens})`);
      for (let l = 0; l < numLayers; l++) {
        for (let h = 0; h < numHeads; h++) {
          const kvHead = Math.floor(h / group);
          const probs = headAttention({ queries: queries[l], tokens: chunkTokens, row, head: h }, sequence.keys(l, kvHead), probe.position, headDim);
          const values = sequence.values(l, kvHead);
          let best = 0;
          let keptMass = 0;
          full.fill(0);
          kept.fill(0);
          const windowStart = probe.position - window + 1;
          for (let t = 0; t <= probe.position; t++) {
            const p = probs[t];
            if (p > probs[best]) best = t;
            const inWindow = t < sinks || t >= windowStart;
            if (inWindow) keptMass += p;
            for (let d = 0; d < headDim; d++) {
              const pv = p * values[t * headDim + d];
              full[d] += pv;
              if (inWindow) kept[d] += pv;
            }
          }
          let error = 0;
          let norm = 0;
          for (let d = 0; d < headDim; d++) {
            const restricted = keptMass > 0 ? kept[d] / keptMass : 0;
            error += (full[d] - restricted) ** 2;
            norm += full[d] ** 2;
          }
          const at = l * numHeads + h;
          if (best === probe.source) this.hits[at] += 1;
          this.errors[at] += error / (norm + 1e-12);
        }
      }
      this.probes += 1;
    }
  }

  /** Per (layer, KV head): the maximum over the group's query heads of the mean hit rate and mean window error. */
  perKvHead(): Array<{ layer: number; kvHead: number; retrievalScore: number; windowError: number }> {
    const { numLayers, numHeads, numKvHeads } = this.config;
    const group = numHeads / numKvHeads;
    const out = [];
    const n = Math.max(1, this.probes);
    for (let l = 0; l < numLayers; l++) {
      for (let kv = 0; kv < numKvHeads; kv++) {
        let retrieval = 0;
        let error = 0;
        for (let g = 0; g < group; g++) {
          const at = l * numHeads + kv * group + g;
          retrieval = Math.max(retrieval, this.hits[at] / n);
          error = Math.max(error, this.errors[at] / n);
        }
        out.push({ layer: l, kvHead: kv, retrievalScore: retrieval, windowError: error });
      }
    }
    return out;
  }
}
