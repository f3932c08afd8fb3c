// Synthetic long-context copy tasks for head calibration. Each sample is a token sequence
// with probes: positions whose next token is a copy of a token far back. A retrieval head
// attends from the probe to that source; a streaming head (sinks + window) cannot see it.
//
// - repeat: a segment of code tokens, filler, the same segment again (induction over
//   thousands of tokens). Probe at the second copy's i-th token, source the first copy's
//   (i+1)-th.
// - definition: a settings file defining named values, real code as filler, and a test that
//   repeats some of the values by name, laid out like a repo-level prompt. Probes at the
//   token before each repeated value token, sources at the defined value's tokens.

import type { Tokenizer } from '../engine/types';
import type { SourceFile } from '../eval/caseGen';

export interface CopyProbe {
  /** The asking token: its output predicts the token at position + 1. */
  position: number;
  /** Where the token to be copied stands earlier in the sample. */
  source: number;
}

export interface CalibrationSample {
  task: 'repeat' | 'definition';
  ids: number[];
  probes: CopyProbe[];
}

/** Filler for the tasks: the token ids of real code files, tokenized once. */
export interface FillerPool {
  /** Each file's `<|file_sep|>path\n` header (empty without that token) and content, as token ids. */
  files: Array<{ path: string; header: number[]; ids: number[] }>;
  /** Every token of the filler, for drawing repeat segments of real code tokens. */
  tokens: number[];
  /** Lowercase words from the filler's identifiers, for making names. */
  words: string[];
}

const wordPattern = /[A-Z]?[a-z]{3,10}(?![a-z])/g;
const fallbackWords = ['cache', 'retry', 'window', 'token', 'limit', 'batch', 'queue', 'delay', 'buffer', 'stream', 'index', 'chunk', 'route', 'cursor'];

export function fillerPool(tokenizer: Tokenizer, files: SourceFile[], maxTokens: number): FillerPool {
  const pool: FillerPool = { files: [], tokens: [], words: [] };
  const counts = new Map<string, number>();
  for (const file of files) {
    if (pool.tokens.length >= maxTokens) break;
    const ids = tokenizer.encode(file.text);
    if (ids.length === 0) continue;
    const { fileSep } = tokenizer.special;
    pool.files.push({ path: file.path, header: fileSep !== undefined ? [fileSep, ...tokenizer.encode(`${file.path}\n`)] : [], ids });
    pool.tokens.push(...ids);
    for (const word of file.text.match(wordPattern) ?? []) counts.set(word.toLowerCase(), (counts.get(word.toLowerCase()) ?? 0) + 1);
  }
  const ranked = [...counts].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1)).map(([w]) => w);
  pool.words = ranked.length >= 40 ? ranked.slice(0, 2000) : fallbackWords;
  return pool;
}

const pick = <T>(random: () => number, items: T[]): T => items[Math.floor(random() * items.length)];

/** `count` filler tokens: whole files in random order, the last one cut. */
function fillerIds(random: () => number, pool: FillerPool, count: number): number[] {
  const out: number[] = [];
  while (out.length < count) {
    const file = pick(random, pool.files);
    out.push(...file.header, ...file.ids);
  }
  return out.slice(0, count);
}

export function repeatSample(random: () => number, pool: FillerPool, contextTokens: number, segmentTokens: number): CalibrationSample {
  const lead = 16 + Math.floor(random() * (contextTokens / 8));
  const gap = contextTokens - lead - 2 * segmentTokens;
  if (gap < 0) throw new RangeError(`a repeat sample of ${contextTokens} tokens has no room for two segments of ${segmentTokens}`);
  const draw = (n: number) => Array.from({ length: n }, () => pick(random, pool.tokens));
  const segment = draw(segmentTokens);
  const ids = [...draw(lead), ...segment, ...draw(gap), ...segment];
  const first = lead;
  const second = lead + segmentTokens + gap;
  const probes: CopyProbe[] = [];
  for (let i = 0; i + 1 < segmentTokens; i++) probes.push({ position: second + i, source: first + i + 1 });
  return { task: 'repeat', ids, probes };
}

function randomValue(random: () => number): string {
  if (random() < 0.5) return String(10000 + Math.floor(random() * 990000));
  const chars = 'abcdefghjkmnpqrstuvwxyz23456789';
  return `"${Array.from({ length: 6 }, () => pick(random, [...chars])).join('')}"`;
}

/** A settings file, filler, and a test repeating `used` of its values; probes on the repeated value tokens. */
export function definitionSample(random: () => number, tokenizer: Tokenizer, pool: FillerPool, contextTokens: number): CalibrationSample {
  const python = random() < 0.5;
  const count = 4 + Math.floor(random() * 5);
  const words = Array.from({ length: count + 3 }, () => pick(random, pool.words));
  const names: string[] = [];
  while (names.length < count) {
    const parts = [pick(random, words), pick(random, words), pick(random, words)];
    const name = python ? parts.join('_').toUpperCase() : parts[0] + parts.slice(1).map((w) => w[0].toUpperCase() + w.slice(1)).join('');
    if (!names.includes(name)) names.push(name);
  }
  const values = names.map(() => tokenizer.encode(randomValue(random)));
  const order = [...names.keys()];
  for (let i = order.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [order[i], order[j]] = [order[j], order[i]];
  }
  const used = order.slice(0, 1 + Math.floor(random() * 3));
  const { fileSep, repoName } = tokenizer.special;
  const text = (t: string) => tokenizer.encode(t);
  const file = (path: string) => (fileSep !== undefined ? [fileSep, ...text(`${path}\n`)] : text(`// ${path}\n`));

  const head = repoName !== undefined ? [repoName, ...text('calibration\n')] : [];
  const definitions: number[] = [...file(python ? 'app/settings.py' : 'src/settings.ts'), ...text(python ? '"""Settings."""\n\n' : '// Settings.\n\n')];
  const defined: number[] = [];
  names.forEach((name, k) => {
    definitions.push(...text(python ? `${name} = ` : `export const ${name} = `));
    defined[k] = definitions.length;
    definitions.push(...values[k], ...text(python ? '\n' : ';\n'));
  });
  const imports = used.map((k) => names[k]).join(', ');
  const use: number[] = [...file(python ? 'tests/test_settings.py' : 'src/settings.test.ts')];
  use.push(...text(python ? `from app.settings import ${imports}\n\n\ndef test_settings():\n` : `import { ${imports} } from './settings';\n\ntest('settings', () => {\n`));
  const repeated: Array<{ at: number; k: number }> = [];
  for (const k of used) {
    use.push(...text(python ? `    assert ${names[k]} == ` : `  expect(${names[k]}).toBe(`));
    repeated.push({ at: use.length, k });
    use.push(...values[k], ...text(python ? '\n' : ');\n'));
  }
  const room = contextTokens - head.length - definitions.length - use.length;
  if (room < 0) throw new RangeError(`a definition sample does not fit in ${contextTokens} tokens`);
  const filler = fillerIds(random, pool, room);
  const ids = [...head, ...definitions, ...filler, ...use];
  const defStart = head.length;
  const useStart = head.length + definitions.length + filler.length;
  const probes: CopyProbe[] = [];
  for (const { at, k } of repeated) {
    for (let j = 0; j < values[k].length; j++) probes.push({ position: useStart + at + j - 1, source: defStart + defined[k] + j });
  }
  return { task: 'definition', ids, probes };
}
