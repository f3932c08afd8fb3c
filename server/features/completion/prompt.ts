// The completion prompt, in the repo-level layout of Qwen2.5-Coder:
//   <|repo_name|>NAME\n<|file_sep|>path\n  then the cursor part, in the model's FIM order:
//   SPM:         <|fim_suffix|>suffix<|fim_prefix|>prefix<|fim_middle|>   (Heed's own models)
//   PSM:         <|fim_prefix|>prefix<|fim_suffix|>suffix<|fim_middle|>   (Qwen2.5-Coder)
//   prefix-only: prefix            (models without fill-in-the-middle tokens)
// Other workspace files will stand between the repo name and the current file.

import type { FimOrder, SpecialTokens } from '../../engine/types';
import type { PromptParts } from '../../worker/messages';
import type { CursorText } from './documentContext';

export type PromptFormat = FimOrder | 'prefix';

/** The model's FIM order when the tokenizer has all three FIM tokens, else prefix-only. */
export function promptFormatFor(special: SpecialTokens, fimOrder: FimOrder): PromptFormat {
  return special.fimPrefix !== undefined && special.fimSuffix !== undefined && special.fimMiddle !== undefined ? fimOrder : 'prefix';
}

export function completionPrompt(special: SpecialTokens, fimOrder: FimOrder, repoName: string, path: string, cursor: CursorText): PromptParts {
  const parts: PromptParts = [];
  if (special.repoName !== undefined) parts.push({ special: 'repoName' }, { text: `${repoName}\n` });
  if (special.fileSep !== undefined) parts.push({ special: 'fileSep' }, { text: `${path}\n` });
  const prefix: PromptParts = [{ special: 'fimPrefix' }, { text: cursor.prefix, cut: 'start' }];
  const suffix: PromptParts = [{ special: 'fimSuffix' }, { text: cursor.suffix, cut: 'end' }];
  const format = promptFormatFor(special, fimOrder);
  if (format === 'psm') parts.push(...prefix, ...suffix, { special: 'fimMiddle' });
  else if (format === 'spm') parts.push(...suffix, ...prefix, { special: 'fimMiddle' });
  else parts.push({ text: cursor.prefix, cut: 'start' });
  return parts;
}
