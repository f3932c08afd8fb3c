// heed make-tiny-model: writes the deterministic test model from a folder of source text.

import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { parseArgs } from 'node:util';
import { makeTinyModel } from '../engine/tinyModel';

/** Every text file under `dir`, in path order so that the model is the same on every machine. */
export function readCorpus(dir: string): string[] {
  const paths: string[] = [];
  const walk = (folder: string) => {
    for (const name of readdirSync(folder).sort()) {
      if (name.startsWith('.') || name === 'node_modules') continue;
      const path = join(folder, name);
      if (statSync(path).isDirectory()) walk(path);
      else paths.push(path);
    }
  };
  walk(dir);
  return paths.sort((a, b) => (relative(dir, a) < relative(dir, b) ? -1 : 1)).map((path) => readFileSync(path, 'utf8'));
}

export async function makeTinyModelCommand(args: string[]): Promise<number> {
  const { values } = parseArgs({
    args,
    options: {
      out: { type: 'string' },
      corpus: { type: 'string', default: join(__dirname, '..', 'sample-workspace') },
    },
  });
  if (!values.out) throw new Error('--out DIR is required');
  const texts = readCorpus(values.corpus!);
  if (texts.length === 0) throw new Error(`no files to learn from under ${values.corpus}`);
  await makeTinyModel(values.out, texts);
  console.log(`wrote the tiny model to ${values.out} (from ${texts.length} files under ${values.corpus})`);
  return 0;
}
