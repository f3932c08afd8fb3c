// heed cases: make completion cases (EVAL.md's JSONL) from any folder of code.
//   heed cases repo DIR --out FILE [--count 60] [--seed 1]
//   heed cases where DIR --out FILE [--count 60] [--seed 1]   ("Where is NAME defined?", for heed eval-where)
//   heed cases needle DIR --model MODEL --out FILE [--distances 2048,8192,16000] [--per-distance 30] [--seed 1]
//                    [--languages python,typescript] [--use-path PATH]
// A needle's distance is counted in the model's tokens, so needle cases need --model.
// --languages typescript makes every case a TypeScript one: for a model that copies in one
// language only, the other language's cases measure nothing about the context.
// --use-path names the file that repeats the value (one language only; the extension must
// match it), to measure how much a model's copying depends on where it is asked to copy.

import { writeFileSync } from 'node:fs';
import { basename, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { loadTokenizer } from '../engine/tokenizer';
import { needleCases, needleLanguages, readSourceFiles, repoCases, type NeedleLanguage } from '../eval/caseGen';
import { parseNumber } from './cliArgs';
import { definitionCases } from '../eval/whereEval';

export const casesUsage =
  'heed cases repo DIR --out FILE [--count 60] [--seed 1] | heed cases where DIR --out FILE [--count 60] [--seed 1] | heed cases needle DIR --model MODEL --out FILE [--distances 2048,8192,16000] [--per-distance 30] [--seed 1] [--languages python,typescript] [--use-path PATH]';

export async function casesCommand(args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: {
      out: { type: 'string' },
      model: { type: 'string' },
      count: { type: 'string', default: '60' },
      distances: { type: 'string', default: '2048,8192,16000' },
      'per-distance': { type: 'string', default: '30' },
      seed: { type: 'string', default: '1' },
      languages: { type: 'string', default: needleLanguages.join(',') },
      'use-path': { type: 'string' },
    },
  });
  const [kind, dir] = positionals;
  if ((kind !== 'repo' && kind !== 'needle' && kind !== 'where') || !dir || positionals.length !== 2) throw new Error(`usage: ${casesUsage}`);
  if (!values.out) throw new Error('--out FILE is required');
  const seed = parseNumber('seed', values.seed!, true);
  const files = readSourceFiles(resolve(dir));
  if (files.length === 0) throw new Error(`${dir} holds no source files (.py, .ts, .tsx, .js, …)`);

  if (kind === 'where') {
    const where = definitionCases(files, parseNumber('count', values.count!, true), seed);
    writeFileSync(values.out, where.map((c) => JSON.stringify(c)).join('\n') + (where.length > 0 ? '\n' : ''));
    process.stderr.write(`${where.length} "where is … defined?" cases from ${files.length} files in ${values.out}\n`);
    return 0;
  }
  let cases;
  if (kind === 'repo') {
    cases = repoCases(basename(resolve(dir)), files, parseNumber('count', values.count!, true), seed);
  } else {
    if (!values.model) throw new Error('needle cases count their distance in tokens: --model DIR is required');
    const tokenizer = loadTokenizer(resolve(values.model));
    const distances = values.distances!.split(',').map((d) => parseNumber('distances', d, true));
    const languages = values.languages!.split(',').map((l) => l.trim());
    const unknown = languages.filter((l) => !(needleLanguages as readonly string[]).includes(l));
    if (unknown.length > 0) throw new Error(`--languages takes ${needleLanguages.join(', ')} (comma-separated), got "${values.languages}"`);
    cases = needleCases(files, (text) => tokenizer.encode(text).length, distances, parseNumber('per-distance', values['per-distance']!, true), seed, {
      languages: languages as NeedleLanguage[],
      usePath: values['use-path'],
    });
  }
  writeFileSync(values.out, cases.map((c) => JSON.stringify(c)).join('\n') + (cases.length > 0 ? '\n' : ''));
  const kinds = new Map<string, number>();
  for (const c of cases) kinds.set(c.kind, (kinds.get(c.kind) ?? 0) + 1);
  process.stderr.write(`${cases.length} cases from ${files.length} files (${[...kinds].map(([k, n]) => `${n} ${k}`).join(', ') || 'none'}) in ${values.out}\n`);
  return 0;
}
