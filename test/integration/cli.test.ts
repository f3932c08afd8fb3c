// The heed command line, run as a user runs it.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const root = join(__dirname, '..', '..', '..');
const heed = join(root, 'bin', 'heed.js');
const work = mkdtempSync(join(tmpdir(), 'heed-cli-'));
const model = join(work, 'tiny');
const env = { ...process.env, XDG_CACHE_HOME: join(work, 'cache') };

before(() => {
  execFileSync(process.execPath, [heed, 'make-tiny-model', '--out', model], { env });
});
after(() => rmSync(work, { recursive: true, force: true }));

test('--help lists the commands; an unknown command fails with the list', () => {
  const help = execFileSync(process.execPath, [heed, '--help'], { encoding: 'utf8' });
  for (const command of ['generate', 'eval', 'eval-evidence', 'eval-where', 'cases', 'convert', 'bench', 'make-tiny-model', 'make-random-model']) assert.match(help, new RegExp(`^  ${command} `, 'm'));
  const unknown = spawnSync(process.execPath, [heed, 'frobnicate'], { encoding: 'utf8' });
  assert.equal(unknown.status, 2);
  assert.match(unknown.stderr, /unknown command "frobnicate"/);
});

test('generate --json reports the completion with its log-probabilities, the same on every run', () => {
  const run = () =>
    JSON.parse(
      execFileSync(process.execPath, [heed, 'generate', '--model', model, '--prompt', 'const total = items.', '--max-tokens', '6', '--json'], { encoding: 'utf8', env }),
    );
  const first = run();
  assert.equal(first.tokens.length, 6);
  assert.equal(first.logprobs.length, 6);
  assert.ok(first.logprobs.every((p: number) => p <= 0));
  assert.deepEqual(run().tokens, first.tokens);
});

test('a missing model folder is a clear error', () => {
  const missing = spawnSync(process.execPath, [heed, 'generate', '--model', join(work, 'nope'), '--prompt', 'x'], { encoding: 'utf8', env });
  assert.equal(missing.status, 1);
  assert.match(missing.stderr, /nope: model folder does not exist/);
});

test('Ctrl-C cancels a generation between forward passes', async () => {
  const child = spawn(process.execPath, [heed, 'generate', '--model', model, '--prompt', 'x', '--max-tokens', '8000', '--no-graph-cache'], { env });
  let stderr = '';
  child.stderr.on('data', (chunk) => (stderr += chunk));
  // The worker has started generating once the model is loaded; give it a moment.
  await new Promise((resolve) => setTimeout(resolve, 1000));
  const started = Date.now();
  child.kill('SIGINT');
  const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
  assert.equal(code, 130, stderr);
  assert.match(stderr, /cancelled/);
  assert.ok(Date.now() - started < 2000, 'cancellation should take effect within a forward pass or two');
});

