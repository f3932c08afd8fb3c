// The line that defines what a cross_file case's target needs from another file: the
// evidence eval asks whether evidence points at it (hit@k). Cases do not carry it, so it
// is found from the text: the target's identifiers that the case's own file never
// mentions but a workspace file does, and the first line of such a file that declares one
// of them (else the first line that contains one).

import type { PromptParts } from '../worker/messages';
import type { CompletionCase } from './cases';
import { editSimilarity, identifiers } from './metrics';
import { nearestFirst } from './pathProximity';
import { candidateLines, type PartLine } from './removeLines';
import { hitsAtK, rankedCandidates, type EvidenceMethod } from './evidenceEval';

export interface DefiningLine {
  identifier: string;
  path: string;
  /** 0-based line in the workspace file's text. */
  line: number;
  /** Whether the line declares the identifier (false: the first line that merely contains it). */
  declares: boolean;
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

function wordPattern(name: string): RegExp {
  return new RegExp(`(?<![\\w$])${escapeRegExp(name)}(?![\\w$])`);
}

/**
 * Lines that declare `name`: a keyword before it (function/class/const/let/var/def/
 * interface/type/enum, after any modifiers), an assignment or annotation at the start of
 * the line (`NAME = `, `self.NAME = `, `NAME: `), or an export line naming it.
 */
export function declarationPattern(name: string): RegExp {
  const n = escapeRegExp(name);
  const w = '(?![\\w$])';
  return new RegExp(
    [
      `(?:^|[^\\w$.])(?:function\\*?|class|const|let|var|def|interface|type|enum)\\s+${n}${w}`,
      `^\\s*(?:(?:self|this)\\.)?${n}\\s*(?::[^=\\n]*)?=(?![=>])`,
      `^\\s*(?:readonly\\s+)?${n}\\??\\s*:`,
      `^\\s*export\\b.*(?<![\\w$])${n}${w}`,
    ].join('|'),
  );
}

/**
 * The target's identifiers that do not occur in the case's own file (prefix + suffix) and
 * occur in at least one of `paths` (in the target's order, each once).
 */
export function foreignIdentifiers(c: CompletionCase, paths: string[]): string[] {
  const own = `${c.prefix}\n${c.suffix}`;
  const seen = new Set<string>();
  const result: string[] = [];
  for (const name of identifiers(c.target)) {
    if (seen.has(name)) continue;
    seen.add(name);
    const word = wordPattern(name);
    if (word.test(own)) continue;
    if (paths.some((p) => word.test(c.workspace[p] ?? ''))) result.push(name);
  }
  return result;
}

/** Each line of the files `paths` (nearest the case's path first) that `patternOf` one of `names` matches, with the first such name. */
function* linesNaming(c: CompletionCase, names: string[], paths: string[], patternOf: (name: string) => RegExp): Generator<{ name: string; path: string; line: number; text: string }> {
  const patterns = names.map((name) => ({ name, pattern: patternOf(name) }));
  for (const path of nearestFirst(paths, c.path)) {
    for (const [line, text] of (c.workspace[path] ?? '').split('\n').entries()) {
      const found = patterns.find((d) => d.pattern.test(text));
      if (found) yield { name: found.name, path, line, text };
    }
  }
}

/** definingLine for foreign identifiers `names` already found. */
function definingLineOf(c: CompletionCase, names: string[], paths: string[]): DefiningLine | undefined {
  const first = (patternOf: (name: string) => RegExp, declares: boolean): DefiningLine | undefined => {
    for (const { name, path, line } of linesNaming(c, names, paths, patternOf)) return { identifier: name, path, line, declares };
    return undefined;
  };
  return first(declarationPattern, true) ?? first(wordPattern, false);
}

/**
 * The defining line among the workspace files `paths` (default: all of the case's), the
 * files taken nearest to the case's path first: the first file with a line declaring a
 * foreign identifier gives its first such line; failing any declaration, the first line
 * that contains one. Undefined when the target uses no foreign identifier.
 */
export function definingLine(c: CompletionCase, paths: string[] = Object.keys(c.workspace)): DefiningLine | undefined {
  return definingLineOf(c, foreignIdentifiers(c, paths), paths);
}

export interface SourceLine extends DefiningLine {
  /** The line's edit similarity to the target (0–100), both trimmed. */
  similarity: number;
}

/** sourceLine for foreign identifiers `names` already found. */
function sourceLineOf(c: CompletionCase, names: string[], paths: string[]): SourceLine | undefined {
  const target = c.target.trim();
  let best: SourceLine | undefined;
  for (const { name, path, line, text } of linesNaming(c, names, paths, wordPattern)) {
    const similarity = editSimilarity(text.trim(), target);
    if (best === undefined || similarity > best.similarity) best = { identifier: name, path, line, declares: declarationPattern(name).test(text), similarity };
  }
  return best;
}

/**
 * The source line: of the lines of the workspace files `paths` that contain a foreign
 * identifier, the one most like the target line (edit similarity), the nearest file and
 * then the first line on ties. Where the defining line asks where a name is declared, this
 * asks where the completion could have been copied from: code often repeats a line across
 * files (a signature in a `.d.ts` beside its body in the `.js`, `set state(value: unknown);`
 * in every breaker), and a name like `value` or `client` is "declared" by lines that have
 * nothing to do with the target. Undefined when the target uses no foreign identifier.
 */
export function sourceLine(c: CompletionCase, paths: string[] = Object.keys(c.workspace)): SourceLine | undefined {
  return sourceLineOf(c, foreignIdentifiers(c, paths), paths);
}

/**
 * The workspace files casePrompt put in the prompt, path → index of its text part (a part
 * whose text is the file's path, a line break, then exactly the file's text).
 */
export function workspaceParts(c: CompletionCase, parts: PromptParts): Map<string, number> {
  const found = new Map<string, number>();
  parts.forEach((p, index) => {
    if (!('text' in p) || p.cut !== undefined) return;
    const path = p.text.slice(0, p.text.indexOf('\n'));
    if (Object.hasOwn(c.workspace, path) && p.text === `${path}\n${c.workspace[path]}`) found.set(path, index);
  });
  return found;
}

/**
 * Whether a prompt line is a line of another file, as the editor's "From other files" lists
 * them: a line of a workspace file part (files: workspaceParts), not its path on line 0.
 */
export function otherFileLine(files: Map<string, number>): (line: PartLine) => boolean {
  const parts = new Set(files.values());
  return (l) => parts.has(l.part) && l.line > 0;
}

/** Where a workspace file's line stands in the prompt: its part holds the path on line 0, so the file's line n is the part's line n + 1. */
export function promptLineOf(d: DefiningLine, filesInPrompt: Map<string, number>): PartLine | undefined {
  const part = filesInPrompt.get(d.path);
  return part === undefined ? undefined : { part, line: d.line + 1 };
}

export type HitExclusion = 'no_foreign_identifier' | 'defined_outside_prompt';

/** method → k → whether a line is among the method's top k candidate lines. */
type MethodHits = Record<EvidenceMethod, Record<string, boolean>>;

export interface CrossFileHit {
  /** Whether the defining line is among each method's top k candidate lines. */
  hits: MethodHits;
  /**
   * The same for any line of the prompt's workspace files that declares a foreign
   * identifier: code often declares a name in several files alike (`on: (handler) => {` in
   * every feature file), and the model may copy from any of them.
   */
  anyDeclarationHits: MethodHits;
  defining: DefiningLine;
  /** The same for the source line (sourceLine): the line most like the target among those holding a foreign identifier. */
  sourceHits: MethodHits;
  source: SourceLine;
  /**
   * Whether the defining line is among each method's top k lines of the other files, the
   * prompt's workspace files' lines alone (the case's own file's lines and the files' path
   * lines set aside): what the editor lists under "From other files", the context a user
   * cannot see from the cursor.
   */
  otherFileHits: MethodHits;
  /** The same for the source line: among the other files' lines alone, where the completion could have been copied from. */
  otherFileSourceHits: MethodHits;
  /** Each method's first lines of the other files (as many as the largest k), as `path:line` with the file's 0-based line, like `defining`. */
  otherFileTop: Record<EvidenceMethod, string[]>;
  /** Where the defining and the source line stand in the prompt. */
  definingAt: PartLine;
  sourceAt: PartLine;
  /** Each method's candidate lines in evidence order, as hit@k ranked them. */
  ranked: Record<EvidenceMethod, PartLine[]>;
}

/** Every line of the workspace files `paths` that declares one of `names`, as prompt lines. */
export function declaringPromptLines(c: CompletionCase, names: string[], files: Map<string, number>): PartLine[] {
  const patterns = names.map(declarationPattern);
  const lines: PartLine[] = [];
  for (const [path, part] of files) {
    for (const [line, text] of c.workspace[path].split('\n').entries()) if (patterns.some((p) => p.test(text))) lines.push({ part, line: line + 1 });
  }
  return lines;
}

/** Whether `where` is among the top k of each method's ranked lines. */
function methodHits(where: PartLine, ranked: Record<EvidenceMethod, PartLine[]>, ks: number[]): MethodHits {
  return { retrieval: hitsAtK(where, ranked.retrieval, ks), all: hitsAtK(where, ranked.all, ks) };
}

/** Each method's candidate lines in evidence order, and whether `where` is among the top k of each. */
function rankedHits(where: PartLine, parts: PromptParts, evidence: Record<EvidenceMethod, PartLine[]>, ks: number[]): { ranked: Record<EvidenceMethod, PartLine[]>; hits: MethodHits } {
  const candidates = candidateLines(parts);
  const ranked = { retrieval: rankedCandidates(evidence.retrieval, candidates), all: rankedCandidates(evidence.all, candidates) };
  return { ranked, hits: methodHits(where, ranked, ks) };
}

/**
 * hit@k for a cross-file case: whether the defining line (among the workspace files in the
 * prompt) is in each method's top k, and the same for the source line. Evidence is ranked as the removals rank it, among the
 * candidate lines only. A case without such a line says why instead.
 */
export function crossFileHit(c: CompletionCase, parts: PromptParts, evidence: Record<EvidenceMethod, PartLine[]>, ks: number[]): CrossFileHit | { excluded: HitExclusion } {
  const files = workspaceParts(c, parts);
  const paths = [...files.keys()];
  const names = foreignIdentifiers(c, paths);
  const defining = definingLineOf(c, names, paths);
  if (defining === undefined) return { excluded: definingLine(c) === undefined ? 'no_foreign_identifier' : 'defined_outside_prompt' };
  const where = promptLineOf(defining, files)!;
  const { ranked, hits } = rankedHits(where, parts, evidence, ks);
  const declaring = defining.declares ? declaringPromptLines(c, names, files) : [where];
  const anyHitsAtK = (r: PartLine[]) => Object.fromEntries(ks.map((k) => [String(k), declaring.some((d) => hitsAtK(d, r, [k])[String(k)])]));
  // Defined whenever the defining line is: both need a foreign identifier in these files.
  const source = sourceLineOf(c, names, paths)!;
  const sourceWhere = promptLineOf(source, files)!;
  const sourceHits = methodHits(sourceWhere, ranked, ks);
  const pathOfPart = new Map([...files].map(([path, part]) => [part, path]));
  const inOtherFile = otherFileLine(files);
  const otherFiles = { retrieval: ranked.retrieval.filter(inOtherFile), all: ranked.all.filter(inOtherFile) };
  const named = (r: PartLine[]) => r.slice(0, Math.max(...ks)).map((l) => `${pathOfPart.get(l.part)}:${l.line - 1}`);
  return {
    hits,
    anyDeclarationHits: { retrieval: anyHitsAtK(ranked.retrieval), all: anyHitsAtK(ranked.all) },
    defining,
    sourceHits,
    source,
    otherFileHits: methodHits(where, otherFiles, ks),
    otherFileSourceHits: methodHits(sourceWhere, otherFiles, ks),
    otherFileTop: { retrieval: named(otherFiles.retrieval), all: named(otherFiles.all) },
    definingAt: where,
    sourceAt: sourceWhere,
    ranked,
  };
}

/** The value a needle case's target repeats: the target without the call's closing `);` (TypeScript needles end so). */
function needleValue(target: string): string {
  return target.trim().replace(/\);?$/, '');
}

