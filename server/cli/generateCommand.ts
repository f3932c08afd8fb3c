// heed generate: load a model folder in the model worker and continue a prompt.

import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { join, resolve } from 'node:path';
import { JobFailedError, ModelHost, Priority } from '../worker/modelHost';
import { defaultGraphCacheDir, parseWeightFormat } from './cacheDir';
import { cancelOnInterrupt, kvOptions, parseKvRequest, parseNumber } from './cliArgs';

export async function generateCommand(args: string[]): Promise<number> {
  const { values } = parseArgs({
    args,
    options: {
      model: { type: 'string' },
      prompt: { type: 'string' },
      'prompt-file': { type: 'string' },
      'max-tokens': { type: 'string', default: '64' },
      temperature: { type: 'string', default: '0' },
      'top-p': { type: 'string', default: '1' },
      seed: { type: 'string', default: '0' },
      stop: { type: 'string', multiple: true, default: [] },
      threads: { type: 'string', default: '2' },
      json: { type: 'boolean', default: false },
      'graph-cache': { type: 'string', default: defaultGraphCacheDir() },
      'no-graph-cache': { type: 'boolean', default: false },
      weights: { type: 'string', default: 'fp32' },
      ...kvOptions,
    },
  });
  const kv = parseKvRequest(values);
  if (!values.model) throw new Error('--model DIR is required');
  if ((values.prompt === undefined) === (values['prompt-file'] === undefined)) throw new Error('give exactly one of --prompt and --prompt-file');
  const prompt = values.prompt ?? readFileSync(values['prompt-file']!, 'utf8');
  const options = {
    maxTokens: parseNumber('max-tokens', values['max-tokens'], true),
    temperature: parseNumber('temperature', values.temperature, false),
    topP: parseNumber('top-p', values['top-p'], false),
    seed: parseNumber('seed', values.seed, true),
    stop: values.stop,
  };
  // The same worker host the language server uses: the model runs off the main thread, so
  // Ctrl-C cancels between forward passes instead of waiting for the whole generation.
  const host = new ModelHost(join(__dirname, 'modelWorker.js'));
  const cancel = cancelOnInterrupt();
  try {
    const model = await host.load({
      modelPath: resolve(values.model),
      threads: parseNumber('threads', values.threads, true),
      weightFormat: parseWeightFormat(values.weights!),
      graphCacheDir: values['no-graph-cache'] ? undefined : values['graph-cache'],
      kv,
    });
    for (const line of model.log) process.stderr.write(`${line}\n`);
    const maxPromptTokens = model.config.maxPositions - options.maxTokens;
    // Without --json the text streams to stdout as it is generated.
    let printed = 0;
    const stream = values.json
      ? undefined
      : (text: string) => {
          process.stdout.write(text.slice(printed));
          printed = text.length;
        };
    const result = await host.generate([{ text: prompt, cut: 'start' }], maxPromptTokens, options, cancel.signal, Priority.Interactive, stream);
    if (values.json) {
      console.log(JSON.stringify({ model: model.name, ...result }));
    } else {
      process.stdout.write(result.text.slice(printed) + '\n');
      const decodeTps = result.tokens.length > 1 ? ((result.tokens.length - 1) * 1000) / (result.totalMs - result.ttftMs) : 0;
      process.stderr.write(
        `${result.promptTokens} prompt tokens, first token ${result.ttftMs.toFixed(1)} ms, ${result.tokens.length} tokens, ${decodeTps.toFixed(1)} tokens/s decode, stop: ${result.stopReason}\n`,
      );
    }
  } catch (error) {
    if (error instanceof JobFailedError && error.cancelled) {
      process.stderr.write('heed: cancelled\n');
      return 130;
    }
    throw error;
  } finally {
    cancel.dispose();
    await host.dispose();
  }
  return 0;
}
