// Completion cases in the JSONL format of EVAL.md, one a line:
//   { id, language?, workspace: { path: text }, path, prefix, suffix, target, kind, ... }
// Unknown fields are ignored. A malformed line is an error that names its line number.

import { readFileSync } from 'node:fs';

export interface CompletionCase {
  id: string;
  kind: string;
  /** The other files of the repository, path → text, in the order the case gives them. */
  workspace: Record<string, string>;
  path: string;
  prefix: string;
  suffix: string;
  target: string;
  language?: string;
  /** The repository's name for `<|repo_name|>`; "workspace" when absent. */
  repo?: string;
  /** Needle cases: tokens between the definition and its use. */
  needle_distance_tokens?: number;
}

export class CaseFormatError extends Error {
  constructor(
    readonly file: string,
    readonly line: number,
    problem: string,
  ) {
    super(`${file}:${line}: ${problem}`);
    this.name = 'CaseFormatError';
  }
}

function parseCase(text: string, file: string, line: number): CompletionCase {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    throw new CaseFormatError(file, line, `not JSON (${(e as Error).message})`);
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw new CaseFormatError(file, line, 'not a JSON object');
  const r = raw as Record<string, unknown>;
  for (const key of ['id', 'path', 'prefix', 'suffix', 'target', 'kind'] as const) {
    if (typeof r[key] !== 'string') throw new CaseFormatError(file, line, `"${key}" must be a string`);
  }
  const workspace = r.workspace ?? {};
  if (typeof workspace !== 'object' || workspace === null || Array.isArray(workspace)) throw new CaseFormatError(file, line, '"workspace" must be an object of path → text');
  for (const [path, content] of Object.entries(workspace)) {
    if (typeof content !== 'string') throw new CaseFormatError(file, line, `workspace file ${JSON.stringify(path)} must be a string`);
  }
  return {
    id: r.id as string,
    kind: r.kind as string,
    workspace: workspace as Record<string, string>,
    path: r.path as string,
    prefix: r.prefix as string,
    suffix: r.suffix as string,
    target: r.target as string,
    ...(typeof r.language === 'string' ? { language: r.language } : {}),
    ...(typeof r.repo === 'string' ? { repo: r.repo } : {}),
    ...(typeof r.needle_distance_tokens === 'number' ? { needle_distance_tokens: r.needle_distance_tokens } : {}),
  };
}

/**
 * The cases of a JSONL file (blank lines skipped). A malformed line or a duplicate id does
 * not stop the reading: it is returned among `problems`, for the run to report.
 */
export function readCases(file: string): { cases: CompletionCase[]; problems: CaseFormatError[] } {
  const cases: CompletionCase[] = [];
  const problems: CaseFormatError[] = [];
  const ids = new Set<string>();
  const lines = readFileSync(file, 'utf8').split('\n');
  for (const [i, text] of lines.entries()) {
    if (text.trim() === '') continue;
    try {
      const c = parseCase(text, file, i + 1);
      if (ids.has(c.id)) throw new CaseFormatError(file, i + 1, `duplicate id ${JSON.stringify(c.id)}`);
      ids.add(c.id);
      cases.push(c);
    } catch (e) {
      if (!(e instanceof CaseFormatError)) throw e;
      problems.push(e);
    }
  }
  return { cases, problems };
}