/** `NAME = value` or `export const name = value;`: the name, then the value without the `;`. */
const assignment = /([A-Za-z_$][\w$]*)\s*=\s*(.*?);?\s*$/;

/**
 * A needle case's defining line: the first line of a workspace file (nearest first) that
 * assigns the value the target repeats (`NAME = value`, `export const name = value;`).
 * The value is random, so no filler line holds it by chance.
 */
export function needleDefiningLine(c: CompletionCase, paths: string[] = Object.keys(c.workspace)): DefiningLine | undefined {
  const value = needleValue(c.target);
  if (value === '') return undefined;
  for (const path of nearestFirst(paths, c.path)) {
    for (const [line, text] of (c.workspace[path] ?? '').split('\n').entries()) {
      const assigned = assignment.exec(text);
      if (assigned && assigned[2] === value) return { identifier: assigned[1], path, line, declares: true };
    }
  }
  return undefined;
}

export type NeedleHitExclusion = 'no_value_line' | 'defined_outside_prompt';

/**
 * hit@k for a needle case: whether the line that assigns the value (needleDefiningLine),
 * in the prompt, is among each method's top k. A needle's answer can only be copied from
 * that one line, so this asks the evidence the plainest question there is.
 */
export function needleHit(c: CompletionCase, parts: PromptParts, evidence: Record<EvidenceMethod, PartLine[]>, ks: number[]): { hits: MethodHits; defining: DefiningLine } | { excluded: NeedleHitExclusion } {
  const files = workspaceParts(c, parts);
  const defining = needleDefiningLine(c, [...files.keys()]);
  if (defining === undefined) return { excluded: needleDefiningLine(c) === undefined ? 'no_value_line' : 'defined_outside_prompt' };
  return { hits: rankedHits(promptLineOf(defining, files)!, parts, evidence, ks).hits, defining };
}
