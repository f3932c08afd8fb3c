// heed bench engine | heed bench plot | heed make-random-model: speed measurement of the engine.

import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { parseArgs } from 'node:util';
import { kvOptions, parseKvRequest } from './cliArgs';
import { readJsonLines } from './jsonLines';
import { runEngineBench } from '../bench/engineBench';
import { plotRecords, type BenchRecord } from '../bench/plot';
import { runPeerBench } from '../bench/peerBench';
import { cacheScenarios, runCacheBench } from '../bench/cacheBench';
import { runEvidenceBench } from '../bench/evidenceBench';
import { loadBenchModel } from '../bench/engineBench';
import { readSourceFiles } from '../eval/caseGen';
import { benchShapes, makeRandomModel, parameterCount } from '../bench/randomModel';
import { defaultGraphCacheDir, parseInt4Compute, parseWeightFormat } from './cacheDir';
import { defaultInt4Compute, type FlashPastThresholds } from '../engine/graph/decoderGraph';

const numberList = (name: string, value: string): number[] =>
  value === 'none'
    ? []
    : value.split(',').map((part) => {
        const n = Number(part.trim());
        if (!Number.isInteger(n) || n <= 0) throw new Error(`--${name} takes whole numbers separated by commas (or none), not "${value}"`);
        return n;
      });

const positiveInteger = (name: string, value: string): number => numberList(name, value)[0];

export async function benchCommand(args: string[]): Promise<number> {
  const [what, ...rest] = args;
  if (what === 'plot') return plotCommand(rest);
  if (what === 'peer') return peerCommand(rest);
  if (what === 'cache') return cacheCommand(rest);
  if (what === 'evidence') return evidenceCommand(rest);
  if (what !== 'engine') throw new Error(`unknown benchmark "${what ?? ''}" (known: engine, cache, evidence, peer, plot)`);
  const { values } = parseArgs({
    args: rest,
    options: {
      model: { type: 'string' },
      prefill: { type: 'string', default: '512,2048,8192' },
      decode: { type: 'string', default: '1024,4096,16384' },
      'decode-tokens': { type: 'string', default: '64' },
      runs: { type: 'string', default: '3' },
      threads: { type: 'string', default: '2' },
      chunk: { type: 'string' },
      out: { type: 'string' },
      'graph-cache': { type: 'string', default: defaultGraphCacheDir() },
      'no-graph-cache': { type: 'boolean', default: false },
      weights: { type: 'string', default: 'fp32' },
      'int4-compute': { type: 'string', default: defaultInt4Compute },
      'flash-past': { type: 'string' },
      ...kvOptions,
    },
  });
  if (!values.model) throw new Error('--model DIR is required');
  const kv = parseKvRequest(values);
  // Several settings (separated by /) are loaded together and measured in turn.
  const flashPastVariants = values['flash-past'] === undefined ? [undefined] : values['flash-past'].split('/').map(parseFlashPast);
  const weightFormat = parseWeightFormat(values.weights!);
  const threads = numberList('threads', values.threads!);
  for (const t of threads) {
    await runEngineBench({
      modelPath: values.model,
      prefillContexts: numberList('prefill', values.prefill!),
      decodeContexts: numberList('decode', values.decode!),
      decodeTokens: positiveInteger('decode-tokens', values['decode-tokens']!),
      runs: positiveInteger('runs', values.runs!),
      threads: t,
      chunkTokens: values.chunk ? positiveInteger('chunk', values.chunk) : undefined,
      out: values.out ?? join('bench', 'results', 'engine.jsonl'),
      graphCacheDir: values['no-graph-cache'] ? undefined : values['graph-cache'],
      weightFormat,
      int4Compute: parseInt4Compute(values['int4-compute']!),
      kv,
      log: (line) => console.log(line),
    }, flashPastVariants);
  }
  return 0;
}