test('eval completes each case, writes a line per case, and prints the metrics per kind', () => {
  const cases = join(work, 'cases.jsonl');
  const workspace = { 'src/util.ts': 'export const LIMIT = 10;\n' };
  const lines = [
    { id: 'a', kind: 'in_file', workspace, path: 'src/a.ts', prefix: 'const total = ', suffix: '\n', target: 'items.length;' },
    { id: 'b', kind: 'cross_file', workspace, path: 'src/b.ts', prefix: 'import { LIMIT } from "./util";\n', suffix: '', target: 'const max = LIMIT;' },
    { id: 'c', kind: 'cross_file', workspace, path: 'src/c.ts', prefix: 'let x = ', suffix: '', target: '1;', note: 'unknown fields are ignored' },
  ];
  writeFileSync(cases, lines.map((l) => JSON.stringify(l)).join('\n') + '\n');
  const out = join(work, 'pred.jsonl');
  const summaryFile = join(work, 'summary.json');
  const stdout = execFileSync(process.execPath, [heed, 'eval', '--cases', cases, '--out', out, '--model', model, '--context-tokens', '1024', '--summary-out', summaryFile], { encoding: 'utf8', env });
  const predictions = readFileSync(out, 'utf8').trim().split('\n').map((l) => JSON.parse(l));
  assert.deepEqual(predictions.map((p) => p.id), ['a', 'b', 'c']);
  for (const p of predictions) {
    assert.equal(typeof p.prediction, 'string');
    assert.ok(!p.prediction.includes('\n'));
    assert.ok(p.prompt_tokens > 0 && p.prompt_tokens <= 1024);
    assert.ok(p.context_files === 1, 'the workspace file fits the budget');
  }
  assert.match(stdout, /^in_file\s+1\s/m);
  assert.match(stdout, /^cross_file\s+2\s/m);
  assert.match(stdout, /^all\s+3\s/m);
  const summary = JSON.parse(readFileSync(summaryFile, 'utf8'));
  assert.equal(summary.cases, 3);
  assert.equal(summary.kinds.all.cases, 3);

  const limited = spawnSync(process.execPath, [heed, 'eval', '--cases', cases, '--out', out, '--model', model, '--limit', '1', '--no-context'], { encoding: 'utf8', env });
  assert.equal(limited.status, 0, limited.stderr);
  const one = readFileSync(out, 'utf8').trim().split('\n').map((l) => JSON.parse(l));
  assert.equal(one.length, 1);
  assert.equal(one[0].context_files, 0);

  // No head pattern yet: the run goes on dense and says why; a policy that does not exist is refused.
  const summaryOut = join(work, 'summary-kv.json');
  const headAware = spawnSync(process.execPath, [heed, 'eval', '--cases', cases, '--out', out, '--model', model, '--kv', 'head-aware', '--summary-out', summaryOut], { encoding: 'utf8', env });
  assert.equal(headAware.status, 0, headAware.stderr);
  assert.match(headAware.stderr, /Warning: head-aware KV cache not used.*head-pattern\.json does not exist/);
  assert.equal(JSON.parse(readFileSync(summaryOut, 'utf8')).kv, 'dense');
  const bogus = spawnSync(process.execPath, [heed, 'eval', '--cases', cases, '--out', out, '--model', model, '--kv', 'sparse'], { encoding: 'utf8', env });
  assert.equal(bogus.status, 1);
  assert.match(bogus.stderr, /--kv takes dense, head-aware, dense\+int8 or head-aware\+int8, not "sparse"/);

  // Calibrated, the same run uses the pattern.
  const calibrated = spawnSync(process.execPath, [heed, 'calibrate', '--model', model, '--filler', join(root, 'sample-workspace'), '--context-tokens', '2048', '--samples', '1', '--window', '240'], { encoding: 'utf8', env });
  assert.equal(calibrated.status, 0, calibrated.stderr);
  assert.match(calibrated.stdout, /layer  1 .*\n.*wrote .*head-pattern\.json/s);
  assert.match(calibrated.stderr, /2\/2 samples/);
  const withPattern = spawnSync(process.execPath, [heed, 'eval', '--cases', cases, '--out', out, '--model', model, '--kv', 'head-aware', '--kv-ratio', '0.5', '--summary-out', summaryOut], { encoding: 'utf8', env });
  assert.equal(withPattern.status, 0, withPattern.stderr);
  assert.equal(JSON.parse(readFileSync(summaryOut, 'utf8')).kv, 'head-aware r0.5 s16 w240');
  const byScore = spawnSync(process.execPath, [heed, 'eval', '--cases', cases, '--out', out, '--model', model, '--kv', 'head-aware', '--kv-threshold', '0', '--summary-out', summaryOut], { encoding: 'utf8', env });
  assert.equal(byScore.status, 0, byScore.stderr);
  assert.equal(JSON.parse(readFileSync(summaryOut, 'utf8')).kv, 'head-aware r1 t0 s16 w240', 'every score is at least 0: every head full');
  const both = spawnSync(process.execPath, [heed, 'eval', '--cases', cases, '--out', out, '--model', model, '--kv', 'head-aware', '--kv-threshold', '0.5', '--kv-ratio', '0.5'], { encoding: 'utf8', env });
  assert.equal(both.status, 1);
  assert.match(both.stderr, /give one/);
  const recordsOut = join(work, 'records.jsonl');
  const int8 = spawnSync(process.execPath, [heed, 'eval', '--cases', cases, '--out', out, '--model', model, '--kv', 'head-aware+int8', '--kv-ratio', '0.5', '--kv-block', '64', '--summary-out', summaryOut, '--records-out', recordsOut], { encoding: 'utf8', env });
  assert.equal(int8.status, 0, int8.stderr);
  assert.equal(JSON.parse(readFileSync(summaryOut, 'utf8')).kv, 'head-aware+int8 r0.5 s16 w240 b64');
  // Records in EVAL.md's format: the scores per kind, with the policy and its KV bytes beside them.
  const records = readFileSync(recordsOut, 'utf8').trim().split('\n').map((l) => JSON.parse(l));
  const all = records.find((r) => r.metric === 'exact_match' && r.scenario === 'all');
  assert.ok(all, JSON.stringify(records));
  assert.equal(all.kv, 'head-aware+int8');
  assert.deepEqual(all.kv_params, { retrieval_ratio: 0.5, sinks: 16, window: 240, int8_block: 64 });
  assert.equal(all.cases, 3);
  assert.ok(all.kv_bytes_median > 0 && all.context_tokens > 0 && typeof all.median === 'number');
  assert.ok(records.some((r) => r.metric === 'edit_similarity' && r.scenario === 'cross_file'));
  // Two runs' predictions compared case by case.
  const reference = join(work, 'reference.jsonl');
  const other = join(work, 'other.jsonl');
  writeFileSync(reference, ['{"id":"a","prediction":"x = 1","exact_match":true}', '{"id":"b","prediction":"y","exact_match":false}', '{"id":"c","error":"over budget"}'].join('\n') + '\n');
  writeFileSync(other, ['{"id":"a","prediction":"x = 2","exact_match":false}', '{"id":"b","prediction":"y","exact_match":false}', '{"id":"c","prediction":"z","exact_match":true}'].join('\n') + '\n');
  const compared = spawnSync(process.execPath, [heed, 'eval-compare', reference, other], { encoding: 'utf8', env });
  assert.equal(compared.status, 0, compared.stderr);
  assert.match(compared.stdout, /other\.jsonl\s+2\s+1\s+0 \/ 1\s+1$/m);
  const badBlock = spawnSync(process.execPath, [heed, 'eval', '--cases', cases, '--out', out, '--model', model, '--kv', 'dense+int8', '--kv-block', '100'], { encoding: 'utf8', env });
  assert.equal(badBlock.status, 1);
  assert.match(badBlock.stderr, /int8 KV block of 100 positions: use 16, 32, 64, 128 or 256/);
  const noFiller = spawnSync(process.execPath, [heed, 'calibrate', '--model', model], { encoding: 'utf8', env });
  assert.equal(noFiller.status, 1);
  assert.match(noFiller.stderr, /--filler DIR/);
  // Bad input is reported per case and the run goes on: a malformed line, and a case whose
  // current file alone is over the context budget.
  const huge = { ...lines[0], id: 'huge', prefix: 'x = 1\n'.repeat(3000) };
  writeFileSync(cases, ['{"id": 1}', JSON.stringify(lines[0]), JSON.stringify(huge)].join('\n') + '\n');
  const mixed = spawnSync(process.execPath, [heed, 'eval', '--cases', cases, '--out', out, '--model', model, '--context-tokens', '512', '--prefix-tokens', '100000'], { encoding: 'utf8', env });
  assert.equal(mixed.status, 0, mixed.stderr);
  const rows = readFileSync(out, 'utf8').trim().split('\n').map((l) => JSON.parse(l));
  assert.deepEqual(rows.map((r) => r.id), ['line 1', 'a', 'huge']);
  assert.match(rows[0].error, /cases\.jsonl:1: "id" must be a string/);
  assert.equal(typeof rows[1].prediction, 'string');
  assert.match(rows[2].error, /over the context budget/);
  assert.match(mixed.stdout, /^errors\s+2\s/m);
  writeFileSync(cases, '{"id": 1}\n');
  const onlyBad = spawnSync(process.execPath, [heed, 'eval', '--cases', cases, '--out', out, '--model', model], { encoding: 'utf8', env });
  assert.equal(onlyBad.status, 1, 'nothing could run');
});

