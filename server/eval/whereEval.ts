// "Where is …" questions (heed eval-where): each case is a question about a workspace and
// the file line that answers it. The question is asked as the ask feature asks it (the
// repo header, the workspace's files as a completion's context, then askPrompt's parts),
// and the answer is scored by where that line ranks among the report's spans: those of
// the question's own tokens (EvidenceReport.questionSpans, what the ask panel lists first)
// and those of the question and answer together (EvidenceReport.spans).

import { readFileSync } from 'node:fs';
import type { EvidenceSpan } from '../protocol';
import type { SpecialTokens } from '../engine/types';
import type { PromptParts } from '../worker/messages';
import { contextParts } from '../context/assemble';
import { repoHeader } from '../features/completion/prompt';
import { askPrompt, type AskPrompt } from '../features/ask/askPrompt';
import type { SourceFile } from './caseGen';
import { seededRandom } from '../engine/sampling';

export interface WhereCase {
  id: string;
  question: string;
  /** The answer: a workspace-relative path and its 1-based line. */
  path: string;
  line: number;
}

/** Cases from a JSON-lines file: {"question", "path", "line"} (1-based), an "id" optional. A line that is not one is an error naming it. */
export function readWhereCases(file: string): WhereCase[] {
  const cases: WhereCase[] = [];
  readFileSync(file, 'utf8')
    .split('\n')
    .forEach((text, i) => {
      if (text.trim() === '') return;
      let value: Partial<WhereCase>;
      try {
        value = JSON.parse(text) as Partial<WhereCase>;
      } catch (error) {
        throw new Error(`${file}:${i + 1}: not JSON (${error instanceof Error ? error.message : String(error)})`);
      }
      const { question, path, line } = value;
      if (typeof question !== 'string' || question.trim() === '' || typeof path !== 'string' || path === '' || !Number.isInteger(line) || line! < 1) {
        throw new Error(`${file}:${i + 1}: a case needs "question" (text), "path" and "line" (1-based)`);
      }
      cases.push({ id: typeof value.id === 'string' ? value.id : `where-${cases.length + 1}`, question, path, line: line! });
    });
  return cases;
}

/** The question's prompt over `files` (the workspace's context, in cache-stable order) and which of its parts evidence counts from and maps to files. */
export interface WherePrompt {
  parts: PromptParts;
  /** The part whose tokens and those after it are the question's (EvidenceRequest.fromPart). */
  fromPart: number;
  /** Parts from here on are the question's own: never places. */
  questionStart: number;
  stop: string[];
}

export function wherePrompt(files: readonly SourceFile[], repoName: string, question: string, special: SpecialTokens): WherePrompt {
  return questionPrompt(workspacePrompt(files, repoName, special), question, special);
}

/** The repo header and `files` as a completion's workspace context: what every question of a run starts with. */
export function workspacePrompt(files: readonly SourceFile[], repoName: string, special: SpecialTokens): PromptParts {
  return [...repoHeader(special, repoName), ...contextParts(files.map((file, i) => ({ path: file.path, text: file.text, dropRank: i + 1 })))];
}

/** A question after `workspace` (workspacePrompt), as the ask feature puts it. */
export function questionPrompt(workspace: PromptParts, question: string, special: SpecialTokens): WherePrompt {
  const asked: AskPrompt = askPrompt({ question, kind: 'workspace', history: [] }, special);
  return { parts: [...workspace, ...asked.parts], fromPart: workspace.length + asked.askedPart, questionStart: workspace.length, stop: asked.stop };
}

/** The 1-based rank of the first of `spans` (a report's, best first) holding `path`:`line` (1-based), or null when none does. */
export function spanRank(spans: readonly EvidenceSpan[] | undefined, path: string, line: number): number | null {
  const index = (spans ?? []).findIndex((span) => span.path === path && span.startLine + 1 <= line && line <= span.endLine + 1);
  return index < 0 ? null : index + 1;
}

/** Per list: the share of cases whose answer is the first span, in the top 3, and the mean reciprocal rank (0 when absent). */
export interface RankSummary {
  cases: number;
  hitAt1: number;
  hitAt3: number;
  meanReciprocalRank: number;
}

export function summarizeRanks(ranks: ReadonlyArray<number | null>): RankSummary {
  const n = ranks.length;
  const share = (hits: number) => (n > 0 ? Number((hits / n).toFixed(4)) : 0);
  return {
    cases: n,
    hitAt1: share(ranks.filter((rank) => rank === 1).length),
    hitAt3: share(ranks.filter((rank) => rank !== null && rank <= 3).length),
    meanReciprocalRank: share(ranks.reduce<number>((sum, rank) => sum + (rank === null ? 0 : 1 / rank), 0)),
  };
}

/** A top-level definition's name: Python `def`/`class`/`NAME =` at the line's start; TypeScript and JavaScript the same words after an optional `export`. */
const topLevelDefinition: Record<'python' | 'script', RegExp> = {
  python: /^(?:async\s+)?(?:def|class)\s+([A-Za-z_]\w*)|^([A-Za-z_]\w*)\s*(?::[^=\n]*)?=[^=]/,
  script: /^(?:export\s+)?(?:default\s+)?(?:async\s+)?(?:function\*?|class|interface|type|enum|const|let|var)\s+([A-Za-z_$][\w$]*)/,
};

/**
 * "Where is NAME defined?" for up to `count` top-level definitions of `files`, drawn with
 * `seed`: each names what it asks for, so these measure finding a named place among the
 * workspace's lines, not understanding a paraphrase. Names defined more than once, or
 * shorter than 4 characters, are left out (the answer would be ambiguous or too common).
 */
export function definitionCases(files: readonly SourceFile[], count: number, seed: number): WhereCase[] {
  const found = new Map<string, Array<{ path: string; line: number }>>();
  for (const file of files) {
    const pattern = file.path.endsWith('.py') ? topLevelDefinition.python : topLevelDefinition.script;
    file.text.split('\n').forEach((text, i) => {
      const match = pattern.exec(text);
      const name = match?.[1] ?? match?.[2];
      if (!name || name.length < 4 || name.startsWith('__')) return;
      found.set(name, [...(found.get(name) ?? []), { path: file.path, line: i + 1 }]);
    });
  }
  const unique = [...found].filter(([, places]) => places.length === 1).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  const random = seededRandom(seed);
  const chosen: WhereCase[] = [];
  while (chosen.length < count && unique.length > 0) {
    const [name, [place]] = unique.splice(Math.floor(random() * unique.length), 1)[0];
    chosen.push({ id: `define-${name}`, question: `Where is ${name} defined?`, path: place.path, line: place.line });
  }
  return chosen.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
}
