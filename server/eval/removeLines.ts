// Lines of a prompt's text parts, as evidence names them ({ part, line }: the index in the
// prompt parts array and the 0-based line within that part's text), and the prompt with
// some of them removed. The evidence eval removes lines and measures what the completion's
// log-probability loses.

import type { PromptParts } from '../worker/messages';

/** A line of one text part: `part` indexes the prompt parts, `line` counts '\n' within its text (0-based). */
export interface PartLine {
  part: number;
  line: number;
}

export function lineKey(l: PartLine): string {
  return `${l.part}:${l.line}`;
}

/**
 * The lines a removal may take: every line with non-whitespace text in a text part, except
 * the cursor's line, which is the last line of the text before the cursor and the first
 * of the text after it. Those two parts are the ones completionPrompt marks `cut: 'start'`
 * (before the cursor) and `cut: 'end'` (after it): removing the cursor's line would change
 * the completion's own line, not its context. In prompt order.
 */
export function candidateLines(parts: PromptParts): PartLine[] {
  const lines: PartLine[] = [];
  parts.forEach((p, part) => {
    if (!('text' in p)) return;
    const texts = p.text.split('\n');
    texts.forEach((text, line) => {
      if (text.trim() === '') return;
      if (p.cut === 'start' && line === texts.length - 1) return;
      if (p.cut === 'end' && line === 0) return;
      lines.push({ part, line });
    });
  });
  return lines;
}

/**
 * The prompt without `lines`: each line's text and its line break are deleted from its part.
 * A part's last line has no break after it, so its removal takes the break before it
 * instead (no empty line is left in its place). Other parts are shared, not copied.
 */
export function removeLines(parts: PromptParts, lines: PartLine[]): PromptParts {
  const byPart = new Map<number, Set<number>>();
  for (const { part, line } of lines) {
    const p = parts[part];
    if (p === undefined || !('text' in p)) throw new Error(`part ${part} is not a text part of the prompt`);
    const count = p.text.split('\n').length;
    if (line < 0 || line >= count) throw new Error(`part ${part} has ${count} lines, not a line ${line}`);
    byPart.set(part, (byPart.get(part) ?? new Set()).add(line));
  }
  return parts.map((p, part) => {
    const removed = byPart.get(part);
    if (removed === undefined || !('text' in p)) return p;
    const kept = p.text.split('\n').filter((_, line) => !removed.has(line));
    return { ...p, text: kept.join('\n') };
  });
}