test('eval-evidence rescores each completion without its evidence lines and writes a line per case and a summary', () => {
  const cases = join(work, 'evidence-cases.jsonl');
  const workspace = { 'src/util.ts': 'export const LIMIT = 10;\nexport const FLOOR = 1;\n\nexport function clamp(x: number) {\n  return x;\n}\n' };
  const lines = [
    { id: 'a', kind: 'in_file', workspace, path: 'src/a.ts', prefix: 'const items = [1, 2];\nconst total = ', suffix: '\n', target: 'items.length;' },
    { id: 'b', kind: 'cross_file', workspace, path: 'src/b.ts', prefix: 'import { clamp } from "./util";\n', suffix: '', target: 'const max = LIMIT;' },
  ];
  writeFileSync(cases, lines.map((l) => JSON.stringify(l)).join('\n') + '\n');
  const out = join(work, 'evidence.jsonl');
  const summaryFile = join(work, 'evidence-summary.json');
  const run = spawnSync(process.execPath, [heed, 'eval-evidence', '--cases', cases, '--out', out, '--model', model, '--context-tokens', '512', '--max-tokens', '8', '--summary-out', summaryFile, '--other-files'], { encoding: 'utf8', env });
  assert.ok(run.status === 0 || run.status === 1, run.stderr); // 1: every completion was empty
  const rows = readFileSync(out, 'utf8').trim().split('\n').map((l) => JSON.parse(l));
  assert.deepEqual(rows.map((r) => r.id), ['a', 'b']);
  for (const r of rows) {
    assert.equal(r.error, undefined, r.error);
    if (r.skipped !== undefined) continue;
    assert.deepEqual(r.drops.map((d: { k: number }) => d.k), [1, 3, 5]);
    // The base is the generated tokens' own log-probability when the score job saw the same tokens.
    if (r.scored_as_generated) assert.ok(Math.abs(r.base_logprob - r.generated_logprob) < 1e-3, `${r.base_logprob} vs ${r.generated_logprob}`);
    assert.ok(r.candidates > 0 && r.pool_lines <= r.candidates);
    // --other-files: a cross-file case is measured again among src/util.ts's lines alone.
    if (r.kind === 'cross_file') {
      assert.deepEqual(r.other_files.drops.map((d: { k: number }) => d.k), [1, 3, 5]);
      assert.ok(r.other_files.candidates > 0 && r.other_files.candidates < r.candidates, `${r.other_files.candidates} of ${r.candidates}`);
      // util.ts's part is its path line, then its lines: none of them is the path line (part line 0).
      for (const key of [...r.other_files.top.retrieval, ...r.other_files.top.oracle]) assert.notEqual(key.split(':')[1], '0', key);
    } else assert.equal(r.other_files, undefined);
  }
  const summary = JSON.parse(readFileSync(summaryFile, 'utf8'));
  assert.equal(summary.cases + summary.skipped_empty_completion, 2);
  assert.equal(summary.errors, 0);
  assert.equal(summary.drops.length, summary.cases > 0 ? 3 : 0);
  // A hit@k block with no right cross-file case says so rather than printing an empty row.
  if (summary.hit_at_k.cases === 0) assert.match(run.stdout, /hit@k on 0 right cross-file cases[^]*\n {2}retrieval no cases\n/);
  const crossFileMeasured = rows.some((r) => r.kind === 'cross_file' && r.skipped === undefined);
  assert.equal(summary.drops_other_files.length, crossFileMeasured ? 3 : 0);
  // --line-drops: a cross-file case whose defining line (LIMIT's, util.ts line 0) is in the
  // prompt is scored without it, without its source line and without each top-3 line alone.
  const dropsOut = join(work, 'evidence-line-drops.jsonl');
  const dropsSummary = join(work, 'evidence-line-drops-summary.json');
  const dropsRun = spawnSync(process.execPath, [heed, 'eval-evidence', '--cases', cases, '--out', dropsOut, '--model', model, '--context-tokens', '512', '--max-tokens', '8', '--hits-only', '--line-drops', '--summary-out', dropsSummary], { encoding: 'utf8', env });
  assert.ok(dropsRun.status === 0 || dropsRun.status === 1, dropsRun.stderr);
  const dropRows = readFileSync(dropsOut, 'utf8').trim().split('\n').map((l) => JSON.parse(l));
  const crossFile = dropRows.find((r) => r.id === 'b');
  if (crossFile.skipped === undefined) {
    assert.equal(crossFile.any_hit_at_k !== undefined || crossFile.hit_at_k !== undefined, true);
    const d = crossFile.line_drops;
    assert.ok(Number.isFinite(d.defining) && Number.isFinite(d.source), JSON.stringify(d));
    assert.equal(d.top.length, 3);
    assert.ok(d.defining_rank === null || d.defining_rank >= 1);
    const s = JSON.parse(readFileSync(dropsSummary, 'utf8'));
    assert.equal(s.line_drops_any_cross_file.in_top.cases + s.line_drops_any_cross_file.missed.cases, 1);
    assert.match(dropsRun.stdout, /single-line removals/);
    // The tiny model's line is wrong: the case is in line_drops_any_cross_file, not line_drops (right cases only).
    if (!crossFile.exact_match) assert.equal(s.line_drops.in_top.cases + s.line_drops.missed.cases, 0);
  }
  assert.equal(dropRows.find((r) => r.id === 'a').line_drops, undefined);
  const both = spawnSync(process.execPath, [heed, 'eval-evidence', '--cases', cases, '--model', model, '--hits-only', '--other-files'], { encoding: 'utf8', env });
  assert.equal(both.status, 1);
  assert.match(both.stderr, /--other-files measures removals/);
  // Every head's evidence needs every head's whole past: a head-aware cache is refused before any case runs.
  const headAware = spawnSync(process.execPath, [heed, 'eval-evidence', '--cases', cases, '--out', join(work, 'evidence-head-aware.jsonl'), '--model', model, '--kv', 'head-aware+int8'], { encoding: 'utf8', env });
  assert.equal(headAware.status, 1);
  assert.match(headAware.stderr, /run it with --kv dense or dense\+int8/);
  assert.equal(existsSync(join(work, 'evidence-head-aware.jsonl')), false, 'no results file for a refused run');
});

