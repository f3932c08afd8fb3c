// Turning prompt parts into token ids within a token budget. A `cut` part is first cut to
// its own `maxTokens`; then, while the prompt is over budget, whole droppable units go
// (highest `dropRank` first: the least relevant workspace files), the others keeping their
// order; then `cut` parts give up tokens from their marked end. Everything else is kept
// whole. Whole texts are tokenized once per tokenizer and remembered: the same workspace
// files come with every keystroke.

import type { SpecialTokens } from './types';
import type { PromptParts } from '../worker/messages';

export interface PromptTokenizer {
  encode(text: string): number[];
  readonly special: SpecialTokens;
}

/**
 * Token ids of texts, least recently used forgotten first once their texts pass
 * `maxChars` in total. Ids are kept as 32-bit integers: half the memory of a JS array.
 */
export class TokenMemo {
  private readonly entries = new Map<string, Uint32Array>();
  private totalChars = 0;

  constructor(readonly maxChars: number) {}

  encode(tokenizer: PromptTokenizer, text: string): Uint32Array {
    const known = this.entries.get(text);
    if (known) {
      // Re-insertion moves it to the most recent end of the Map's order.
      this.entries.delete(text);
      this.entries.set(text, known);
      return known;
    }
    const ids = Uint32Array.from(tokenizer.encode(text));
    if (text.length > this.maxChars) return ids;
    this.entries.set(text, ids);
    this.totalChars += text.length;
    for (const [oldest] of this.entries) {
      if (this.totalChars <= this.maxChars) break;
      this.entries.delete(oldest);
      this.totalChars -= oldest.length;
    }
    return ids;
  }

  get chars(): number {
    return this.totalChars;
  }
}

/** Characters of remembered texts per tokenizer: several times a full workspace context. */
export const tokenMemoMaxChars = 32 << 20;
const memos = new WeakMap<PromptTokenizer, TokenMemo>();

function memoFor(tokenizer: PromptTokenizer): TokenMemo {
  let memo = memos.get(tokenizer);
  if (!memo) {
    memo = new TokenMemo(tokenMemoMaxChars);
    memos.set(tokenizer, memo);
  }
  return memo;
}

interface Piece {
  ids: readonly number[] | Uint32Array;
  cut?: 'start' | 'end';
  dropRank?: number;
  /** The prompt part it came from, and its ids before any cut (a start cut keeps their tail). */
  part: number;
  original: readonly number[] | Uint32Array;
}

/**
 * Where a text part's tokens landed in the prompt: the ids at prompt positions
 * [start, start + count) are the part's own ids original[skip, skip + count) (`skip` > 0
 * when the part lost tokens from its start). Evidence maps positions to lines through it.
 */
export interface PartTokens {
  part: number;
  start: number;
  skip: number;
  count: number;
  original: readonly number[] | Uint32Array;
}

function cutTo(piece: Piece, keep: number): void {
  piece.ids = piece.cut === 'start' ? piece.ids.slice(piece.ids.length - keep) : piece.ids.slice(0, keep);
}

/** What tokenizePrompt had to leave out to fit the budget. */
export interface PromptFit {
  /** Droppable units (workspace files) left out whole. */
  droppedUnits: number;
}

/** `map`, when given, receives where each kept text part's tokens are (PartTokens), in prompt order. */
export function tokenizePrompt(tokenizer: PromptTokenizer, parts: PromptParts, maxTokens: number, fit?: PromptFit, map?: PartTokens[]): number[] {
  const memo = memoFor(tokenizer);
  let pieces: Piece[] = parts.map((part, index) => {
    if ('text' in part) {
      if (part.cut && part.dropRank !== undefined) throw new Error('a prompt part is either cut or dropped, not both');
      // Cut parts (the text around the cursor) change with every keystroke: not remembered.
      const ids = part.text.length === 0 ? [] : part.cut ? tokenizer.encode(part.text) : memo.encode(tokenizer, part.text);
      const piece: Piece = { ids, cut: part.cut, dropRank: part.dropRank, part: index, original: ids };
      if (part.cut && part.maxTokens !== undefined && ids.length > part.maxTokens) cutTo(piece, Math.max(0, part.maxTokens));
      return piece;
    }
    const id = tokenizer.special[part.special];
    if (id === undefined) throw new Error(`the model's tokenizer has no ${part.special} token`);
    return { ids: [id], dropRank: part.dropRank, part: -1, original: [id] };
  });
  let total = pieces.reduce((sum, piece) => sum + piece.ids.length, 0);

  if (total > maxTokens) {
    const ranks = [...new Set(pieces.flatMap((piece) => (piece.dropRank === undefined ? [] : [piece.dropRank])))].sort((a, b) => b - a);
    const dropped = new Set<number>();
    for (const rank of ranks) {
      if (total <= maxTokens) break;
      dropped.add(rank);
      for (const piece of pieces) if (piece.dropRank === rank) total -= piece.ids.length;
    }
    if (dropped.size > 0) pieces = pieces.filter((piece) => piece.dropRank === undefined || !dropped.has(piece.dropRank));
    if (fit) fit.droppedUnits = dropped.size;
  }

  const cuttable = pieces.filter((piece) => piece.cut);
  const fixed = total - cuttable.reduce((sum, piece) => sum + piece.ids.length, 0);
  if (fixed > maxTokens) throw new Error(`the prompt's fixed parts take ${fixed} tokens, over the budget of ${maxTokens}`);
  // Shrink the longest cuttable piece first, so that a short suffix survives a long prefix.
  while (total > maxTokens) {
    const longest = cuttable.reduce((a, b) => (b.ids.length > a.ids.length ? b : a));
    const second = cuttable.filter((piece) => piece !== longest).reduce((max, piece) => Math.max(max, piece.ids.length), 0);
    const remove = Math.min(total - maxTokens, Math.max(1, longest.ids.length - second));
    cutTo(longest, longest.ids.length - remove);
    total -= remove;
  }
  const ids: number[] = [];
  for (const piece of pieces) {
    if (map && piece.part >= 0 && piece.ids.length > 0) {
      map.push({ part: piece.part, start: ids.length, skip: piece.cut === 'start' ? piece.original.length - piece.ids.length : 0, count: piece.ids.length, original: piece.original });
    }
    for (const id of piece.ids) ids.push(id);
  }
  return ids;
}
