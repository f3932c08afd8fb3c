// heed bench engine: cold prefill and decode speed of one model at several context
// lengths, written as EVAL.md result records (JSON lines) and printed as a table.

import { execFileSync } from 'node:child_process';
import { appendFileSync, mkdirSync } from 'node:fs';
import { loadavg } from 'node:os';
import { dirname } from 'node:path';
import { loadModel } from '../engine/loadModel';
import { argmax, seededRandom } from '../engine/sampling';
import type { KvRequest, LoadedModel } from '../engine/types';
import { kvLabel } from '../engine/kvPolicy';
import { defaultFlashPast, defaultInt4Compute, type FlashPastThresholds, type Int4Compute, type WeightFormat } from '../engine/graph/decoderGraph';

/** Tokens of the unmeasured pass after loading. */
const warmUpTokens = 512;

export interface EngineBenchOptions {
  modelPath: string;
  prefillContexts: number[];
  decodeContexts: number[];
  decodeTokens: number;
  runs: number;
  threads: number;
  chunkTokens?: number;
  out: string;
  graphCacheDir?: string;
  weightFormat?: WeightFormat;
  /** How int4 products compute (decoderGraph.ts Int4Compute; int8 when absent). */
  int4Compute?: Int4Compute;
  kv?: KvRequest;
  /** The flash path's thresholds (decoderGraph.ts); `false`: masked scores always. */
  flashPast?: FlashPastThresholds | false;
  log(line: string): void;
}

export interface ResultRecord {
  metric: string;
  scenario?: string;
  context_tokens?: number;
  kv: string;
  model: string;
  median: number;
  min: number;
  max: number;
  runs: number;
  commit: string;
  threads: number;
  chunk_tokens: number;
  load_avg_1m: number;
  [extra: string]: unknown;
}

export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

/** A measurement's statistics and the machine's load, as every result record carries them. */
export function measured(values: number[]): { median: number; min: number; max: number; runs: number; load_avg_1m: number } {
  return { median: median(values), min: Math.min(...values), max: Math.max(...values), runs: values.length, load_avg_1m: Number(loadavg()[0].toFixed(2)) };
}

/** Appends one record to a JSON-lines results file, making its folder if needed. */
export function appendRecord(out: string, record: object): void {
  mkdirSync(dirname(out), { recursive: true });
  appendFileSync(out, JSON.stringify(record) + '\n');
}

