// heed eval-where: "where is …" questions over a workspace folder (server/eval/whereEval.ts),
// each asked as the ask feature asks it, with evidence from the retrieval heads; where the
// line that answers it ranks among the spans of the question's own tokens (less a neutral
// question's, as the ask panel shows them; and as they are, `_plain`) and among those of the
// question and answer together. The workspace is the folder's source files in path
// order (the server chooses and orders its files by the editor's state). One JSON line per
// case to --out, the summary on stdout and to --summary-out.

import { closeSync, openSync, writeSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import { basename, join, resolve } from 'node:path';
import { JobFailedError, ModelHost, Priority } from '../worker/modelHost';
import { loadTokenizer } from '../engine/tokenizer';
import { kvLabel } from '../engine/kvPolicy';
import { readSourceFiles } from '../eval/caseGen';
import { questionPrompt, readWhereCases, spanRank, summarizeRanks, workspacePrompt } from '../eval/whereEval';
import { buildReport, partSources } from '../features/evidence/evidenceReport';
import { contrastLines, neutralQuestion, neutralQuestionJob } from '../features/ask/neutralQuestion';
import { cancelOnInterrupt, parseNumber, kvOptions, kvUsage, parseKvRequest } from './cliArgs';
import { casesModelOptions, loadCasesModel } from './evalCommand';

export const evalWhereUsage = `heed eval-where --cases FILE.jsonl --workspace DIR --model DIR ${kvUsage} [--context-tokens 8192] [--max-tokens 48] [--out RESULTS.jsonl] [--summary-out FILE.json] [--threads N] [--weights fp32|int8|int4] [--graph-cache DIR | --no-graph-cache]`;

export async function evalWhereCommand(args: string[]): Promise<number> {
  const { values } = parseArgs({
    args,
    options: {
      cases: { type: 'string' },
      workspace: { type: 'string' },
      model: { type: 'string' },
      out: { type: 'string' },
      'summary-out': { type: 'string' },
      ...kvOptions,
      'context-tokens': { type: 'string', default: '8192' },
      'max-tokens': { type: 'string', default: '48' },
      ...casesModelOptions,
    },
  });
  if (!values.cases || !values.workspace || !values.model) throw new Error('--cases FILE, --workspace DIR and --model DIR are required');
  const cases = readWhereCases(values.cases);
  if (cases.length === 0) throw new Error(`${values.cases} holds no cases`);
  const workspace = resolve(values.workspace);
  const files = readSourceFiles(workspace);
  const paths = new Set(files.map((file) => file.path));
  const missing = cases.filter((c) => !paths.has(c.path));
  if (missing.length > 0) throw new Error(`${missing[0].id}: ${missing[0].path} is not a source file of ${workspace}`);
  const contextTokens = parseNumber('context-tokens', values['context-tokens']!, true);
  const maxTokens = parseNumber('max-tokens', values['max-tokens']!, true);

  const modelPath = resolve(values.model);
  const special = loadTokenizer(modelPath).special;
  const host = new ModelHost(join(__dirname, 'modelWorker.js'));
  const cancel = cancelOnInterrupt();
  const out = values.out ? openSync(values.out, 'w') : undefined;
  const started = { ms: Date.now(), load1: loadavg()[0] };
  const questionRanks: Array<number | null> = [];
  const plainRanks: Array<number | null> = [];
  const answerRanks: Array<number | null> = [];
  let kv = '';
  let heads = '';
  let interrupted = false;
  try {
    const model = await loadCasesModel(host, modelPath, values, parseKvRequest(values));
    kv = kvLabel(model.kv);
    const workspaceParts = workspacePrompt(files, basename(workspace), special);
    // Only the workspace's files are places (as in the ask feature).
    const sources = partSources(workspaceParts, (path) => (paths.has(path) ? `file:///${path}` : undefined));
    // The neutral question's lines, as the ask feature subtracts them: they depend on the workspace only, so once.
    const job = neutralQuestionJob(workspaceParts, {}, special);
    const neutral = await host.generate(job.parts, contextTokens, job.options, cancel.signal, Priority.Background, undefined, job.evidence);
    if (!neutral.evidence?.promptLines) throw new Error(`the neutral question gave no evidence${neutral.evidenceProblem ? `: ${neutral.evidenceProblem}` : ''}`);
    for (const c of cases) {
      const prompt = questionPrompt(workspaceParts, c.question, special);
      const options = { maxTokens, temperature: 0, topP: 1, seed: 0, stop: prompt.stop };
      const result = await host.generate(prompt.parts, contextTokens, options, cancel.signal, Priority.Background, undefined, { heads: 'retrieval', fromPart: prompt.fromPart });
      if (!result.evidence) throw new Error(`${c.id}: no evidence${result.evidenceProblem ? `: ${result.evidenceProblem}` : ''}`);
      if ((result.droppedPromptUnits ?? 0) > 0) throw new Error(`${c.id}: the workspace does not fit --context-tokens ${contextTokens} (${result.droppedPromptUnits} files dropped)`);
      heads = result.evidence.headSource;
      const meta = { id: c.id, kind: 'answer' as const, text: result.text, promptTokens: result.promptTokens, generatedTokens: result.tokens.length, totalMs: result.totalMs };
      const plain = buildReport(result.evidence, sources, undefined, meta);
      const promptLines = contrastLines(result.evidence.promptLines ?? [], neutral.evidence.promptLines, prompt.questionStart);
      const report = buildReport({ ...result.evidence, promptLines }, sources, undefined, { ...meta, questionBaseline: neutralQuestion });
      const questionRank = spanRank(report.questionSpans, c.path, c.line);
      const plainRank = spanRank(plain.questionSpans, c.path, c.line);
      const answerRank = spanRank(report.spans, c.path, c.line);
      questionRanks.push(questionRank);
      plainRanks.push(plainRank);
      answerRanks.push(answerRank);
      const top = (spans: typeof report.spans | undefined) => (spans ?? []).slice(0, 3).map((span) => `${span.path}:${span.startLine + 1}${span.endLine > span.startLine ? `-${span.endLine + 1}` : ''}`);
      if (out !== undefined) {
        writeSync(out, JSON.stringify({ id: c.id, question: c.question, answer_line: `${c.path}:${c.line}`, question_rank: questionRank, question_rank_plain: plainRank, answer_rank: answerRank, question_top3: top(report.questionSpans), question_top3_plain: top(plain.questionSpans), answer_top3: top(report.spans), answer: result.text, prompt_tokens: result.promptTokens }) + '\n');
      }
      process.stderr.write(`${questionRanks.length}/${cases.length} ${c.id}: question rank ${questionRank ?? '-'} (plain ${plainRank ?? '-'}), answer rank ${answerRank ?? '-'}\n`);
    }
  } catch (error) {
    if (!(error instanceof JobFailedError && error.cancelled)) throw error;
    interrupted = true;
  } finally {
    if (out !== undefined) closeSync(out);
    cancel.dispose();
    await host.dispose();
  }
  const summary = {
    metric: 'where_question_rank',
    model: modelPath,
    cases_file: resolve(values.cases),
    workspace,
    workspace_files: files.length,
    kv,
    heads,
    context_tokens: contextTokens,
    max_tokens: maxTokens,
    neutral_question: neutralQuestion,
    question_spans: summarizeRanks(questionRanks),
    question_spans_plain: summarizeRanks(plainRanks),
    question_and_answer_spans: summarizeRanks(answerRanks),
    wall_s: Math.round((Date.now() - started.ms) / 1000),
    load1_start: started.load1,
    interrupted,
  };
  if (values['summary-out']) writeFileSync(values['summary-out'], JSON.stringify(summary, null, 1) + '\n');
  console.log(JSON.stringify(summary, null, 1));
  return interrupted ? 130 : 0;
}