/** --flash-past off | TOKENS,PAST (one setting): when passes use the flash kernel over the past (decoderGraph.ts). */
function parseFlashPast(value: string): FlashPastThresholds | false {
  if (value === 'off') return false;
  const parts = value.split(',').map((p) => Number(p.trim()));
  if (parts.length !== 2 || parts.some((n) => !Number.isInteger(n) || n < 0)) throw new Error(`--flash-past takes off or TOKENS,PAST (two whole numbers), not "${value}"`);
  return { minTokens: parts[0], minPast: parts[1] };
}

export async function makeRandomModelCommand(args: string[]): Promise<number> {
  const { values } = parseArgs({ args, options: { shape: { type: 'string' }, out: { type: 'string' }, seed: { type: 'string', default: '1' } } });
  if (!values.shape || !values.out) throw new Error(`--shape NAME and --out DIR are required (shapes: ${Object.keys(benchShapes).join(', ')})`);
  const shape = makeRandomModel(values.out, values.shape, positiveInteger('seed', values.seed!));
  console.log(`wrote ${values.shape} (${(parameterCount(shape) / 1e6).toFixed(1)}M parameters, random weights) to ${values.out}`);
  return 0;
}

/** heed bench plot --in FILE.jsonl [--out-dir DIR] [--title T]: one SVG per metric swept over context lengths. */
function plotCommand(args: string[]): number {
  const { values } = parseArgs({ args, options: { in: { type: 'string' }, 'out-dir': { type: 'string' }, title: { type: 'string' } } });
  if (!values.in) throw new Error('--in FILE.jsonl is required');
  const records: BenchRecord[] = [];
  for (const { lineNumber, value } of readJsonLines(values.in)) {
    const record = value as BenchRecord;
    if (typeof record.metric !== 'string' || typeof record.median !== 'number') throw new Error(`${values.in}:${lineNumber}: not a result record (metric, median)`);
    records.push(record);
  }
  const name = basename(values.in).replace(/\.jsonl$/, '');
  const outDir = values['out-dir'] ?? join(values.in, '..', 'plots');
  const charts = plotRecords(records, values.title ?? name);
  if (charts.size === 0) throw new Error(`${values.in} has no metric measured at two or more context lengths`);
  mkdirSync(outDir, { recursive: true });
  for (const [metric, svg] of charts) {
    const file = join(outDir, `${name}-${metric}.svg`);
    writeFileSync(file, svg);
    console.log(file);
  }
  return 0;
}

/** heed bench peer --model DIR --out FILE: Heed and llama.cpp on the same model and token ids, interleaved. */
async function peerCommand(args: string[]): Promise<number> {
  const { values } = parseArgs({
    args,
    options: {
      model: { type: 'string' },
      prefill: { type: 'string', default: '512,2048,8192' },
      decode: { type: 'string', default: '1024,4096' },
      'decode-tokens': { type: 'string', default: '64' },
      runs: { type: 'string', default: '3' },
      threads: { type: 'string', default: '2' },
      out: { type: 'string' },
      ...kvOptions,
    },
  });
  if (!values.model) throw new Error('--model DIR is required');
  await runPeerBench({
    modelPath: values.model,
    prefillContexts: numberList('prefill', values.prefill!),
    decodeContexts: numberList('decode', values.decode!),
    decodeTokens: positiveInteger('decode-tokens', values['decode-tokens']!),
    runs: positiveInteger('runs', values.runs!),
    threads: positiveInteger('threads', values.threads!),
    out: values.out ?? join('bench', 'results', `peer-${basename(values.model)}.jsonl`),
    kv: parseKvRequest(values),
    log: (line) => process.stderr.write(`${line}\n`),
  });
  return 0;
}

/**
 * heed bench cache --model DIR [--contexts 2048,8192,16384] [--peer] [--kv …]: time to first
 * token cold and warm (keystroke, changed line, edit mid-context, file switch, restart).
 */