export function currentCommit(): string {
  try {
    return execFileSync('git', ['rev-parse', '--short', 'HEAD'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  } catch {
    return 'unknown';
  }
}

/** Seeded random token ids: the same ids for every system measured. */
export function randomTokens(count: number, vocabSize: number, seed: number): number[] {
  const random = seededRandom(seed);
  return Array.from({ length: count }, () => Math.floor(random() * vocabSize));
}

function peakRssMB(): number {
  return process.resourceUsage().maxRSS / 1024;
}

/** The model as a benchmark's options ask for it. */
export function loadBenchModel(options: Pick<EngineBenchOptions, 'modelPath' | 'threads' | 'chunkTokens' | 'graphCacheDir' | 'weightFormat' | 'int4Compute' | 'kv' | 'flashPast' | 'log'>): Promise<LoadedModel> {
  const { threads, chunkTokens, graphCacheDir, weightFormat, int4Compute, kv, flashPast, log } = options;
  return loadModel(options.modelPath, { threads, chunkTokens, graphCacheDir, weightFormat, int4Compute, kv, flashPast, log });
}

/** How records name the flash path's setting: "off", or "TOKENS,PAST" (the thresholds). */
export function flashPastLabel(flashPast: FlashPastThresholds | false | undefined): string {
  const t = flashPast ?? defaultFlashPast;
  return t === false ? 'off' : `${t.minTokens},${t.minPast}`;
}

/**
 * Measures the model as loaded with each of `flashPastVariants` (one entry: the options'
 * own `flashPast`). With several, every variant is loaded in the same process and each
 * run of each measurement goes to them in turn, so that a ratio between them is not
 * skewed by this shared machine's slow and fast phases; their records differ in
 * `flash_past`.
 */
export async function runEngineBench(options: EngineBenchOptions, flashPastVariants: Array<FlashPastThresholds | false | undefined> = [options.flashPast]): Promise<ResultRecord[]> {
  const commit = currentCommit();
  const records: ResultRecord[] = [];
  const variants: Array<{ model: LoadedModel; flashPast: string }> = [];
  const record = (variant: { model: LoadedModel; flashPast: string } | undefined, metric: string, values: number[], extra: Record<string, unknown>) => {
    const { load_avg_1m, ...stats } = measured(values);
    const model = variant?.model ?? variants[0].model;
    const r: ResultRecord = {
      metric,
      ...extra,
      kv: kvLabel(model.kv),
      model: model.name,
      ...stats,
      commit,
      threads: options.threads,
      chunk_tokens: model.chunkTokens,
      weights: options.weightFormat ?? 'fp32',
      ...(options.weightFormat === 'int4' ? { int4_compute: options.int4Compute ?? defaultInt4Compute } : {}),
      ...(variant ? { flash_past: variant.flashPast } : { flash_past: variants.map((v) => v.flashPast).join(' / ') }),
      load_avg_1m,
    };
    records.push(r);
    appendRecord(options.out, r);
    const label = flashPastVariants.length > 1 && variant ? ` [flash ${variant.flashPast}]` : '';
    options.log(`${metric.padEnd(12)} ${String(r.context_tokens ?? '').padStart(6)}  median ${r.median.toFixed(1).padStart(9)}  (min ${r.min.toFixed(1)}, max ${r.max.toFixed(1)}, ${r.runs} runs, load ${r.load_avg_1m})${label}`);
  };

  try {
    for (const flashPast of flashPastVariants) {
      const started = performance.now();
      const model = await loadBenchModel({ ...options, flashPast });
      const variant = { model, flashPast: flashPastLabel(flashPast) };
      variants.push(variant);
      options.log(`${model.name}: loaded in ${(performance.now() - started).toFixed(0)} ms; ${options.threads} thread(s), chunks of ${model.chunkTokens} tokens, flash past ${variant.flashPast}`);
      record(variant, 'load_ms', [performance.now() - started], { graph_cache: options.graphCacheDir !== undefined });
      // One pass first, not measured: a process's first run pays one-time costs (onnxruntime's
      // first allocations, code warm-up) that a cold prompt in a running server does not.
      // (Measured here: a process's first 2k prefill ran 2-27 % slower than its next four.)
      model.newSequence().append(randomTokens(Math.min(warmUpTokens, model.config.maxPositions), model.config.vocabSize, 1));
    }
    const { vocabSize: vocab, maxPositions: limit } = variants[0].model.config;
    for (const context of options.prefillContexts.filter((n) => n <= limit)) {
      const ids = randomTokens(context, vocab, context);
      const tps = variants.map((): number[] => []);
      for (let run = 0; run < options.runs; run++) {
        variants.forEach(({ model }, v) => {
          const sequence = model.newSequence();
          const t0 = performance.now();
          sequence.append(ids);
          tps[v].push((context * 1000) / (performance.now() - t0));
        });
      }
      variants.forEach((variant, v) => record(variant, 'prefill_tps', tps[v], { scenario: 'cold', context_tokens: context }));
    }
    for (const context of options.decodeContexts.filter((n) => n + options.decodeTokens <= limit)) {
      const ids = randomTokens(context, vocab, context);
      const runs = variants.map(({ model }) => {
        const sequence = model.newSequence();
        return { sequence, logits: sequence.append(ids), tps: [] as number[], stepMs: [] as number[] };
      });
      for (let run = 0; run < options.runs; run++) {
        for (const r of runs) {
          r.sequence.truncate(context);
          // An int8 cache cut inside a quantized block holds less: run the rest of the context again.
          if (r.sequence.length < context) r.logits = r.sequence.append(ids.slice(r.sequence.length, context));
          const t0 = performance.now();
          for (let i = 0; i < options.decodeTokens; i++) {
            const s0 = performance.now();
            r.logits = r.sequence.append([argmax(r.logits)]);
            r.stepMs.push(performance.now() - s0);
          }
          r.tps.push((options.decodeTokens * 1000) / (performance.now() - t0));
        }
      }
      variants.forEach((variant, v) => {
        const r = runs[v];
        record(variant, 'decode_tps', r.tps, { context_tokens: context, decode_tokens: options.decodeTokens, step_ms_median: Number(median(r.stepMs).toFixed(3)) });
        record(variant, 'kv_bytes_per_token', [r.sequence.kvBytes / r.sequence.length], { context_tokens: context, note: 'bytes of every allocated KV buffer / tokens held' });
      });
    }
    const shared = variants.length > 1 ? `, ${variants.length} models loaded together` : '';
    record(variants.length > 1 ? undefined : variants[0], 'peak_rss_mb', [peakRssMB()], { note: `whole process, after every measurement above${shared}` });
  } finally {
    for (const { model } of variants) await model.dispose();
  }
  return records;
}
