// heed generate: load a model folder and continue a prompt, in this process.

import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { loadModel } from '../engine/loadModel';
import { CachedSequence, generate } from '../engine/generate';
import { defaultGraphCacheDir } from './cacheDir';

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
    },
  });
  if (!values.model) throw new Error('--model DIR is required');
  if ((values.prompt === undefined) === (values['prompt-file'] === undefined)) throw new Error('give exactly one of --prompt and --prompt-file');
  const prompt = values.prompt ?? readFileSync(values['prompt-file']!, 'utf8');
  const number = (name: string, value: string, integer: boolean) => {
    const parsed = Number(value);
    if (!Number.isFinite(parsed) || (integer && !Number.isInteger(parsed))) throw new Error(`--${name} must be a ${integer ? 'whole ' : ''}number, not "${value}"`);
    return parsed;
  };
  const model = await loadModel(values.model, {
    threads: number('threads', values.threads, true),
    graphCacheDir: values['no-graph-cache'] ? undefined : values['graph-cache'],
    log: (line) => process.stderr.write(`${line}\n`),
  });
  try {
    const ids = model.tokenizer.encode(prompt);
    const result = generate(
      new CachedSequence(model),
      ids,
      {
        maxTokens: number('max-tokens', values['max-tokens'], true),
        temperature: number('temperature', values.temperature, false),
        topP: number('top-p', values['top-p'], false),
        seed: number('seed', values.seed, true),
        stop: values.stop,
      },
      () => false,
    );
    if (values.json) {
      console.log(JSON.stringify({ model: model.name, ...result }));
    } else {
      process.stdout.write(result.text + '\n');
      const decodeTps = result.tokens.length > 1 ? ((result.tokens.length - 1) * 1000) / (result.totalMs - result.ttftMs) : 0;
      process.stderr.write(
        `${result.promptTokens} prompt tokens, first token ${result.ttftMs.toFixed(1)} ms, ${result.tokens.length} tokens, ${decodeTps.toFixed(1)} tokens/s decode, stop: ${result.stopReason}\n`,
      );
    }
  } finally {
    await model.dispose();
  }
  return 0;
}