async function cacheCommand(args: string[]): Promise<number> {
  const { values } = parseArgs({
    args,
    options: {
      model: { type: 'string' },
      contexts: { type: 'string', default: '2048,8192,16384' },
      runs: { type: 'string', default: '5' },
      threads: { type: 'string', default: '2' },
      chunk: { type: 'string' },
      workspace: { type: 'string', default: join(__dirname, '..', 'server') },
      'memory-limit-mb': { type: 'string', default: '2048' },
      peer: { type: 'boolean', default: false },
      scenarios: { type: 'string' },
      out: { type: 'string' },
      'graph-cache': { type: 'string', default: defaultGraphCacheDir() },
      weights: { type: 'string', default: 'fp32' },
      ...kvOptions,
    },
  });
  if (!values.model) throw new Error('--model DIR is required');
  const scenarios = values.scenarios?.split(',').map((s) => s.trim());
  const unknown = scenarios?.filter((s) => !cacheScenarios.includes(s)) ?? [];
  if (unknown.length > 0) throw new Error(`unknown scenario ${unknown.join(', ')} (known: ${cacheScenarios.join(', ')})`);
  if (!existsSync(values.workspace!)) throw new Error(`--workspace ${values.workspace} does not exist: name a folder of code to build the prompts from`);
  await runCacheBench({
    modelPath: values.model,
    contexts: numberList('contexts', values.contexts!),
    runs: positiveInteger('runs', values.runs!),
    threads: positiveInteger('threads', values.threads!),
    chunkTokens: values.chunk ? positiveInteger('chunk', values.chunk) : undefined,
    graphCacheDir: values['graph-cache'],
    weightFormat: parseWeightFormat(values.weights!),
    kv: parseKvRequest(values),
    workspace: values.workspace!,
    memoryLimitMB: positiveInteger('memory-limit-mb', values['memory-limit-mb']!),
    peer: values.peer!,
    scenarios,
    out: values.out ?? join('bench', 'results', `cache-${basename(values.model)}.jsonl`),
    log: (line) => console.log(line),
  });
  return 0;
}

/** heed bench evidence: what evidence adds to a warm completion's time, per context length. */
async function evidenceCommand(args: string[]): Promise<number> {
  const { values } = parseArgs({
    args,
    options: {
      model: { type: 'string' },
      contexts: { type: 'string', default: '2048,8192,16000' },
      runs: { type: 'string', default: '7' },
      'max-tokens': { type: 'string', default: '24' },
      threads: { type: 'string', default: '2' },
      workspace: { type: 'string', default: join(__dirname, '..', 'server') },
      out: { type: 'string' },
      'graph-cache': { type: 'string', default: defaultGraphCacheDir() },
      'no-graph-cache': { type: 'boolean', default: false },
      weights: { type: 'string', default: 'fp32' },
      ...kvOptions,
    },
  });
  if (!values.model) throw new Error('--model DIR is required');
  const threads = positiveInteger('threads', values.threads!);
  const weights = parseWeightFormat(values.weights!);
  const model = await loadBenchModel({
    modelPath: values.model,
    threads,
    graphCacheDir: values['no-graph-cache'] ? undefined : values['graph-cache'],
    weightFormat: weights,
    kv: parseKvRequest(values),
    log: (line) => console.log(line),
  });
  try {
    const files = readSourceFiles(values.workspace!);
    if (files.length < 2) throw new Error(`${values.workspace} holds too few source files for a workspace prompt`);
    await runEvidenceBench({
      model,
      modelPath: values.model,
      files,
      contexts: numberList('contexts', values.contexts!),
      runs: positiveInteger('runs', values.runs!),
      maxTokens: positiveInteger('max-tokens', values['max-tokens']!),
      threads,
      weights,
      out: values.out ?? join('bench', 'results', `evidence-cost-${model.name}.jsonl`),
      log: (line) => console.log(line),
    });
  } finally {
    await model.dispose();
  }
  return 0;
}
