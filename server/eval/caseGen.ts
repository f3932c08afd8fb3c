// Completion cases generated from a folder of code, in EVAL.md's format.
//
// repoCases: lines that use an identifier defined in another file of the folder and not
// in the text before them (cross_file), or defined earlier in their own file (in_file).
// needleCases: a constant defined in a settings file, the folder's code as filler, and a
// line at the end that must repeat the constant's value, `distance` tokens later.
// Both are deterministic for a seed.

import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import { seededRandom } from '../engine/sampling';
import type { CompletionCase } from './cases';
import { nearestFirst } from './pathProximity';

const sourceExtensions = /\.(py|ts|tsx|mts|cts|js|jsx|mjs|cjs)$/;
const skippedFolders = new Set(['node_modules', '.git', 'dist', 'build', 'out', '__pycache__', 'vendor', 'third_party', '.venv', 'venv']);
const maxFileBytes = 512 * 1024;
const workspaceChars = 192 * 1024;

export interface SourceFile {
  path: string; // relative, with /
  text: string;
}

/**
 * The folder's source files (UTF-8, at most 512 KiB, no build, vendor or dependency
 * folders), by path; the walk stops once `maxBytes` of text are read (a huge workspace).
 */
export function readSourceFiles(root: string, maxBytes = Infinity): SourceFile[] {
  const files: SourceFile[] = [];
  const decoder = new TextDecoder('utf-8', { fatal: true });
  let bytes = 0;
  const walk = (dir: string) => {
    for (const name of readdirSync(dir).sort()) {
      if (bytes >= maxBytes) return;
      const full = join(dir, name);
      const stat = statSync(full);
      if (stat.isDirectory()) {
        if (!skippedFolders.has(name) && !name.startsWith('.')) walk(full);
      } else if (sourceExtensions.test(name) && !/\.min\.[mc]?js$/.test(name) && stat.size <= maxFileBytes && stat.size > 0) {
        try {
          files.push({ path: relative(root, full).split(sep).join('/'), text: decoder.decode(readFileSync(full)) });
          bytes += stat.size;
        } catch {
          // not UTF-8: not a case source
        }
      }
    }
  };
  walk(root);
  return files;
}

function languageOf(path: string): string {
  return path.endsWith('.py') ? 'python' : /\.[mc]?tsx?$/.test(path) ? 'typescript' : 'javascript';
}

