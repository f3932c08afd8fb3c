// The completion prompt, in the repo-level layout of Qwen2.5-Coder:
//   <|repo_name|>NAME\n<|file_sep|>path\n  then the cursor part:
//   FIM (PSM):   <|fim_prefix|>prefix<|fim_suffix|>suffix<|fim_middle|>
//   prefix-only: prefix            (models without fill-in-the-middle tokens)
// Other workspace files will stand between the repo name and the current file.

import type { SpecialTokens } from '../../engine/types';
import type { PromptParts } from '../../worker/messages';
import type { CursorText } from './documentContext';

export type PromptFormat = 'fim' | 'prefix';

/** FIM when the tokenizer has all three FIM tokens, else prefix-only. */
export function promptFormatFor(special: SpecialTokens): PromptFormat {
  return special.fimPrefix !== undefined && special.fimSuffix !== undefined && special.fimMiddle !== undefined ? 'fim' : 'prefix';
}

export function completionPrompt(special: SpecialTokens, repoName: string, path: string, cursor: CursorText): PromptParts {
  const parts: PromptParts = [];
  if (special.repoName !== undefined) parts.push({ special: 'repoName' }, { text: `${repoName}\n` });
  if (special.fileSep !== undefined) parts.push({ special: 'fileSep' }, { text: `${path}\n` });
  if (promptFormatFor(special) === 'fim') {
    parts.push(
      { special: 'fimPrefix' },
      { text: cursor.prefix, cut: 'start' },
      { special: 'fimSuffix' },
      { text: cursor.suffix, cut: 'end' },
      { special: 'fimMiddle' },
    );
  } else {
    parts.push({ text: cursor.prefix, cut: 'start' });
  }
  return parts;
}
