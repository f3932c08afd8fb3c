// Where accepted completions are in their documents as the user goes on editing: each is
// a range of offsets, moved by every later change. A change is found by comparing the old
// and new text (common start and end), so it needs nothing from the client but the
// document sync every server already has.

/** Half-open [start, end) in a document's text. */
export interface OffsetRange {
  start: number;
  end: number;
}

/** The span that changed between two texts: old [start, oldEnd) became new [start, newEnd). */
export function changedSpan(oldText: string, newText: string): { start: number; oldEnd: number; newEnd: number } | undefined {
  if (oldText === newText) return undefined;
  const shorter = Math.min(oldText.length, newText.length);
  let start = 0;
  while (start < shorter && oldText.charCodeAt(start) === newText.charCodeAt(start)) start++;
  let common = 0;
  while (common < shorter - start && oldText.charCodeAt(oldText.length - 1 - common) === newText.charCodeAt(newText.length - 1 - common)) common++;
  return { start, oldEnd: oldText.length - common, newEnd: newText.length - common };
}

/**
 * The range after a change: unchanged before it, shifted after it, grown or shrunk when the
 * change is inside it (the user edits the accepted text); undefined when the change
 * swallowed it whole.
 */
export function moveRange(range: OffsetRange, oldText: string, newText: string): OffsetRange | undefined {
  const change = changedSpan(oldText, newText);
  if (!change) return range;
  const delta = change.newEnd - change.oldEnd;
  if (change.oldEnd <= range.start) return { start: range.start + delta, end: range.end + delta };
  if (change.start >= range.end) return range;
  if (change.start <= range.start && change.oldEnd >= range.end) return undefined;
  const start = change.start < range.start ? change.newEnd : range.start;
  const end = change.oldEnd >= range.end ? change.newEnd : range.end + delta;
  return end > start ? { start, end } : undefined;
}

interface Accepted {
  id: string;
  range: OffsetRange;
}

/** Accepted completions per document, kept while their text exists; the oldest go past `maxPerDocument`. */
export class AcceptedRanges {
  private readonly byUri = new Map<string, { text: string; accepted: Accepted[] }>();

  constructor(private readonly maxPerDocument = 50) {}

  /** Records text inserted at `offset` of the document whose text (after the insertion) is `text`. */
  add(uri: string, text: string, id: string, offset: number, length: number): void {
    const doc = this.byUri.get(uri) ?? { text, accepted: [] };
    doc.text = text;
    doc.accepted.push({ id, range: { start: offset, end: offset + length } });
    if (doc.accepted.length > this.maxPerDocument) doc.accepted.shift();
    this.byUri.set(uri, doc);
  }

  /** Follows a document's new text. */
  changed(uri: string, text: string): void {
    const doc = this.byUri.get(uri);
    if (!doc || doc.text === text) return;
    doc.accepted = doc.accepted.flatMap((a) => {
      const range = moveRange(a.range, doc.text, text);
      return range ? [{ id: a.id, range }] : [];
    });
    doc.text = text;
    if (doc.accepted.length === 0) this.byUri.delete(uri);
  }

  closed(uri: string): void {
    this.byUri.delete(uri);
  }

  /** The latest accepted completion whose text holds `offset` (its end included: the cursor right after it). */
  at(uri: string, offset: number): { id: string; range: OffsetRange } | undefined {
    const accepted = this.byUri.get(uri)?.accepted ?? [];
    for (let i = accepted.length - 1; i >= 0; i--) {
      const { range } = accepted[i];
      if (offset >= range.start && offset <= range.end) return accepted[i];
    }
    return undefined;
  }
}