const pyDefinition = /^\s*(?:async\s+)?(?:def|class)\s+([A-Za-z_]\w*)|^([A-Za-z_]\w*)\s*(?::[^=\n]*)?=[^=]/gm;
const scriptDefinition = /(?:function\*?|class|interface|type|enum|const|let|var)\s+([A-Za-z_$][\w$]*)/g;
const identifier = /[A-Za-z_$][\w$]{3,}/g;
const importLine = /^\s*(import\b|from\s+\S+\s+import\b|export\s+\*|export\s*\{.*\}\s*from|.*\brequire\()/;
const commentLine = /^\s*(#|\/\/|\/\*|\*|"""|''')/;
const stringLiteral = /(["'`]).*?(?<!\\)\1/g;
const codePunctuation = /[=(.[]/;

function definitions(file: SourceFile): Set<string> {
  const pattern = file.path.endsWith('.py') ? pyDefinition : scriptDefinition;
  const names = new Set<string>();
  for (const match of file.text.matchAll(pattern)) for (const name of match.slice(1)) if (name) names.add(name);
  return names;
}

/** The other files nearest to `path` (longest common path prefix first), up to `maxChars`. */
function nearestFiles(files: SourceFile[], path: string, maxChars: number): Record<string, string> {
  const workspace: Record<string, string> = {};
  let size = 0;
  const text = new Map(files.map((f) => [f.path, f.text]));
  for (const other of nearestFirst([...text.keys()].filter((p) => p !== path), path)) {
    const content = text.get(other)!;
    if (size + content.length > maxChars) continue;
    workspace[other] = content;
    size += content.length;
  }
  return workspace;
}

function sample<T>(random: () => number, items: T[], count: number): T[] {
  const pool = [...items];
  const chosen: T[] = [];
  while (chosen.length < count && pool.length > 0) chosen.push(pool.splice(Math.floor(random() * pool.length), 1)[0]);
  return chosen;
}

export function repoCases(repo: string, files: SourceFile[], count: number, seed: number): CompletionCase[] {
  const random = seededRandom(seed);
  const definedIn = new Map<string, Set<string>>();
  const own = new Map<string, Set<string>>();
  for (const f of files) {
    own.set(f.path, definitions(f));
    for (const name of own.get(f.path)!) definedIn.set(name, new Set([...(definedIn.get(name) ?? []), f.path]));
  }
  const candidates: Record<'cross_file' | 'in_file', Array<{ file: SourceFile; start: number; line: string }>> = { cross_file: [], in_file: [] };
  for (const file of files) {
    let offset = 0;
    for (const [i, line] of file.text.split('\n').entries()) {
      const start = offset;
      offset += line.length + 1;
      const stripped = line.trim();
      if (i < 3 || stripped.length < 10 || stripped.length > 100 || importLine.test(line) || commentLine.test(line)) continue;
      const code = line.replace(stringLiteral, '');
      if (!codePunctuation.test(code)) continue;
      const prefix = file.text.slice(0, start);
      const names = new Set(code.match(identifier) ?? []);
      const mine = own.get(file.path)!;
      const cross = [...names].some((n) => !mine.has(n) && !prefix.includes(n) && [...(definedIn.get(n) ?? [])].some((p) => p !== file.path));
      const local = [...names].some((n) => mine.has(n) && new RegExp(`\\b${n.replace(/\$/g, '\\$')}\\b`).test(prefix));
      if (cross) candidates.cross_file.push({ file, start, line });
      else if (local) candidates.in_file.push({ file, start, line });
    }
  }
  const crossCount = Math.round((count * 2) / 3);
  const chosen = [
    ...sample(random, candidates.cross_file, crossCount).map((c) => ({ ...c, kind: 'cross_file' })),
    ...sample(random, candidates.in_file, count - crossCount).map((c) => ({ ...c, kind: 'in_file' })),
  ];
  return chosen.map(({ file, start, line, kind }, i) => ({
    id: `${repo}-${i}`,
    kind,
    language: languageOf(file.path),
    repo,
    workspace: nearestFiles(files, file.path, workspaceChars),
    path: file.path,
    prefix: file.text.slice(0, start),
    suffix: file.text.slice(start + line.length + 1),
    target: line,
  }));
}

const words = ['cache', 'retry', 'window', 'token', 'limit', 'batch', 'queue', 'delay', 'buffer', 'stream', 'socket', 'index', 'shard', 'lease', 'quota', 'frame', 'chunk', 'route', 'cursor', 'ledger', 'vault', 'beacon', 'harbor', 'pixel', 'signal', 'anchor', 'orbit', 'ember', 'glacier', 'meadow', 'falcon', 'copper', 'velvet', 'prism', 'tundra'];

function needle(random: () => number, language: NeedleLanguage, usePath?: string) {
  const [a, b, c] = sample(random, words, 3);
  const value = random() < 0.5 ? String(10000 + Math.floor(random() * 989999)) : `"${Array.from({ length: 6 }, () => 'abcdefghjkmnpqrstuvwxyz23456789'[Math.floor(random() * 31)]).join('')}"`;
  if (language === 'python') {
    const name = [a, b, c].join('_').toUpperCase();
    return {
      settingsPath: `app/settings_${a}.py`,
      settings: `"""Settings of the ${b} service."""\n\n${name} = ${value}\n`,
      path: usePath ?? 'app/test_settings.py',
      prefix: `from .settings_${a} import ${name}\n\n\ndef test_${c}_setting():\n    assert ${name} == `,
      target: value,
      suffix: '\n',
    };
  }
  const name = a + [b, c].map((w) => w[0].toUpperCase() + w.slice(1)).join('');
  return {
    settingsPath: `src/settings-${a}.ts`,
    settings: `// Settings of the ${b} service.\n\nexport const ${name} = ${value};\n`,
    path: usePath ?? 'src/settings.test.ts',
    prefix: `import { ${name} } from './settings-${a}';\n\ntest('${c} setting', () => {\n  expect(${name}).toBe(`,
    target: `${value});`,
    suffix: '\n});\n',
  };
}

export const needleLanguages = ['python', 'typescript'] as const;
export type NeedleLanguage = (typeof needleLanguages)[number];

export interface NeedleOptions {
  /** Taken in turn, case k of a distance being languages[k % languages.length]. Default: both. */
  languages?: readonly NeedleLanguage[];
  /**
   * The path of the file that repeats the value, instead of each language's default
   * (`app/test_settings.py`, `src/settings.test.ts`). Its extension must be the language's:
   * it needs a single language. Only the path changes (the import keeps its text), so
   * two sets that differ in this alone measure how much a model's copying hangs on it.
   */
  usePath?: string;
}

/**
 * `perDistance` cases at each distance (tokens between the definition and its use, by
 * `countTokens`). Case k of a distance draws from the same random stream whatever the
 * options, so a set of one language holds the same needle values and filler as that
 * language's cases would with both, and more of them.
 */
export function needleCases(
  files: SourceFile[],
  countTokens: (text: string) => number,
  distances: number[],
  perDistance: number,
  seed: number,
  { languages = needleLanguages, usePath }: NeedleOptions = {},
): CompletionCase[] {
  if (files.length === 0) throw new Error('no source files to use as filler');
  if (languages.length === 0) throw new Error('needle cases need at least one language');
  if (usePath !== undefined) {
    if (languages.length !== 1) throw new Error(`a needle's use path needs a single language, not ${languages.join(', ')}`);
    const language = languageOf(usePath);
    if (language !== languages[0]) throw new Error(`${usePath} is a ${language} path; these needles are ${languages[0]}`);
  }
  const cases: CompletionCase[] = [];
  for (const distance of distances) {
    for (let k = 0; k < perDistance; k++) {
      const random = seededRandom(seed * 1_000_003 + distance * 101 + k);
      const language = languages[k % languages.length];
      const n = needle(random, language, usePath);
      const workspace: Record<string, string> = { [n.settingsPath]: n.settings };
      let tokens = 0;
      for (let guard = 0; tokens < distance && guard < 10_000; guard++) {
        const filler = files[Math.floor(random() * files.length)];
        let text = filler.text;
        let size = countTokens(text);
        const room = distance - tokens;
        if (size > room) {
          text = text.slice(0, Math.max(1, Math.floor((text.length * room) / size)));
          text = text.slice(0, text.lastIndexOf('\n') + 1) || text;
          size = countTokens(text);
        }
        const path = `lib/${Object.keys(workspace).length}/${filler.path}`;
        workspace[path] = text;
        tokens += size + 8;
      }
      cases.push({ id: `needle-${distance}-${k}`, kind: 'needle', language, workspace, path: n.path, prefix: n.prefix, suffix: n.suffix, target: n.target, needle_distance_tokens: distance });
    }
  }
  return cases;
}
