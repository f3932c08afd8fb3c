// The completion prompt, in the repo-level layout of Qwen2.5-Coder:
//   <|repo_name|>NAME\n  [workspace files: <|file_sep|>PATH\nTEXT …]  <|file_sep|>path\n
//   then the cursor part, in the model's FIM order:
//   SPM:         <|fim_suffix|>suffix<|fim_prefix|>prefix<|fim_middle|>   (Heed's own models)
//   PSM:         <|fim_prefix|>prefix<|fim_suffix|>suffix<|fim_middle|>   (Qwen2.5-Coder)
//   prefix-only: prefix            (models without fill-in-the-middle tokens)
// The workspace files come ready-made (server/context/assemble.ts): this module only
// places them between the repo name and the current file.

import type { FimOrder, SpecialTokens } from '../../engine/types';
import type { PromptParts } from '../../worker/messages';
import type { CursorText } from './documentContext';

export type PromptFormat = FimOrder | 'prefix';

/** Most tokens the worker keeps of the text before and after the cursor, whatever the prompt's budget. */
export interface CursorTokens {
  prefixMaxTokens: number;
  suffixMaxTokens: number;
}

export interface PromptExtras {
  /** Other workspace files' parts, placed after the repo name. */
  workspace?: PromptParts;
  cursorTokens?: CursorTokens;
}

/** The model's FIM order when the tokenizer has all three FIM tokens, else prefix-only. */
export function promptFormatFor(special: SpecialTokens, fimOrder: FimOrder): PromptFormat {
  return special.fimPrefix !== undefined && special.fimSuffix !== undefined && special.fimMiddle !== undefined ? fimOrder : 'prefix';
}

/** The prompt's first part, the repository's name, when the model has the token for it: every prompt of a workspace starts with it. */
export function repoHeader(special: SpecialTokens, repoName: string): PromptParts {
  return special.repoName !== undefined ? [{ special: 'repoName' }, { text: `${repoName}\n` }] : [];
}

export function completionPrompt(special: SpecialTokens, fimOrder: FimOrder, repoName: string, path: string, cursor: CursorText, extras: PromptExtras = {}): PromptParts {
  const parts: PromptParts = repoHeader(special, repoName);
  if (extras.workspace) parts.push(...extras.workspace);
  if (special.fileSep !== undefined) parts.push({ special: 'fileSep' }, { text: `${path}\n` });
  const caps = extras.cursorTokens;
  const prefixText = { text: cursor.prefix, cut: 'start' as const, ...(caps ? { maxTokens: caps.prefixMaxTokens } : {}) };
  const suffixText = { text: cursor.suffix, cut: 'end' as const, ...(caps ? { maxTokens: caps.suffixMaxTokens } : {}) };
  const prefix: PromptParts = [{ special: 'fimPrefix' }, prefixText];
  const suffix: PromptParts = [{ special: 'fimSuffix' }, suffixText];
  const format = promptFormatFor(special, fimOrder);
  if (format === 'psm') parts.push(...prefix, ...suffix, { special: 'fimMiddle' });
  else if (format === 'spm') parts.push(...suffix, ...prefix, { special: 'fimMiddle' });
  else parts.push(prefixText);
  return parts;
}

/** Token budgets of a prompt that leaves room for `generatedTokens`: the whole prompt's, and the workspace files' part of it. */
export interface PromptBudgets {
  maxPromptTokens: number;
  workspaceBudgetTokens: number;
}

/**
 * The current file's budget plus the workspace files', within the model's context. When
 * the context is shorter than both, the current file keeps its budget and workspace files
 * get what is left (by estimate; the worker's exact count drops the least relevant files
 * whole if they are still over). No workspace files for a model without file separators.
 */
export function promptBudgets(maxPositions: number, special: SpecialTokens, settings: { maxPromptTokens: number; contextMaxTokens: number }, generatedTokens: number): PromptBudgets {
  const contextTokens = maxPositions - generatedTokens - 1;
  return {
    maxPromptTokens: Math.min(settings.maxPromptTokens + settings.contextMaxTokens, contextTokens),
    workspaceBudgetTokens: special.fileSep === undefined ? 0 : Math.min(settings.contextMaxTokens, contextTokens - settings.maxPromptTokens),
  };
}
