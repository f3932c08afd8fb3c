// heed eval-evidence: evidence faithfulness (EVAL.md) on completion cases. Each case's
// greedy line is generated twice with evidence (the head pattern's retrieval heads, then
// every head as the baseline; the second run finds the prompt cached), its log-probability
// is scored on the full prompt and with lines removed (server/eval/evidenceEval.ts), and
// cross-file cases the model gets right say whether the defining line is in the top k
// (hit@k). One JSON line per case to --out as it goes (Ctrl-C keeps them and prints the
// summary of the cases done), progress on stderr, the figures on stdout.

import { closeSync, openSync, writeSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import { join, resolve } from 'node:path';
import { JobFailedError, ModelHost, Priority } from '../worker/modelHost';
import { loadTokenizer } from '../engine/tokenizer';
import { kvLabel } from '../engine/kvPolicy';
import type { KvPolicy } from '../engine/types';
import type { GenerateResult } from '../engine/generate';
import { readCases, type CompletionCase } from '../eval/cases';
import { casePrompt, type CaseBudget } from '../eval/casePrompt';
import { scoreLine } from '../eval/metrics';
import { lineKey } from '../eval/removeLines';
import { crossFileHit, needleHit, otherFileLine, workspaceParts, type CrossFileHit, type HitExclusion as DefinitionExclusion, type NeedleHitExclusion } from '../eval/definingLine';
import { defaultFaithfulnessOptions, measureFaithfulness, seedOf, type Faithfulness } from '../eval/evidenceEval';
import { measureLineDrops, summarizeLineDrops, type LineDrops, type LineDropSummary } from '../eval/lineDrops';
import { summarizeDrops, summarizeHits, type CaseFigures, type KSummary } from '../eval/evidenceSummary';
import { cancelOnInterrupt, parseNumber, kvOptions, kvUsage, parseKvRequest } from './cliArgs';
import { casesModelOptions, loadCasesModel, Progress } from './evalCommand';

export const evalEvidenceUsage =
  `heed eval-evidence --cases FILE.jsonl --model DIR ${kvUsage} [--context-tokens 2048] [--limit N] [--prefix-tokens 768] [--suffix-tokens 256] [--max-tokens 24] [--seed 1] [--hits-only | --other-files] [--line-drops] [--out RESULTS.jsonl] [--summary-out FILE.json] [--threads N] [--weights fp32|int8|int4] [--graph-cache DIR | --no-graph-cache]`;

/** Why a case is not in the drops, or not in hit@k. */
type Skip = 'empty_completion' | 'error';
type HitExclusion = 'not_exact' | DefinitionExclusion;

export async function evalEvidenceCommand(args: string[]): Promise<number> {
  const { values } = parseArgs({
    args,
    options: {
      cases: { type: 'string' },
      out: { type: 'string' },
      model: { type: 'string' },
      ...kvOptions,
      // 2048 by default: each case rescores its prompt some 40 times on a 2-core machine.
      'context-tokens': { type: 'string', default: '2048' },
      limit: { type: 'string' },
      // Less of the current file than heed eval's, so that workspace files fit the 2k budget.
      'prefix-tokens': { type: 'string', default: '768' },
      'suffix-tokens': { type: 'string', default: '256' },
      'max-tokens': { type: 'string', default: '24' },
      seed: { type: 'string', default: '1' },
      'summary-out': { type: 'string' },
      // hit@k only: the two generations of each case, no rescoring (a few seconds a case, not a minute).
      'hits-only': { type: 'boolean', default: false },
      // Cross-file cases also measured among the other files' lines alone (removals, random
      // lines and the oracle from the prompt's workspace files): the editor's "From other
      // files". About doubles each such case's rescoring.
      'other-files': { type: 'boolean', default: false },
      // Cross-file cases also score the prompt without the defining line alone, the source
      // line alone and each of the retrieval heads' top 3 lines alone (up to 6 scorings a
      // case, with --hits-only too): whether a missed defining line is one the model used.
      // The summary's line_drops are the right cases', as hit@k's are.
      'line-drops': { type: 'boolean', default: false },
      ...casesModelOptions,
    },
  });
  if (!values.cases || !values.model) throw new Error('--cases FILE and --model DIR are required');
  const kvRequest = parseKvRequest(values);
  // Every case compares the retrieval heads with every head, whose evidence reads every head's whole past.
  if (kvRequest.policy === 'head-aware') throw new Error("eval-evidence compares the retrieval heads' evidence with every head's, which needs every head's whole past: run it with --kv dense or dense+int8");
  const budget: CaseBudget = {
    contextTokens: parseNumber('context-tokens', values['context-tokens']!, true),
    prefixTokens: parseNumber('prefix-tokens', values['prefix-tokens']!, true),
    suffixTokens: parseNumber('suffix-tokens', values['suffix-tokens']!, true),
    withContext: true,
  };
  const maxTokens = parseNumber('max-tokens', values['max-tokens']!, true);
  const seed = parseNumber('seed', values.seed!, true);
  const hitsOnly = values['hits-only'] === true;
  const otherFiles = values['other-files'] === true;
  const lineDrops = values['line-drops'] === true;
  if (hitsOnly && otherFiles) throw new Error('--other-files measures removals, which --hits-only skips: choose one');
  const ks = defaultFaithfulnessOptions.ks;
  const read = readCases(values.cases);
  let cases = read.cases;
  if (values.limit !== undefined) cases = cases.slice(0, parseNumber('limit', values.limit, true));
  if (cases.length === 0) throw new Error(`${values.cases} holds no cases${read.problems.length > 0 ? ` that can be read (${read.problems[0].message})` : ''}`);

  const modelPath = resolve(values.model);
  const tokenizer = loadTokenizer(modelPath); // on this thread, to plan each prompt's budget
  const host = new ModelHost(join(__dirname, 'modelWorker.js'));
  const cancel = cancelOnInterrupt();
  const out = values.out ? openSync(values.out, 'w') : undefined;
  const write = (record: object) => out !== undefined && writeSync(out, JSON.stringify(record) + '\n');
  const progress = new Progress(cases.length);
  const started = { ms: Date.now(), load1: loadavg()[0] };
  const figures: CaseFigures[] = [];
  const otherFileFigures: CaseFigures[] = [];
  // Right cross-file cases', and every cross-file case's whose defining line is in the prompt.
  const lineDropCases: LineDrops[] = [];
  const lineDropAny: LineDrops[] = [];
  const skipped: Record<Skip, string[]> = { empty_completion: [], error: [] };
  const hitExcluded: Record<HitExclusion, number> = { not_exact: 0, no_foreign_identifier: 0, defined_outside_prompt: 0 };
  let exact = 0;
  let completionsDiffer = 0;
  let scoreCalls = 0;
  let notAsGenerated = 0;
  const anyCrossFile: CaseFigures[] = [];
  const anyDeclaration: CaseFigures[] = [];
  const sourceLines: CaseFigures[] = [];
  const otherFileLines: CaseFigures[] = [];
  const otherFileSourceLines: CaseFigures[] = [];
  const needles: CaseFigures[] = [];
  const needleExcluded: Record<'not_exact' | NeedleHitExclusion, number> = { not_exact: 0, no_value_line: 0, defined_outside_prompt: 0 };
  const headSources = new Set<string>();
  let interrupted = false;
  let kvInUse: KvPolicy | undefined;
  try {
    const model = await loadCasesModel(host, modelPath, values, kvRequest);
    kvInUse = model.kv;
    if (budget.contextTokens + maxTokens > model.config.maxPositions) {
      throw new Error(`--context-tokens ${budget.contextTokens} plus --max-tokens ${maxTokens} exceed the model's ${model.config.maxPositions} positions`);
    }
    const options = { maxTokens, temperature: 0, topP: 1, seed: 0, stop: ['\n'] };
    for (const c of cases) {
      try {
        const prompt = casePrompt(c, tokenizer, model.fimOrder, budget);
        const generateWith = (heads: 'retrieval' | 'all') =>
          host.generate(prompt.parts, budget.contextTokens, options, cancel.signal, Priority.Background, undefined, { heads });
        const retrieval = await generateWith('retrieval');
        const all = await generateWith('all');
        // The completion scored is the retrieval run's; greedy decoding makes the two equal.
        const completion = retrieval.text.split('\n')[0];
        if (all.text.split('\n')[0] !== completion) completionsDiffer++;
        const score = scoreLine(completion, c.target);
        exact += Number(score.exactMatch);
        if (completion.trim() === '') {
          skipped.empty_completion.push(c.id);
          write({ id: c.id, kind: c.kind, skipped: 'empty completion' });
          progress.step(false);
          continue;
        }
        for (const r of [retrieval, all]) if (r.evidence) headSources.add(`${r.evidence.heads}: ${r.evidence.headSource}`);
        const evidence = { retrieval: evidenceLines(retrieval), all: evidenceLines(all) };
        // hit@k on every cross-file case, right or not: more cases, a weaker question.
        const anyHit = c.kind === 'cross_file' ? crossFileHit(c, prompt.parts, evidence, ks) : undefined;
        // The same, counted: cross-file cases the model gets right (the defining line was what it needed).
        const hit: CrossFileHit | { excluded: HitExclusion } | undefined = anyHit && !score.exactMatch ? { excluded: 'not_exact' } : anyHit;
        if (hit && 'excluded' in hit) hitExcluded[hit.excluded]++;
        if (anyHit && 'hits' in anyHit) anyCrossFile.push({ drops: [], hits: anyHit.hits });
        if (hit && 'hits' in hit) {
          anyDeclaration.push({ drops: [], hits: hit.anyDeclarationHits });
          sourceLines.push({ drops: [], hits: hit.sourceHits });
          otherFileLines.push({ drops: [], hits: hit.otherFileHits });
          otherFileSourceLines.push({ drops: [], hits: hit.otherFileSourceHits });
        }
        // Needles the model gets right: it can only have copied the value from one line.
        const needle = c.kind === 'needle' ? (score.exactMatch ? needleHit(c, prompt.parts, evidence, ks) : { excluded: 'not_exact' as const }) : undefined;
        if (needle && 'hits' in needle) needles.push({ drops: [], hits: needle.hits });
        if (needle && 'excluded' in needle) needleExcluded[needle.excluded]++;
        // What is scored is the text of every generated token, the one that holds the line
        // break included: the line cut before its break ends in a token the model did not
        // pick (";" where it wrote ";\n"), which alone costs several nats. The score job takes
        // text, so a continuation that encodes to other tokens is counted.
        const generatedText = tokenizer.decode(retrieval.tokens);
        const continuation = generatedText.startsWith(completion) ? generatedText : completion;
        const asGenerated = sameTokens(tokenizer.encode(continuation), retrieval.tokens);
        notAsGenerated += Number(!asGenerated);
        let faith: Faithfulness | undefined;
        let faithOther: Faithfulness | undefined;
        const logprobOf = async (parts: typeof prompt.parts) => (await host.score(parts, budget.contextTokens, continuation, cancel.signal)).total;
        let drops: LineDrops | undefined;
        if (lineDrops && anyHit && 'hits' in anyHit) {
          drops = await measureLineDrops(prompt.parts, anyHit.definingAt, anyHit.sourceAt, anyHit.ranked.retrieval, logprobOf);
          scoreCalls += drops.scoreCalls;
          lineDropAny.push(drops);
          if (hit && 'hits' in hit) lineDropCases.push(drops);
        }
        if (!hitsOnly) {
          const options = { ...defaultFaithfulnessOptions, seed: seedOf(c.id, seed) };
          faith = await measureFaithfulness(prompt.parts, evidence, logprobOf, options);
          scoreCalls += faith.scoreCalls;
          if (otherFiles && c.kind === 'cross_file') {
            const within = otherFileLine(workspaceParts(c, prompt.parts));
            faithOther = await measureFaithfulness(prompt.parts, evidence, logprobOf, { ...options, within });
            scoreCalls += faithOther.scoreCalls;
            otherFileFigures.push({ drops: faithOther.drops });
          }
        }
        figures.push({ drops: faith?.drops ?? [], ...(hit && 'hits' in hit ? { hits: hit.hits } : {}) });
        const uncounted = anyHit && 'hits' in anyHit && !(hit && 'hits' in hit) ? { any_hit_at_k: anyHit.hits, defining_line: anyHit.defining } : {};
        const needleFields = needle && 'hits' in needle ? { needle_hit_at_k: needle.hits, defining_line: needle.defining } : {};
        const otherFileFields = faithOther ? { other_files: faithRecord(faithOther) } : {};
        const lineDropFields = drops ? { line_drops: { defining: round4(drops.defining), source: round4(drops.source), top: drops.top.map(round4), defining_rank: drops.definingRank } } : {};
        write({ ...caseRecord(c, completion, score.exactMatch, retrieval, faith, hit), ...otherFileFields, ...lineDropFields, ...uncounted, ...needleFields, scored_as_generated: asGenerated });
        progress.step(score.exactMatch);
      } catch (error) {
        if (error instanceof JobFailedError && error.cancelled) throw error;
        skipped.error.push(c.id);
        write({ id: c.id, kind: c.kind, error: (error as Error).message });
        progress.step(false);
      }
    }
  } catch (error) {
    if (!(error instanceof JobFailedError && error.cancelled)) throw error;
    interrupted = true;
  } finally {
    progress.finish();
    if (out !== undefined) closeSync(out);
    cancel.dispose();
    await host.dispose();
  }

  const drops = summarizeDrops(figures);
  const hits = summarizeHits(figures);
  const summary = {
    metric: 'evidence_faithfulness',
    model: modelPath,
    cases_file: resolve(values.cases),
    cases: figures.length,
    of: cases.length,
    unreadable_lines: read.problems.length,
    skipped_empty_completion: skipped.empty_completion.length,
    errors: skipped.error.length,
    failed_ids: skipped.error,
    exact_match: exact,
    completions_differ: completionsDiffer,
    kv: kvInUse ? kvLabel(kvInUse) : kvRequest.policy,
    ...(kvInUse?.policy === 'head-aware' ? { kv_policy: kvInUse } : {}),
    head_sources: [...headSources],
    context_tokens: budget.contextTokens,
    prefix_tokens: budget.prefixTokens,
    suffix_tokens: budget.suffixTokens,
    max_tokens: maxTokens,
    seed,
    hits_only: hitsOnly,
    random_draws: defaultFaithfulnessOptions.randomDraws,
    oracle: `leave-one-out over a pool (the top ${defaultFaithfulnessOptions.poolTopN} candidate lines of each evidence method and ${defaultFaithfulnessOptions.poolTopN} random candidate lines), not every line: a lower bound of the true oracle`,
    drop_unit: 'nats of the completion log-probability, base minus with the lines removed',
    score_calls: scoreCalls,
    drops,
    ...(otherFiles ? { drops_other_files: summarizeDrops(otherFileFigures) } : {}),
    hit_at_k: { ...hits, excluded: hitExcluded },
    hit_at_k_any_declaration: summarizeHits(anyDeclaration),
    hit_at_k_source_line: summarizeHits(sourceLines),
    hit_at_k_other_files: summarizeHits(otherFileLines),
    hit_at_k_other_files_source_line: summarizeHits(otherFileSourceLines),
    hit_at_k_any_cross_file: summarizeHits(anyCrossFile),
    hit_at_k_needle: { ...summarizeHits(needles), excluded: needleExcluded },
    ...(lineDrops ? { line_drops: summarizeLineDrops(lineDropCases), line_drops_any_cross_file: summarizeLineDrops(lineDropAny) } : {}),
    scored_not_as_generated: notAsGenerated,
    wall_s: Math.round((Date.now() - started.ms) / 1000),
    load1_start: started.load1,
    load1_end: loadavg()[0],
    interrupted,
  };
  if (values['summary-out']) writeFileSync(values['summary-out'], JSON.stringify(summary, null, 1) + '\n');
  console.log(formatSummary(drops, summary));
  if (interrupted) {
    process.stderr.write(`heed: cancelled after ${figures.length} of ${cases.length} cases${values.out ? `; ${values.out} holds them` : ''}\n`);
    return 130;
  }
  return figures.length === 0 ? 1 : 0;
}

function sameTokens(encoded: number[], generated: number[]): boolean {
  return encoded.length === generated.length && encoded.every((id, i) => id === generated[i]);
}

function evidenceLines(result: GenerateResult): Array<{ part: number; line: number }> {
  if (!result.evidence) throw new Error('the worker returned no evidence for a generation that asked for it');
  return result.evidence.lines;
}

const round4 = (x: number) => Math.round(x * 1e4) / 1e4;

/** One measurement's fields of a case's record. */
function faithRecord(faith: Faithfulness): object {
  return {
    base_logprob: round4(faith.baseLogprob),
    candidates: faith.candidates,
    evidence_lines: faith.evidenceLines,
    pool_lines: faith.poolLines,
    score_calls: faith.scoreCalls,
    drops: faith.drops.map((d) => ({ k: d.k, retrieval: round4(d.retrieval), all: round4(d.all), random: round4(d.random), oracle: round4(d.oracle) })),
    // Lines as "part:line" of the prompt parts, best first, at the largest k.
    top: { retrieval: faith.top.retrieval.map(lineKey), all: faith.top.all.map(lineKey), oracle: faith.top.oracle.map(lineKey) },
  };
}

function caseRecord(c: CompletionCase, completion: string, exactMatch: boolean, generated: GenerateResult, faith: Faithfulness | undefined, hit: CrossFileHit | { excluded: HitExclusion } | undefined): object {
  return {
    id: c.id,
    kind: c.kind,
    prediction: completion,
    exact_match: exactMatch,
    prompt_tokens: generated.promptTokens,
    generated_logprob: round4(generated.logprobs.reduce((a, b) => a + b, 0)),
    ...(faith ? faithRecord(faith) : {}),
    ...(hit && 'hits' in hit ? { hit_at_k: hit.hits, hit_at_k_any_declaration: hit.anyDeclarationHits, defining_line: hit.defining, hit_at_k_source_line: hit.sourceHits, source_line: hit.source, hit_at_k_other_files: hit.otherFileHits, hit_at_k_other_files_source_line: hit.otherFileSourceHits, top_other_files: hit.otherFileTop } : {}),
    ...(hit && 'excluded' in hit ? { hit_excluded: hit.excluded } : {}),
  };
}

interface PrintedSummary {
  cases: number;
  of: number;
  skipped_empty_completion: number;
  errors: number;
  scored_not_as_generated: number;
  hit_at_k: ReturnType<typeof summarizeHits> & { excluded: Record<HitExclusion, number> };
  hit_at_k_any_declaration: ReturnType<typeof summarizeHits>;
  hit_at_k_source_line: ReturnType<typeof summarizeHits>;
  hit_at_k_other_files: ReturnType<typeof summarizeHits>;
  hit_at_k_other_files_source_line: ReturnType<typeof summarizeHits>;
  hit_at_k_any_cross_file: ReturnType<typeof summarizeHits>;
  hit_at_k_needle: ReturnType<typeof summarizeHits> & { excluded: Record<string, number> };
  drops_other_files?: KSummary[];
  line_drops?: LineDropSummary;
}

function formatSummary(drops: KSummary[], s: PrintedSummary): string {
  const f = (x: number | null) => (x === null || Number.isNaN(x) ? '—' : x.toFixed(3));
  const lines = [
    `${s.cases} of ${s.of} cases measured (${s.skipped_empty_completion} empty completions, ${s.errors} errors; ${s.scored_not_as_generated} scored as other tokens than generated)${drops.length > 0 ? '; drops in nats (mean over cases)' : ''}`,
  ];
  const dropTable = (table: KSummary[]) => {
    if (table.length > 0) lines.push('k  retrieval      all   random   oracle   retr/random  retr/oracle  all/random  all/oracle  (ratio of means; per-case medians in the summary)');
    for (const d of table) {
      lines.push(
        `${String(d.k).padEnd(3)}${f(d.mean_drop.retrieval).padStart(9)}${f(d.mean_drop.all).padStart(9)}${f(d.mean_drop.random).padStart(9)}${f(d.mean_drop.oracle).padStart(9)}` +
          `${f(d.vs_random.retrieval.ratio_of_means).padStart(14)}${f(d.vs_oracle.retrieval.ratio_of_means).padStart(13)}${f(d.vs_random.all.ratio_of_means).padStart(12)}${f(d.vs_oracle.all.ratio_of_means).padStart(12)}`,
      );
    }
  };
  dropTable(drops);
  const other = s.drops_other_files;
  if (other && other.length > 0) {
    lines.push(`the same among the other files' lines alone (removals, random lines and the oracle from the prompt's workspace files), ${other[0].cases} cross-file cases`);
    dropTable(other);
  }
  const hitLine = (m: 'retrieval' | 'all', x: ReturnType<typeof summarizeHits>) =>
    `  ${m.padEnd(10)}${x.cases === 0 ? 'no cases' : Object.entries(x.hit_at_k[m]).map(([k, v]) => `@${k} ${(v * 100).toFixed(0)} %`).join('   ')}`;
  const leftOut = (excluded: Record<string, number>) => Object.entries(excluded).map(([why, n]) => `${n} ${why.replace(/_/g, ' ')}`).join(', ');
  // Each hit@k block only where the run had cases of its kind.
  const h = s.hit_at_k;
  if (h.cases > 0 || s.hit_at_k_any_cross_file.cases > 0 || Object.values(h.excluded).some((n) => n > 0)) {
    lines.push(`hit@k on ${h.cases} right cross-file cases (left out: ${leftOut(h.excluded)})`);
    for (const m of ['retrieval', 'all'] as const) lines.push(hitLine(m, h));
    lines.push('the same, any line of the prompt that declares a needed identifier counting');
    for (const m of ['retrieval', 'all'] as const) lines.push(hitLine(m, s.hit_at_k_any_declaration));
    lines.push('the same, the source line: of the lines holding a needed identifier, the one most like the target');
    for (const m of ['retrieval', 'all'] as const) lines.push(hitLine(m, s.hit_at_k_source_line));
    lines.push("the defining line among the other files' lines alone (the editor's \"From other files\")");
    for (const m of ['retrieval', 'all'] as const) lines.push(hitLine(m, s.hit_at_k_other_files));
    lines.push("the same, the source line among the other files' lines alone");
    for (const m of ['retrieval', 'all'] as const) lines.push(hitLine(m, s.hit_at_k_other_files_source_line));
    lines.push(`hit@k on all ${s.hit_at_k_any_cross_file.cases} cross-file cases whose defining line is in the prompt, right or not`);
    for (const m of ['retrieval', 'all'] as const) lines.push(hitLine(m, s.hit_at_k_any_cross_file));
  }
  const d = s.line_drops;
  if (d && d.in_top.cases + d.missed.cases === 0) lines.push('single-line removals: no right cross-file case whose defining line is in the prompt');
  else if (d) {
    const g = (x: LineDropSummary['in_top']) => `${x.cases} cases; median drop without the defining line ${f(x.median_defining_drop)}, the source line ${f(x.median_source_drop)}, the least of the top ${d.k} ${f(x.median_least_top_drop)} nats`;
    lines.push(`single-line removals, the retrieval heads' ranking: defining line in the top ${d.k}: ${g(d.in_top)}`);
    lines.push(`  not in the top ${d.k}: ${g(d.missed)}; it hurt less than each of the top ${d.k} in ${d.missed.below_every_top_line}, more than one of them in ${d.missed.above_a_top_line}`);
    lines.push(`  the defining line in the top ${d.k} where it alone costs at least ${d.by_defining_drop.map((b) => `${b.min_drop_nats} nats: ${b.in_top} of ${b.cases}`).join(', ')}`);
  }
  const n = s.hit_at_k_needle;
  if (n.cases > 0 || Object.values(n.excluded).some((k) => k > 0)) {
    lines.push(`hit@k of the value's line on ${n.cases} right needle cases (left out: ${leftOut(n.excluded)})`);
    for (const m of ['retrieval', 'all'] as const) lines.push(hitLine(m, n));
  }
  return lines.join('\n');
}
