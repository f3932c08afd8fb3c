// What a completion sees of the document it is asked in: the text before and after the
// cursor, cut to budgets at line boundaries, or a reason why the document is skipped.

import type { CursorTokens } from './prompt';

/** Documents larger than this are not read for completions (the editor stays responsive). */
export const maxDocumentChars = 5_000_000;

/** Rough characters per token for code, used only to cut text before tokenization. */
export const charsPerTokenEstimate = 4;

/**
 * Characters per token for sizing the text around the cursor: fewer than code's usual 3.5,
 * so the text cut by characters fits its token cap and the worker rarely cuts tokens off
 * its start (a cut that moved at every keystroke would defeat the prefix cache).
 */
export const cursorCharsPerToken = 3;

export interface CursorText {
  prefix: string;
  suffix: string;
  /** Whether text was cut off the start of the prefix or the end of the suffix. */
  truncated: boolean;
}

export type SkipReason = 'too_large' | 'binary';

/** Why a document should not be sent to the model, or undefined when it is fine. */
export function skipReason(text: string): SkipReason | undefined {
  if (text.length > maxDocumentChars) return 'too_large';
  // Look at a window at the start: NUL bytes or many replacement characters (from bytes
  // that were not valid UTF-8) mean the editor is showing a binary file as text.
  const sample = text.slice(0, 8192);
  if (sample.includes('\u0000')) return 'binary';
  let replaced = 0;
  for (const ch of sample) if (ch === '\uFFFD') replaced++;
  if (sample.length > 0 && replaced / sample.length > 0.05) return 'binary';
  return undefined;
}

export function describeSkip(reason: SkipReason, path: string): string {
  return reason === 'too_large'
    ? `Heed skipped ${path}: it is larger than ${maxDocumentChars / 1_000_000} million characters.`
    : `Heed skipped ${path}: it looks binary (NUL bytes or invalid UTF-8).`;
}

/** The prefix's start moves in steps of this share of its budget (see prefixStart). */
const prefixStepShare = 1 / 4;

/**
 * Where the text before the cursor starts: a line start at or after the first point of a grid
 * of step prefixChars / 4 that keeps the prefix within prefixChars. Typing at the cursor moves
 * it once every step, not at every keystroke: a start that moved would change every token
 * after it, and the prefix cache could reuse nothing of the cursor's part.
 */
export function prefixStart(text: string, offset: number, prefixChars: number): number {
  if (offset <= prefixChars) return 0;
  const step = Math.max(1, Math.floor(prefixChars * prefixStepShare));
  const grid = Math.ceil((offset - prefixChars) / step) * step;
  const lineStart = text.indexOf('\n', grid - 1) + 1;
  // No line break between the grid point and the cursor (one very long line): cut inside it.
  return lineStart > 0 && lineStart <= offset ? lineStart : grid;
}

/**
 * Splits `text` at `offset` and cuts each side to its character budget at line
 * boundaries: the prefix keeps its last lines (from prefixStart), the suffix its first.
 */
export function cursorText(text: string, offset: number, prefixChars: number, suffixChars: number): CursorText {
  const start = prefixStart(text, offset, prefixChars);
  const prefix = text.slice(start, offset);
  let suffix = text.slice(offset);
  let truncated = start > 0;
  if (suffix.length > suffixChars) {
    const lineEnd = suffix.lastIndexOf('\n', suffixChars);
    suffix = lineEnd > 0 ? suffix.slice(0, lineEnd + 1) : suffix.slice(0, suffixChars);
    truncated = true;
  }
  return { prefix, suffix, truncated };
}

/**
 * Token caps on the text before and after the cursor, within the current file's budget:
 * the suffix keeps up to `suffixShare` of it, the prefix the rest, so the current file never
 * takes tokens meant for workspace files. The room the suffix leaves is estimated from its
 * length, so that a short suffix (the end of a file) leaves its share to the prefix; without
 * fill-in-the-middle the suffix is not in the prompt and the prefix may take it all.
 */
export function cursorTokenCaps(budgetTokens: number, suffixChars: number, suffixShare: number, withSuffix: boolean): CursorTokens {
  const suffixMaxTokens = withSuffix ? Math.floor(budgetTokens * suffixShare) : 0;
  const suffixEstimateTokens = Math.ceil(suffixChars / charsPerTokenEstimate);
  return { prefixMaxTokens: budgetTokens - Math.min(suffixMaxTokens, suffixEstimateTokens), suffixMaxTokens };
}
