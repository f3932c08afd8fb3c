// heed eval: completion cases (EVAL.md's JSONL) through the engine, one greedy line each.
// Writes one JSON line per case to --out as it goes (Ctrl-C keeps what was written and
// prints the summary of the cases done), shows progress on stderr, and prints exact
// match, edit similarity and identifier match per kind. --records-out appends the scores as
// EVAL.md's result records (with the KV bytes and time to first token beside them), so that
// runs under several KV policies line up in one file and one plot (heed bench plot).

import { closeSync, openSync, writeSync, writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { basename, join, resolve } from 'node:path';
import { JobFailedError, ModelHost, Priority } from '../worker/modelHost';
import { loadTokenizer } from '../engine/tokenizer';
import { readCases } from '../eval/cases';
import { casePrompt } from '../eval/casePrompt';
import { scoreLine, summarize, type LineScore } from '../eval/metrics';
import { defaultGraphCacheDir, parseWeightFormat } from './cacheDir';
import { cancelOnInterrupt, parseNumber, kvOptions, kvUsage, parseKvRequest } from './cliArgs';
import { kvLabel, kvName } from '../engine/kvPolicy';
import { appendRecord, currentCommit, median } from '../bench/engineBench';
import { checkpointId } from '../engine/checkpoint/modelHash';
import type { KvPolicy, KvRequest } from '../engine/types';
import type { ModelSummary } from '../worker/messages';

const defaultContextTokens = 8192;

export const evalUsage =
  `heed eval --cases FILE.jsonl --out PRED.jsonl --model DIR ${kvUsage} [--context-tokens 8192] [--no-context] [--limit N] [--prefix-tokens 2048] [--suffix-tokens 512] [--max-tokens 48] [--summary-out FILE.json] [--records-out FILE.jsonl] [--threads N] [--weights fp32|int8|int4] [--graph-cache DIR | --no-graph-cache]`;

export async function evalCommand(args: string[]): Promise<number> {
  const { values } = parseArgs({
    args,
    options: {
      cases: { type: 'string' },
      out: { type: 'string' },
      model: { type: 'string' },
      ...kvOptions,
      'context-tokens': { type: 'string' },
      'no-context': { type: 'boolean', default: false },
      limit: { type: 'string' },
      'prefix-tokens': { type: 'string', default: '2048' },
      'suffix-tokens': { type: 'string', default: '512' },
      'max-tokens': { type: 'string', default: '48' },
      'summary-out': { type: 'string' },
      'records-out': { type: 'string' },
      ...casesModelOptions,
    },
  });
  if (!values.cases || !values.out || !values.model) throw new Error('--cases FILE, --out FILE and --model DIR are required');
  const kvRequest = parseKvRequest(values);
  const requestedContextTokens = values['context-tokens'] === undefined ? undefined : parseNumber('context-tokens', values['context-tokens'], true);
  const budget = {
    contextTokens: requestedContextTokens ?? defaultContextTokens,
    prefixTokens: parseNumber('prefix-tokens', values['prefix-tokens']!, true),
    suffixTokens: parseNumber('suffix-tokens', values['suffix-tokens']!, true),
    withContext: !values['no-context'],
  };
  const maxTokens = parseNumber('max-tokens', values['max-tokens']!, true);
  const read = readCases(values.cases);
  let cases = read.cases;
  if (values.limit !== undefined) cases = cases.slice(0, parseNumber('limit', values.limit, true));
  if (cases.length === 0 && read.problems.length === 0) throw new Error(`${values.cases} holds no cases`);

  const modelPath = resolve(values.model);
  const tokenizer = loadTokenizer(modelPath); // on this thread, to plan each prompt's budget
  const host = new ModelHost(join(__dirname, 'modelWorker.js'));
  const cancel = cancelOnInterrupt();
  const out = openSync(values.out, 'w');
  const done: ScoredCase[] = [];
  const progress = new Progress(cases.length);
  // A malformed line, or a case that cannot run, is reported in --out and the run goes on.
  const failed: string[] = [];
  for (const problem of read.problems) {
    writeSync(out, JSON.stringify({ id: `line ${problem.line}`, error: problem.message }) + '\n');
    failed.push(`line ${problem.line}`);
  }
  let interrupted = false;
  let kvInUse: KvPolicy | undefined;
  try {
    const model = await loadCasesModel(host, modelPath, values, kvRequest);
    kvInUse = model.kv;
    // Without --context-tokens: 8192, or what the model's positions leave room for.
    if (requestedContextTokens === undefined) budget.contextTokens = Math.min(defaultContextTokens, model.config.maxPositions - maxTokens);
    if (budget.contextTokens + maxTokens > model.config.maxPositions) {
      throw new Error(`--context-tokens ${budget.contextTokens} plus --max-tokens ${maxTokens} exceed the model's ${model.config.maxPositions} positions`);
    }
    for (const c of cases) {
      let prompt: ReturnType<typeof casePrompt>;
      let result: Awaited<ReturnType<typeof host.generate>>;
      try {
        prompt = casePrompt(c, tokenizer, model.fimOrder, budget);
        const options = { maxTokens, temperature: 0, topP: 1, seed: 0, stop: ['\n'] };
        result = await host.generate(prompt.parts, budget.contextTokens, options, cancel.signal, Priority.Background);
      } catch (error) {
        if (error instanceof JobFailedError && error.cancelled) throw error;
        writeSync(out, JSON.stringify({ id: c.id, kind: c.kind, error: (error as Error).message }) + '\n');
        failed.push(c.id);
        progress.step(false);
        continue;
      }
      const prediction = result.text.split('\n')[0];
      const score = scoreLine(prediction, c.target);
      done.push({ kind: c.kind, score, kvBytes: result.kvBytes, ttftMs: result.ttftMs, ...(c.needle_distance_tokens !== undefined ? { distance: c.needle_distance_tokens } : {}) });
      const record = {
        id: c.id,
        kind: c.kind,
        prediction,
        exact_match: score.exactMatch,
        edit_similarity: Math.round(score.editSimilarity * 100) / 100,
        identifier_match: score.identifierMatch,
        prompt_tokens: result.promptTokens,
        reused_tokens: result.reusedTokens,
        context_files: prompt.contextFiles,
        ttft_ms: Math.round(result.ttftMs * 10) / 10,
        kv_bytes: result.kvBytes,
        ...(c.needle_distance_tokens !== undefined ? { needle_distance_tokens: c.needle_distance_tokens } : {}),
      };
      writeSync(out, JSON.stringify(record) + '\n');
      progress.step(score.exactMatch);
    }
  } catch (error) {
    if (!(error instanceof JobFailedError && error.cancelled)) throw error;
    interrupted = true;
  } finally {
    progress.finish();
    closeSync(out);
    cancel.dispose();
    await host.dispose();
  }

  // Needle cases are also reported per distance: that is their point.
  const byDistance = summarize(done.flatMap((d) => (d.distance !== undefined ? [{ kind: `${d.kind} ${d.distance}`, score: d.score }] : [])));
  delete byDistance.all;
  const summary = { ...summarize(done), ...byDistance };
  const report = {
    errors: failed.length,
    failed_ids: failed,
    model: modelPath,
    cases_file: resolve(values.cases),
    cases: done.length,
    of: cases.length,
    kv: kvInUse ? kvLabel(kvInUse) : kvRequest.policy,
    ...(kvInUse?.policy === 'head-aware' ? { kv_policy: kvInUse } : {}),
    context_tokens: budget.withContext ? budget.contextTokens : 0,
    no_context: !budget.withContext,
    weights: values.weights,
    kinds: summary,
  };
  if (values['summary-out']) writeFileSync(values['summary-out'], JSON.stringify(report, null, 1) + '\n');
  if (values['records-out'] && kvInUse && done.length > 0) {
    const common = { model: basename(modelPath), case_set: basename(values.cases), kv: kvName(kvInUse), kv_params: kvParams(kvInUse), no_context: !budget.withContext, weights: values.weights, checkpoint: checkpointId(modelPath), commit: currentCommit() };
    for (const record of scoreRecords(done, budget.contextTokens)) appendRecord(values['records-out'], { ...record, ...common });
  }
  console.log(formatSummary(summary));
  if (failed.length > 0) console.log(`errors          ${String(failed.length).padStart(5)}  (not scored; their lines in ${values.out} say why)`);
  if (interrupted) {
    process.stderr.write(`heed: cancelled after ${done.length} of ${cases.length} cases; ${values.out} holds them\n`);
    return 130;
  }
  return done.length === 0 ? 1 : 0;
}

interface ScoredCase {
  kind: string;
  score: LineScore;
  kvBytes: number;
  ttftMs: number;
  distance?: number;
}

/** The KV policy's parameters, for records (EVAL.md: `kv_params`). */
function kvParams(kv: KvPolicy): Record<string, number> {
  return {
    ...(kv.policy === 'head-aware' ? { retrieval_ratio: kv.retrievalRatio, sinks: kv.sinks, window: kv.window } : {}),
    ...(kv.policy === 'head-aware' && kv.scoreThreshold !== undefined ? { score_threshold: kv.scoreThreshold } : {}),
    ...(kv.int8Block ? { int8_block: kv.int8Block } : {}),
  };
}

/**
 * Result records of a run: needle accuracy per distance (context_tokens is the distance),
 * and exact match and edit similarity per other kind and over all of them (context_tokens
 * is the context budget); each with its cases' median KV bytes and time to first token.
 */
export function scoreRecords(done: ScoredCase[], contextTokens: number): object[] {
  const groups = new Map<string, { scenario: string; contextTokens: number; cases: ScoredCase[] }>();
  const add = (key: string, scenario: string, context: number, c: ScoredCase) => {
    if (!groups.has(key)) groups.set(key, { scenario, contextTokens: context, cases: [] });
    groups.get(key)!.cases.push(c);
  };
  for (const c of done) {
    if (c.distance !== undefined) add(`needle ${c.distance}`, 'needle', c.distance, c);
    else {
      add(c.kind, c.kind, contextTokens, c);
      add('all', 'all', contextTokens, c);
    }
  }
  const records: object[] = [];
  for (const { scenario, contextTokens: context, cases } of groups.values()) {
    const costs = { cases: cases.length, kv_bytes_median: median(cases.map((c) => c.kvBytes)), ttft_ms_median: Number(median(cases.map((c) => c.ttftMs)).toFixed(1)) };
    const share = (f: (c: ScoredCase) => number) => cases.reduce((sum, c) => sum + f(c), 0) / cases.length;
    if (scenario === 'needle') {
      records.push({ metric: 'needle_accuracy', scenario, context_tokens: context, median: share((c) => Number(c.score.exactMatch)), ...costs });
    } else {
      records.push({ metric: 'exact_match', scenario, context_tokens: context, median: share((c) => Number(c.score.exactMatch)), ...costs });
      records.push({ metric: 'edit_similarity', scenario, context_tokens: context, median: share((c) => c.score.editSimilarity), ...costs });
    }
  }
  return records;
}

function formatSummary(summary: ReturnType<typeof summarize>): string {
  const lines = ['kind            cases  exact match  edit similarity  identifier match'];
  for (const [kind, s] of Object.entries(summary).sort(([a], [b]) => (a === 'all' ? 1 : b === 'all' ? -1 : a.localeCompare(b, 'en', { numeric: true })))) {
    const percent = (x: number) => `${(x * 100).toFixed(1)} %`;
    lines.push(`${kind.padEnd(16)}${String(s.cases).padStart(5)}  ${percent(s.exact_match).padStart(11)}  ${s.edit_similarity.toFixed(1).padStart(15)}  ${percent(s.identifier_match).padStart(16)}`);
  }
  return lines.join('\n');
}

/** The options of a run over cases (heed eval, heed eval-evidence) that say how the model loads; loadCasesModel reads them. */
export const casesModelOptions = {
  threads: { type: 'string', default: '2' },
  weights: { type: 'string', default: 'fp32' },
  'graph-cache': { type: 'string', default: defaultGraphCacheDir() },
  'no-graph-cache': { type: 'boolean', default: false },
} as const;

/** Loads the model for a run over cases (heed eval, heed eval-evidence) as the common options say, its load log on stderr. */
export async function loadCasesModel(
  host: ModelHost,
  modelPath: string,
  values: { threads?: string; weights?: string; 'graph-cache'?: string; 'no-graph-cache'?: boolean },
  kv: KvRequest | undefined,
): Promise<ModelSummary> {
  const model = await host.load({
    modelPath,
    threads: parseNumber('threads', values.threads!, true),
    weightFormat: parseWeightFormat(values.weights!),
    graphCacheDir: values['no-graph-cache'] ? undefined : values['graph-cache'],
    kv,
  });
  for (const line of model.log) process.stderr.write(`${line}\n`);
  return model;
}

/** A progress bar on a terminal, a line every tenth of the cases otherwise (heed eval-evidence shows the same). */
export class Progress {
  private readonly tty = process.stderr.isTTY === true;
  private lastTenth = -1;
  private readonly started = Date.now();
  private done = 0;
  private exact = 0;

  constructor(private readonly total: number) {}

  /** One more case finished (scored or failed). */
  step(exactMatch: boolean): void {
    const done = ++this.done;
    const exact = (this.exact += Number(exactMatch));
    const line = `${done}/${this.total} cases, ${exact} exact, ${((Date.now() - this.started) / 1000).toFixed(0)} s`;
    if (this.tty) {
      const width = 30;
      const filled = Math.round((done / this.total) * width);
      process.stderr.write(`\r[${'='.repeat(filled)}${' '.repeat(width - filled)}] ${line}`);
    } else if (Math.floor((done * 10) / this.total) > this.lastTenth) {
      this.lastTenth = Math.floor((done * 10) / this.total);
      process.stderr.write(`${line}\n`);
    }
  }

  finish(): void {
    if (this.tty) process.stderr.write('\n');
  }
}
