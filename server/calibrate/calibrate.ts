// Head calibration: runs the copy tasks (tasks.ts) through the engine, scores every
// (layer, KV head) with the two signals of headScores.ts, and makes a head pattern
// (engine/headPattern.ts). Cancellable between forward passes.

import { renameSync, writeFileSync } from 'node:fs';
import { CancelledError } from '../engine/generate';
import { chooseRetrievalHeads, headPatternFormat, headPatternVersion, rankHeads, type HeadPattern } from '../engine/headPattern';
import { seededRandom } from '../engine/sampling';
import type { LoadedModel } from '../engine/types';
import { HeadStats } from './headScores';
import { definitionSample, repeatSample, type CalibrationSample, type FillerPool } from './tasks';

export interface CalibrateOptions {
  /** Tokens per sample; copies span most of it. */
  contextTokens: number;
  /** Samples per task (repeat and definition). */
  samplesPerTask: number;
  /** Length of the repeated segment of a repeat sample (its probes). */
  segmentTokens: number;
  sinks: number;
  window: number;
  /** Share of KV heads the pattern keeps in full. */
  retrievalRatio: number;
  seed: number;
  /** Recorded in the pattern: where the filler came from. */
  fillerSource: string;
}

export const defaultCalibrateOptions: CalibrateOptions = {
  contextTokens: 4096,
  samplesPerTask: 6,
  segmentTokens: 48,
  sinks: 16,
  window: 496,
  retrievalRatio: 0.25,
  seed: 1,
  fillerSource: '',
};

export interface CalibrateProgress {
  samplesDone: number;
  samples: number;
  probes: number;
}

/** "3/12 samples, 420 probes": the line the CLI prints and the editor's progress shows. */
export function describeProgress(p: CalibrateProgress): string {
  return `${p.samplesDone}/${p.samples} samples, ${p.probes} probes`;
}

export function calibrationSamples(model: LoadedModel, pool: FillerPool, options: CalibrateOptions): CalibrationSample[] {
  if (pool.files.length === 0) throw new Error('calibration needs filler code, and none was found');
  const random = seededRandom(options.seed);
  const samples: CalibrationSample[] = [];
  for (let i = 0; i < options.samplesPerTask; i++) {
    samples.push(repeatSample(random, pool, options.contextTokens, options.segmentTokens));
    samples.push(definitionSample(random, model.tokenizer, pool, options.contextTokens));
  }
  return samples;
}

/** Runs the samples and returns the pattern; `modelSha256` names the checkpoint (engine/checkpoint/modelHash.ts). */
export function calibrate(
  model: LoadedModel,
  modelSha256: string,
  pool: FillerPool,
  options: CalibrateOptions,
  shouldStop: () => boolean = () => false,
  onProgress: (progress: CalibrateProgress) => void = () => undefined,
): HeadPattern {
  const { config } = model;
  if (options.contextTokens > config.maxPositions) throw new RangeError(`--context-tokens ${options.contextTokens} exceeds the model's ${config.maxPositions} positions`);
  if (options.window + options.sinks >= options.contextTokens / 2) throw new RangeError(`sinks + window (${options.sinks + options.window}) must be well under the calibration context (${options.contextTokens} tokens) to tell heads apart`);
  const started = performance.now();
  const samples = calibrationSamples(model, pool, options);
  const stats = new HeadStats(config);
  const chunk = model.chunkTokens;
  samples.forEach((sample, index) => {
    const sequence = model.newSequence();
    const byPosition = [...sample.probes].sort((a, b) => a.position - b.position);
    let next = 0;
    for (let start = 0; start < sample.ids.length; start += chunk) {
      if (shouldStop()) throw new CancelledError();
      const piece = sample.ids.slice(start, start + chunk);
      const end = start + piece.length;
      const asked = [];
      while (next < byPosition.length && byPosition[next].position < end) asked.push(byPosition[next++]);
      if (asked.length === 0) {
        sequence.append(piece);
        continue;
      }
      const { queries } = sequence.appendWithQueries(piece);
      stats.addProbes(sequence, queries, start, piece.length, asked, options.sinks, options.window);
    }
    onProgress({ samplesDone: index + 1, samples: samples.length, probes: stats.probes });
  });
  const heads = rankHeads(stats.perKvHead());
  return {
    format: headPatternFormat,
    version: headPatternVersion,
    model: { name: model.name, sha256: modelSha256, numLayers: config.numLayers, numHeads: config.numHeads, numKvHeads: config.numKvHeads },
    sinks: options.sinks,
    window: options.window,
    method: {
      tasks: ['repeat', 'definition'],
      samplesPerTask: options.samplesPerTask,
      contextTokens: options.contextTokens,
      segmentTokens: options.segmentTokens,
      probes: stats.probes,
      seed: options.seed,
      filler: options.fillerSource,
      signals: 'retrievalScore: argmax attention on the copied token; windowError: relative squared output error with sinks + window only; both max over the GQA group',
      seconds: Math.round((performance.now() - started) / 100) / 10,
    },
    heads,
    retrievalRatio: options.retrievalRatio,
    retrieval: chooseRetrievalHeads(heads, config.numLayers, options.retrievalRatio),
  };
}

/** Writes the pattern next to its final name and renames it into place, so a reader never sees half a file. */
export function writeHeadPattern(path: string, pattern: HeadPattern): void {
  const temporary = `${path}.tmp-${process.pid}`;
  writeFileSync(temporary, JSON.stringify(pattern, null, 1) + '\n');
  renameSync(temporary, path);
}

/** One line per layer: each KV head's retrieval score / window error, the kept ones starred. */
export function describePattern(pattern: HeadPattern): string {
  const lines = [`${pattern.model.name}: ${pattern.method.probes} probes in ${pattern.method.seconds} s; S=${pattern.sinks} W=${pattern.window}; kept in full at ratio ${pattern.retrievalRatio} (*):`];
  for (let layer = 0; layer < pattern.model.numLayers; layer++) {
    const heads = pattern.heads.filter((h) => h.layer === layer).sort((a, b) => a.kvHead - b.kvHead);
    const cells = heads.map((h) => `${pattern.retrieval[layer].includes(h.kvHead) ? '*' : ' '}${h.kvHead}: ${h.retrievalScore.toFixed(2)}/${h.windowError.toFixed(2)}`);
    lines.push(`  layer ${String(layer).padStart(2)}  ${cells.join('  ')}`);
  }
  lines.push('  (per KV head: retrieval score / window error)');
  return lines.join('\n');
}