test('eval-where asks each question over the workspace and ranks its answer line among both lists of spans', () => {
  const cases = join(work, 'where.jsonl');
  writeFileSync(cases, '{"id": "rate", "question": "Where is the tax rate defined?", "path": "src/money.ts", "line": 2}\n{"id": "total", "question": "Where is the total computed?", "path": "src/inventory.ts", "line": 23}\n');
  const out = join(work, 'where-results.jsonl');
  const summaryFile = join(work, 'where-summary.json');
  const run = spawnSync(process.execPath, [heed, 'eval-where', '--cases', cases, '--workspace', join(root, 'sample-workspace'), '--model', model, '--max-tokens', '4', '--out', out, '--summary-out', summaryFile], { encoding: 'utf8', env });
  assert.equal(run.status, 0, run.stderr);
  const rows = readFileSync(out, 'utf8').trim().split('\n').map((l) => JSON.parse(l));
  assert.deepEqual(rows.map((r) => [r.id, r.answer_line]), [['rate', 'src/money.ts:2'], ['total', 'src/inventory.ts:23']]);
  for (const r of rows) {
    for (const rank of [r.question_rank, r.answer_rank]) assert.ok(rank === null || (Number.isInteger(rank) && rank >= 1), `rank ${rank}`);
    // Only workspace files are places: never the question's own file.
    for (const place of [...r.question_top3, ...r.answer_top3]) assert.match(place, /^src\/(index|inventory|money|types)\.ts:\d+/);
  }
  const summary = JSON.parse(readFileSync(summaryFile, 'utf8'));
  assert.equal(summary.workspace_files, 4);
  assert.equal(summary.question_spans.cases, 2);
  assert.equal(summary.question_and_answer_spans.cases, 2);
  assert.equal(summary.question_spans_plain.cases, 2);
  assert.equal(summary.neutral_question, 'Where is it defined?');
  for (const r of rows) assert.ok(r.question_rank_plain === null || r.question_rank_plain >= 1);
  // A case whose line is not in a workspace file is refused before any question is asked.
  writeFileSync(cases, '{"question": "Where?", "path": "src/nowhere.ts", "line": 1}\n');
  const refused = spawnSync(process.execPath, [heed, 'eval-where', '--cases', cases, '--workspace', join(root, 'sample-workspace'), '--model', model], { encoding: 'utf8', env });
  assert.equal(refused.status, 1);
  assert.match(refused.stderr, /src\/nowhere\.ts is not a source file/);
});

test('cases writes repo cases from a folder, and needle cases only with a model to count tokens', () => {
  const out = join(work, 'generated.jsonl');
  const repo = spawnSync(process.execPath, [heed, 'cases', 'repo', join(root, 'sample-workspace'), '--out', out, '--count', '4'], { encoding: 'utf8', env });
  assert.equal(repo.status, 0, repo.stderr);
  const cases = readFileSync(out, 'utf8').trim().split('\n').map((l) => JSON.parse(l));
  assert.ok(cases.length > 0 && cases.every((c) => typeof c.target === 'string' && c.workspace));
  const noModel = spawnSync(process.execPath, [heed, 'cases', 'needle', join(root, 'sample-workspace'), '--out', out], { encoding: 'utf8', env });
  assert.equal(noModel.status, 1);
  assert.match(noModel.stderr, /--model DIR is required/);
  const needles = spawnSync(process.execPath, [heed, 'cases', 'needle', join(root, 'sample-workspace'), '--model', model, '--out', out, '--distances', '300', '--per-distance', '2'], { encoding: 'utf8', env });
  assert.equal(needles.status, 0, needles.stderr);
  assert.equal(readFileSync(out, 'utf8').trim().split('\n').length, 2);
});
