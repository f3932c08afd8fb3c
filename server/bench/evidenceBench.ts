// What evidence costs a completion: the same warm completion (workspace prompt cached, one
// keystroke's worth of new tokens) with and without the retrieval heads' evidence, in one
// run, alternating, at several context lengths. The evidence run pays for fetching each
// pass's queries (or, under the head-aware cache, each step's attention mass), the
// attention-mass graph, and the mapping to lines. Besides the two kinds' medians, the
// record gives the median over pairs of neighbouring runs on the same keystroke, which a
// slow phase of the machine shifts less. Apart, what the evidence's crossing from the worker
// to the language server costs on the reply's way (packed, cloned as postMessage clones,
// unpacked: evidenceWire.ts), which this in-process loop does not pay.

import type { WeightFormat } from '../engine/graph/decoderGraph';
import { kvLabel } from '../engine/kvPolicy';
import { CachedSequence, generate, type GenerateOptions } from '../engine/generate';
import { chooseEvidenceHeads, EvidenceCollector, readFolderRetrieval, type PromptEvidence } from '../engine/evidence';
import { tokenizePrompt, type PartTokens } from '../engine/promptTokens';
import type { LoadedModel } from '../engine/types';
import type { SourceFile } from '../eval/caseGen';
import { contextParts } from '../context/assemble';
import { completionPrompt } from '../features/completion/prompt';
import type { PromptParts } from '../worker/messages';
import { appendRecord, currentCommit, measured, median } from './engineBench';
import { packEvidence, unpackEvidence } from '../worker/evidenceWire';
import { deserialize, serialize } from 'node:v8';

/** Characters per token when filling a context by estimate; the exact count is the tokenizer's. */
const charsPerTokenEstimate = 3;

/** A completion prompt of about `contextTokens`: files of `files` in order as workspace context, the last one's middle as the cursor. */
export function evidenceBenchPrompt(model: LoadedModel, files: SourceFile[], contextTokens: number, typed: string): PromptParts {
  const active = files[files.length - 1];
  const cursor = Math.floor(active.text.length / 2);
  const context = [];
  let chars = 0;
  for (const file of files.slice(0, -1)) {
    if (chars + file.text.length > (contextTokens - 1024) * charsPerTokenEstimate) continue;
    context.push({ path: file.path, text: file.text, dropRank: context.length + 1 });
    chars += file.text.length;
  }
  const { special, fimOrder } = model.tokenizer;
  const prefix = active.text.slice(Math.max(0, cursor - 1500), cursor) + typed;
  return completionPrompt(special, fimOrder, 'workspace', active.path, { prefix, suffix: active.text.slice(cursor, cursor + 600), truncated: true }, { workspace: contextParts(context) });
}

/**
 * The with/without pairs of a run: in each block of four runs (4b+1 … 4b+4), run 4b+1 (with
 * evidence) and 4b+3 (without) see the same keystroke, and so do 4b+4 (with) and 4b+2
 * (without). `msByRun` holds each run's time by its index; pairs missing a run are left out.
 * Per pair, what evidence added in ms and as a share of the run without it.
 */
export function pairedOverheads(msByRun: ReadonlyMap<number, number>): Array<{ ms: number; share: number }> {
  const pairs: Array<{ ms: number; share: number }> = [];
  for (let block = 0; msByRun.has(4 * block + 1); block++) {
    for (const [withRun, plainRun] of [[4 * block + 1, 4 * block + 3], [4 * block + 4, 4 * block + 2]]) {
      const withMs = msByRun.get(withRun);
      const plainMs = msByRun.get(plainRun);
      if (withMs !== undefined && plainMs !== undefined) pairs.push({ ms: withMs - plainMs, share: (withMs - plainMs) / plainMs });
    }
  }
  return pairs;
}

/** Pairs of passes, with evidence and without, that evidenceByParts times. */
const partPairs = 200;

/**
 * Evidence's cost by its parts, each timed many times over with and without evidence in
 * alternation (the order switching every pair), on the sequence of a finished run: a
 * keystroke's prefill pass (the prompt's last pass, which gives the prompt's rows; the
 * sequence holds the other keystroke's prompt before each), and a decode step at the
 * prompt's end (cut off again after each). The medians of the pairs' differences, in ms: a
 * completion's evidence then costs about prefill + (generated − 1) × step + the work after
 * the generation, each part with far less spread than whole completions give.
 */
export function evidenceByParts(cached: CachedSequence, collector: () => EvidenceCollector, keystrokes: [number[], number[]], pairs = partPairs): { prefillMs: number; stepMs: number } {
  const prefill: number[] = [];
  const step: number[] = [];
  const stepCollector = collector(); // the steps' mass runs on, as in a generation
  const timed = (work: () => void): number => {
    const started = performance.now();
    work();
    return performance.now() - started;
  };
  /** The work with evidence's time less the work without's, run in the order given. */
  const difference = (withWork: () => void, plainWork: () => void, withFirst: boolean): number => {
    if (!withFirst) {
      const plainMs = timed(plainWork);
      return timed(withWork) - plainMs;
    }
    const withMs = timed(withWork);
    return withMs - timed(plainWork);
  };
  for (let pair = 0; pair < pairs; pair++) {
    const withFirst = pair % 2 === 1;
    const [plainIds, withIds] = withFirst ? keystrokes : [keystrokes[1], keystrokes[0]];
    prefill.push(difference(() => cached.prefill(withIds, () => false, undefined, collector()), () => cached.prefill(plainIds, () => false), withFirst));
    const length = cached.length;
    const token = plainIds[plainIds.length - 1];
    step.push(difference(() => (cached.appendOne(token, stepCollector), cached.truncate(length)), () => (cached.appendOne(token), cached.truncate(length)), withFirst));
  }
  return { prefillMs: median(prefill), stepMs: median(step) };
}

