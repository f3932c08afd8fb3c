// heed bench engine | heed make-random-model: speed measurement of the engine.

import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { runEngineBench } from '../bench/engineBench';
import { benchShapes, makeRandomModel, parameterCount } from '../bench/randomModel';
import { defaultGraphCacheDir, parseWeightFormat } from './cacheDir';

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
  if (what !== 'engine') throw new Error(`unknown benchmark "${what ?? ''}" (known: engine)`);
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
    },
  });
  if (!values.model) throw new Error('--model DIR is required');
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
      log: (line) => console.log(line),
    });
  }
  return 0;
}

export async function makeRandomModelCommand(args: string[]): Promise<number> {
  const { values } = parseArgs({ args, options: { shape: { type: 'string' }, out: { type: 'string' }, seed: { type: 'string', default: '1' } } });
  if (!values.shape || !values.out) throw new Error(`--shape NAME and --out DIR are required (shapes: ${Object.keys(benchShapes).join(', ')})`);
  const shape = makeRandomModel(values.out, values.shape, positiveInteger('seed', values.seed!));
  console.log(`wrote ${values.shape} (${(parameterCount(shape) / 1e6).toFixed(1)}M parameters, random weights) to ${values.out}`);
  return 0;
}
