// Turning prompt parts into token ids within a token budget. Parts marked `cut` give up
// tokens from their marked end; everything else is kept whole.

import type { SpecialTokens } from './types';
import type { PromptParts } from '../worker/messages';

export interface PromptTokenizer {
  encode(text: string): number[];
  readonly special: SpecialTokens;
}

export function tokenizePrompt(tokenizer: PromptTokenizer, parts: PromptParts, maxTokens: number): number[] {
  const pieces: { ids: number[]; cut?: 'start' | 'end' }[] = parts.map((part) => {
    if ('text' in part) return { ids: part.text.length > 0 ? tokenizer.encode(part.text) : [], cut: part.cut };
    const id = tokenizer.special[part.special];
    if (id === undefined) throw new Error(`the model's tokenizer has no ${part.special} token`);
    return { ids: [id] };
  });
  let total = pieces.reduce((sum, piece) => sum + piece.ids.length, 0);
  const cuttable = pieces.filter((piece) => piece.cut);
  const fixed = total - cuttable.reduce((sum, piece) => sum + piece.ids.length, 0);
  if (fixed > maxTokens) throw new Error(`the prompt's fixed parts take ${fixed} tokens, over the budget of ${maxTokens}`);
  // Shrink the longest cuttable piece first, so that a short suffix survives a long prefix.
  while (total > maxTokens) {
    const longest = cuttable.reduce((a, b) => (b.ids.length > a.ids.length ? b : a));
    const second = cuttable.filter((piece) => piece !== longest).reduce((max, piece) => Math.max(max, piece.ids.length), 0);
    const remove = Math.min(total - maxTokens, Math.max(1, longest.ids.length - second));
    longest.ids = longest.cut === 'start' ? longest.ids.slice(remove) : longest.ids.slice(0, longest.ids.length - remove);
    total -= remove;
  }
  return pieces.flatMap((piece) => piece.ids);
}
