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
import { defaultFlashPast, type FlashPastThresholds, type WeightFormat } from '../engine/graph/decoderGraph';

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
export function loadBenchModel(options: Pick<EngineBenchOptions, 'modelPath' | 'threads' | 'chunkTokens' | 'graphCacheDir' | 'weightFormat' | 'kv' | 'flashPast' | 'log'>): Promise<LoadedModel> {
  const { threads, chunkTokens, graphCacheDir, weightFormat, kv, flashPast, log } = options;
  return loadModel(options.modelPath, { threads, chunkTokens, graphCacheDir, weightFormat, kv, flashPast, log });
}

/** How records name the flash path's setting: "off", or "TOKENS,PAST" (the thresholds). */
export function flashPastLabel(flashPast: FlashPastThresholds | false | undefined): string {
  const t = flashPast ?? defaultFlashPast;
  return t === false ? 'off' : `${t.minTokens},${t.minPast}`;
}

export async function runEngineBench(options: EngineBenchOptions): Promise<ResultRecord[]> {
  const started = performance.now();
  const model = await loadBenchModel(options);
  const loadMs = performance.now() - started;
  const commit = currentCommit();
  const records: ResultRecord[] = [];
  const record = (metric: string, values: number[], extra: Record<string, unknown>) => {
    const { load_avg_1m, ...stats } = measured(values);
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
      flash_past: flashPastLabel(options.flashPast),
      load_avg_1m,
    };
    records.push(r);
    appendRecord(options.out, r);
    options.log(`${metric.padEnd(12)} ${String(r.context_tokens ?? '').padStart(6)}  median ${r.median.toFixed(1).padStart(9)}  (min ${r.min.toFixed(1)}, max ${r.max.toFixed(1)}, ${r.runs} runs, load ${r.load_avg_1m})`);
  };
  options.log(`${model.name}: loaded in ${loadMs.toFixed(0)} ms; ${options.threads} thread(s), chunks of ${model.chunkTokens} tokens`);
  record('load_ms', [loadMs], { graph_cache: options.graphCacheDir !== undefined });
  const vocab = model.config.vocabSize;
  const limit = model.config.maxPositions;

  try {
    // One pass first, not measured: a process's first run pays one-time costs (onnxruntime's
    // first allocations, code warm-up) that a cold prompt in a running server does not.
    // (Measured here: a process's first 2k prefill ran 2-27 % slower than its next four.)
    model.newSequence().append(randomTokens(Math.min(warmUpTokens, limit), vocab, 1));
    for (const context of options.prefillContexts.filter((n) => n <= limit)) {
      const ids = randomTokens(context, vocab, context);
      const tps: number[] = [];
      for (let run = 0; run < options.runs; run++) {
        const sequence = model.newSequence();
        const t0 = performance.now();
        sequence.append(ids);
        tps.push((context * 1000) / (performance.now() - t0));
      }
      record('prefill_tps', tps, { scenario: 'cold', context_tokens: context });
    }
    for (const context of options.decodeContexts.filter((n) => n + options.decodeTokens <= limit)) {
      const sequence = model.newSequence();
      const ids = randomTokens(context, vocab, context);
      let logits = sequence.append(ids);
      const tps: number[] = [];
      const stepMs: number[] = [];
      for (let run = 0; run < options.runs; run++) {
        sequence.truncate(context);
        // An int8 cache cut inside a quantized block holds less: run the rest of the context again.
        if (sequence.length < context) logits = sequence.append(ids.slice(sequence.length, context));
        const t0 = performance.now();
        for (let i = 0; i < options.decodeTokens; i++) {
          const s0 = performance.now();
          logits = sequence.append([argmax(logits)]);
          stepMs.push(performance.now() - s0);
        }
        tps.push((options.decodeTokens * 1000) / (performance.now() - t0));
      }
      record('decode_tps', tps, { context_tokens: context, decode_tokens: options.decodeTokens, step_ms_median: Number(median(stepMs).toFixed(3)) });
      record('kv_bytes_per_token', [sequence.kvBytes / sequence.length], { context_tokens: context, note: 'bytes of every allocated KV buffer / tokens held' });
    }
    record('peak_rss_mb', [peakRssMB()], { note: 'whole process, after every measurement above' });
  } finally {
    await model.dispose();
  }
  return records;
}
