// heed calibrate: score every (layer, KV head) of a model on long-context copy tasks and
// write its head pattern (engine/headPattern.ts), by default beside the model.

import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { defaultCalibrateOptions, describePattern, describeProgress, writeHeadPattern, type CalibrateOptions } from '../calibrate/calibrate';
import { headPatternFileName } from '../engine/headPattern';
import { JobFailedError, ModelHost } from '../worker/modelHost';
import { defaultGraphCacheDir } from './cacheDir';
import { cancelOnInterrupt, parseNumber } from './cliArgs';

const d = defaultCalibrateOptions;
export const calibrateUsage =
  `heed calibrate --model DIR --filler DIR [--out FILE] [--context-tokens ${d.contextTokens}] [--samples ${d.samplesPerTask}] [--sinks ${d.sinks}] [--window ${d.window}] ` +
  `[--ratio ${d.retrievalRatio}] [--seed ${d.seed}] [--threads 2] [--graph-cache DIR | --no-graph-cache]`;

export async function calibrateCommand(args: string[]): Promise<number> {
  const { values } = parseArgs({
    args,
    options: {
      model: { type: 'string' },
      filler: { type: 'string' },
      out: { type: 'string' },
      'context-tokens': { type: 'string', default: String(d.contextTokens) },
      samples: { type: 'string', default: String(d.samplesPerTask) },
      sinks: { type: 'string', default: String(d.sinks) },
      window: { type: 'string', default: String(d.window) },
      ratio: { type: 'string', default: String(d.retrievalRatio) },
      seed: { type: 'string', default: String(d.seed) },
      threads: { type: 'string', default: '2' },
      'graph-cache': { type: 'string', default: defaultGraphCacheDir() },
      'no-graph-cache': { type: 'boolean', default: false },
    },
  });
  if (!values.model || !values.filler) throw new Error('--model DIR and --filler DIR (a folder of code for the copy tasks) are required');
  const modelPath = resolve(values.model);
  const ratio = parseNumber('ratio', values.ratio!, false);
  if (ratio < 0 || ratio > 1) throw new Error(`--ratio must be in [0, 1], not ${ratio}`);
  const options: CalibrateOptions = {
    contextTokens: parseNumber('context-tokens', values['context-tokens']!, true),
    samplesPerTask: parseNumber('samples', values.samples!, true),
    segmentTokens: d.segmentTokens,
    sinks: parseNumber('sinks', values.sinks!, true),
    window: parseNumber('window', values.window!, true),
    retrievalRatio: ratio,
    seed: parseNumber('seed', values.seed!, true),
    fillerSource: values.filler,
  };
  if (options.samplesPerTask < 1) throw new Error('--samples must be at least 1');
  const out = values.out ?? join(modelPath, headPatternFileName);

  const host = new ModelHost(join(__dirname, 'modelWorker.js'));
  const cancel = cancelOnInterrupt();
  try {
    const model = await host.load({ modelPath, threads: parseNumber('threads', values.threads!, true), weightFormat: 'fp32', graphCacheDir: values['no-graph-cache'] ? undefined : values['graph-cache'] });
    for (const line of model.log) process.stderr.write(`${line}\n`);
    const pattern = await host.calibrate(resolve(values.filler), options, cancel.signal, (progress) => process.stderr.write(`${describeProgress(progress)}\n`));
    writeHeadPattern(out, pattern);
    process.stdout.write(`${describePattern(pattern)}\nwrote ${out}\n`);
    return 0;
  } catch (error) {
    if (error instanceof JobFailedError && error.cancelled) {
      process.stderr.write('heed: calibration cancelled; nothing was written\n');
      return 130;
    }
    throw error;
  } finally {
    cancel.dispose();
    await host.dispose();
  }
}
