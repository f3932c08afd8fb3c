// The order of the chosen workspace files in the prompt, made for the worker's prefix
// cache: a prompt reuses the tokens it shares at its start with an earlier one, so files
// least likely to change come first. Files not edited in this session go first, the
// longest unchanged on disk first (then by path): a file changed outside the editor (a
// `git checkout`, a generator) or created moves to the end of them instead of
// invalidating everything after its place, and after a restart the files edited last time
// are still last, so a saved prefix still fits. Then files edited in this session by their
// last edit, oldest first; the active file is the FIM part after them all. Rank decides which files are in and which drop
// first when the exact token count is over budget (dropRank); it never decides the order,
// so a keystroke or a change of active file leaves the other files where they were.

import type { PromptParts } from '../worker/messages';

export interface ContextFile {
  /** The path the prompt shows. */
  path: string;
  text: string;
  /** 1 for the best-ranked file, higher for the less relevant (dropped first). */
  dropRank: number;
  /** When it was last edited in this session; undefined if it was not. */
  lastEditMs?: number;
  /** When it last changed on disk; 0 when unknown (a document not saved yet). */
  modifiedMs?: number;
}

const byPath = (a: ContextFile, b: ContextFile) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0);

/** `files` in prompt order: never edited by time on disk then path, then edited by last edit (oldest first). */
export function cacheStableOrder(files: readonly ContextFile[]): ContextFile[] {
  const untouched = files.filter((file) => file.lastEditMs === undefined).sort((a, b) => (a.modifiedMs ?? 0) - (b.modifiedMs ?? 0) || byPath(a, b));
  const edited = files.filter((file) => file.lastEditMs !== undefined).sort((a, b) => a.lastEditMs! - b.lastEditMs! || byPath(a, b));
  return [...untouched, ...edited];
}

/**
 * Each file as the model was trained to see one: its separator, its path line and its
 * text ending in a line break, the three parts one droppable unit.
 */
export function contextParts(files: readonly ContextFile[]): PromptParts {
  return cacheStableOrder(files).flatMap((file): PromptParts => [
    { special: 'fileSep', dropRank: file.dropRank },
    { text: `${file.path}\n`, dropRank: file.dropRank },
    { text: file.text.endsWith('\n') ? file.text : `${file.text}\n`, dropRank: file.dropRank },
  ]);
}
