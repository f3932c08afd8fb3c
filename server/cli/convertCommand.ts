// heed convert gguf --model DIR --out FILE: a Qwen2 checkpoint folder as a GGUF file for llama.cpp.

import { basename, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { convertToGguf } from '../convert/gguf';

export const convertUsage = 'heed convert gguf --model DIR --out FILE.gguf [--name NAME]';

export async function convertCommand(args: string[]): Promise<number> {
  const [format, ...rest] = args;
  if (format !== 'gguf') throw new Error(`unknown format "${format ?? ''}" (known: gguf)`);
  const { values } = parseArgs({ args: rest, options: { model: { type: 'string' }, out: { type: 'string' }, name: { type: 'string' } } });
  if (!values.model || !values.out) throw new Error('--model DIR and --out FILE are required');
  const started = Date.now();
  const tensors = convertToGguf(resolve(values.model), values.out, values.name ?? basename(resolve(values.model)));
  process.stderr.write(`${values.out}: ${tensors} tensors (f16 matrices, f32 norms and biases) in ${Date.now() - started} ms\n`);
  return 0;
}
