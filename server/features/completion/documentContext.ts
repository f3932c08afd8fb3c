// What a completion sees of the document it is asked in: the text before and after the
// cursor, cut to budgets at line boundaries, or a reason why the document is skipped.

/** Documents larger than this are not read for completions (the editor stays responsive). */
export const maxDocumentChars = 5_000_000;

/** Rough characters per token for code, used only to cut text before tokenization. */
export const charsPerTokenEstimate = 4;

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

/**
 * Splits `text` at `offset` and cuts each side to its character budget at line
 * boundaries: the prefix keeps its last lines, the suffix its first.
 */
export function cursorText(text: string, offset: number, prefixChars: number, suffixChars: number): CursorText {
  let prefix = text.slice(0, offset);
  let suffix = text.slice(offset);
  let truncated = false;
  if (prefix.length > prefixChars) {
    const start = prefix.length - prefixChars;
    const lineStart = prefix.indexOf('\n', start);
    prefix = lineStart >= 0 && lineStart < prefix.length - 1 ? prefix.slice(lineStart + 1) : prefix.slice(start);
    truncated = true;
  }
  if (suffix.length > suffixChars) {
    const lineEnd = suffix.lastIndexOf('\n', suffixChars);
    suffix = lineEnd > 0 ? suffix.slice(0, lineEnd + 1) : suffix.slice(0, suffixChars);
    truncated = true;
  }
  return { prefix, suffix, truncated };
}