export interface EvidenceBenchOptions {
  model: LoadedModel;
  /** The model's folder, where its head pattern is. */
  modelPath: string;
  files: SourceFile[];
  contexts: number[];
  runs: number;
  maxTokens: number;
  threads: number;
  /** The weights the model was loaded with, for the records. */
  weights: WeightFormat;
  out: string;
  log(line: string): void;
}

export async function runEvidenceBench(options: EvidenceBenchOptions): Promise<void> {
  const { model } = options;
  const commit = currentCommit();
  const heads = chooseEvidenceHeads(model, 'retrieval', () => readFolderRetrieval(model, options.modelPath));
  const generateOptions: GenerateOptions = { maxTokens: options.maxTokens, temperature: 0, topP: 1, seed: 0, stop: [] };
  for (const contextTokens of options.contexts) {
    const cached = new CachedSequence(model);
    const plainMs: number[] = [];
    const withMs: number[] = [];
    const evidenceMs: number[] = [];
    const collectingMs: number[] = [];
    const crossingMs: number[] = [];
    const msByRun = new Map<number, number>();
    let generated = 0;
    let promptTokens = 0;
    const keystrokes: number[][] = [];
    for (let run = 0; run < options.runs * 2 + 1; run++) {
      // A keystroke between requests: the prompt differs from the cached one in its last tokens.
      const parts = evidenceBenchPrompt(model, options.files, contextTokens, run % 2 === 0 ? 'x' : 'y');
      const map: PartTokens[] = [];
      const ids = tokenizePrompt(model.tokenizer, parts, contextTokens, undefined, map);
      promptTokens = ids.length;
      if (run < 2) keystrokes.push(ids);
      // With evidence at runs 1, 4, 5, 8, 9, …, without at 2, 3, 6, 7, …: as many runs of
      // each, each in turn first, and each seeing both keystrokes (their completions differ).
      const withEvidence = run > 0 && (run % 4 === 1 || run % 4 === 0);
      const started = performance.now();
      let evidence: PromptEvidence | undefined;
      if (withEvidence) {
        const collector = new EvidenceCollector(model, heads, { heads: 'retrieval' }, ids);
        const result = generate(cached, ids, generateOptions, () => false, undefined, collector);
        collectingMs.push(performance.now() - started);
        evidence = collector.finish(cached.sequence, result.tokens, map);
        evidenceMs.push(evidence.ms);
        generated = result.tokens.length;
      } else {
        generate(cached, ids, generateOptions, () => false);
      }
      // The first run fills the cache (a cold prefill): not a warm completion.
      if (run > 0) {
        const ms = performance.now() - started;
        (withEvidence ? withMs : plainMs).push(ms);
        msByRun.set(run, ms);
      }
      if (evidence) {
        const crossing = performance.now();
        unpackEvidence(deserialize(serialize(packEvidence(evidence))));
        crossingMs.push(performance.now() - crossing);
      }
    }
    const plain = measured(plainMs);
    const pairs = pairedOverheads(msByRun);
    const withEvidence = measured(withMs);
    const parts = evidenceByParts(cached, () => new EvidenceCollector(model, heads, { heads: 'retrieval' }, keystrokes[0]), [keystrokes[0], keystrokes[1]]);
    const finishMs = median(evidenceMs);
    const byPartsMs = parts.prefillMs + Math.max(0, generated - 1) * parts.stepMs + finishMs;
    const record = {
      metric: 'evidence_overhead',
      context_tokens: contextTokens,
      prompt_tokens: promptTokens,
      generated_tokens: generated,
      kv: kvLabel(model.kv),
      model: model.name,
      heads: heads.source,
      completion_ms_median: Number(plain.median.toFixed(2)),
      with_evidence_ms_median: Number(withEvidence.median.toFixed(2)),
      evidence_compute_ms_median: Number(measured(evidenceMs).median.toFixed(2)),
      generation_with_queries_ms_median: Number(measured(collectingMs).median.toFixed(2)),
      // Not in the times above: the evidence's crossing from the worker, packed (evidenceWire.ts).
      evidence_crossing_ms_median: Number(median(crossingMs).toFixed(3)),
      median: Number(((withEvidence.median - plain.median) / plain.median).toFixed(4)),
      unit: 'share of the completion time',
      // Per pair of runs on the same keystroke, one with evidence and one without, next to each other.
      paired_overhead_ms_median: Number(median(pairs.map((p) => p.ms)).toFixed(2)),
      paired_median: Number(median(pairs.map((p) => p.share)).toFixed(4)),
      pairs: pairs.length,
      // By parts (evidenceByParts): the keystroke's pass and a decode step, each the median of
      // partPairs differences; with the work after the generation, what a completion's
      // evidence adds, and its share of the completion without it.
      by_parts_prefill_pass_ms: Number(parts.prefillMs.toFixed(3)),
      by_parts_decode_step_ms: Number(parts.stepMs.toFixed(3)),
      by_parts_overhead_ms: Number(byPartsMs.toFixed(2)),
      by_parts_share: Number((byPartsMs / plain.median).toFixed(4)),
      part_pairs: partPairs,
      runs: options.runs,
      commit,
      threads: options.threads,
      chunk_tokens: model.chunkTokens,
      weights: options.weights,
      load_avg_1m: withEvidence.load_avg_1m,
    };
    options.log(JSON.stringify(record));
    appendRecord(options.out, record);
  }
}
