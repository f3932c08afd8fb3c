// The prompt for a completion case, in Heed's repo-level layout:
//   <|repo_name|>REPO\n  <|file_sep|>PATH\nTEXT … (workspace files)  <|file_sep|>PATH\n FIM part
// The current file gets up to `prefixTokens` before the cursor and `suffixTokens` after
// it; workspace files fill what is left of `contextTokens`, whole files only. Which files:
// the ones nearest the current file's path (longest common path prefix) are chosen first
// and placed last, nearest the cursor. A needle case keeps its own order: its depth is the
// point of the case.

import type { FimOrder, Tokenizer } from '../engine/types';
import type { PromptParts } from '../worker/messages';
import { completionPrompt } from '../features/completion/prompt';
import type { CompletionCase } from './cases';
import { nearestFirst } from './pathProximity';

export interface CaseBudget {
  contextTokens: number;
  prefixTokens: number;
  suffixTokens: number;
  /** false: the current file alone (the baseline that shows what the workspace adds). */
  withContext: boolean;
}

export interface CasePrompt {
  parts: PromptParts;
  /** Workspace files in the prompt, and the tokens the plan gives the whole prompt. */
  contextFiles: number;
  plannedTokens: number;
}

/** `text` without its first characters, so that at most `maxTokens` tokens remain (approximately, at the cut). */
function keepLastTokens(tokenizer: Tokenizer, text: string, maxTokens: number): { text: string; tokens: number } {
  const ids = tokenizer.encode(text);
  if (ids.length <= maxTokens) return { text, tokens: ids.length };
  const dropped = tokenizer.decode(ids.slice(0, ids.length - maxTokens)).length;
  return { text: text.slice(dropped), tokens: maxTokens };
}

function keepFirstTokens(tokenizer: Tokenizer, text: string, maxTokens: number): { text: string; tokens: number } {
  const ids = tokenizer.encode(text);
  if (ids.length <= maxTokens) return { text, tokens: ids.length };
  return { text: tokenizer.decode(ids.slice(0, maxTokens)), tokens: maxTokens };
}

export function casePrompt(c: CompletionCase, tokenizer: Tokenizer, fimOrder: FimOrder, budget: CaseBudget): CasePrompt {
  const repo = c.repo ?? 'workspace';
  const prefix = keepLastTokens(tokenizer, c.prefix, budget.prefixTokens);
  const suffix = keepFirstTokens(tokenizer, c.suffix, budget.suffixTokens);
  const cursorPart = completionPrompt(tokenizer.special, fimOrder, repo, c.path, { prefix: prefix.text, suffix: suffix.text, truncated: false });
  const fixedTokens = prefix.tokens + suffix.tokens + tokenizer.encode(`${repo}\n${c.path}\n`).length + 6;
  if (fixedTokens > budget.contextTokens) throw new Error(`case ${c.id}: the current file alone takes ${fixedTokens} tokens, over the context budget of ${budget.contextTokens}`);

  // A needle case keeps its order and stops at the first file that does not fit (its depth
  // is the point); otherwise the nearest files that fit are kept, the nearest placed last.
  const needle = c.kind === 'needle';
  const files: string[] = [];
  let room = budget.contextTokens - fixedTokens;
  if (budget.withContext) {
    const paths = needle ? Object.keys(c.workspace) : nearestFirst(Object.keys(c.workspace), c.path);
    for (const path of paths) {
      const tokens = tokenizer.encode(`${path}\n${c.workspace[path]}`).length + 1;
      if (tokens > room) {
        if (needle) break;
        continue;
      }
      if (needle) files.push(path);
      else files.unshift(path);
      room -= tokens;
    }
  }

  // The repo name part comes first; workspace files stand between it and the current file.
  const headLength = tokenizer.special.repoName !== undefined ? 2 : 0;
  const parts: PromptParts = [
    ...cursorPart.slice(0, headLength),
    ...files.flatMap((path): PromptParts => [{ special: 'fileSep' }, { text: `${path}\n${c.workspace[path]}` }]),
    ...cursorPart.slice(headLength),
  ];
  return { parts, contextFiles: files.length, plannedTokens: budget.contextTokens - room };
}
