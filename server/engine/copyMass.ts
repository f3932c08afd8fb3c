// Copies in the evidence: the attention a query puts on a prompt token equal to the token it
// picked. A retrieval head that copies looks at the token it is about to write (the Retrieval
// Head paper's test for a copy), so that attention says where the completion came from more
// sharply than attention in general, much of which sits on the lines just above the cursor
// whatever the completion is. evidence.ts adds it to the line sums with a bonus.

/**
 * How much more a query's attention on a copy counts than its other attention (each copy
 * position's mass counts 1 + bonus times). Measured on the 35 right cross-file lines of
 * bench/results (hit@3 among every line, retrieval heads), every token's copies counting:
 * with 0, the source line 66 % and the defining line 34 %; 3: 83 % and 46 %; 10: 86 % and
 * 49 %; 100: 89 % and 51 %, where the other files' own ranking loses the defining line
 * (71 % at 0, 66 % at 10, 60 % at 100). With name-like tokens' copies alone (isNameLike),
 * at 10: 83 % and 49 %, and the other files' 74 %.
 */
export const evidenceCopyBonus = 10;

/**
 * A token whose copies say where a completion came from: its text, spaces aside, is at
 * least `nameLikeMinChars` characters and holds a letter, a digit, `_` or `$` (a name or a
 * piece of one, a number). Copies of punctuation and of short pieces (`(`, `);`, ` =`, `s`)
 * are everywhere, the lines just above the cursor first; counting them again drew the
 * ranking back there (bench/results/README.md).
 */
export function isNameLike(text: string): boolean {
  const trimmed = text.trim();
  return trimmed.length >= nameLikeMinChars && /[\p{L}\p{N}_$]/u.test(trimmed);
}

const nameLikeMinChars = 3;

/** Per tokenizer, each token id's isNameLike: 1 yes, 2 no, 0 not decoded yet. */
const nameLikeMemos = new WeakMap<object, { flags: Uint8Array }>();

/** isNameLike of a token's text, memoized per tokenizer (a completion asks a few dozen tokens; a token's text never changes). */
export function nameLikeTokens(tokenizer: { decode(ids: number[]): string }): (token: number) => boolean {
  let memo = nameLikeMemos.get(tokenizer);
  if (!memo) nameLikeMemos.set(tokenizer, (memo = { flags: new Uint8Array(0) }));
  const held = memo;
  return (token) => {
    if (!(token >= 0)) return false;
    if (token >= held.flags.length) {
      const grown = new Uint8Array(Math.max(token + 1, held.flags.length * 2));
      grown.set(held.flags);
      held.flags = grown;
    }
    if (held.flags[token] === 0) held.flags[token] = isNameLike(tokenizer.decode([token])) ? 1 : 2;
    return held.flags[token] === 1;
  };
}

/** A prompt's positions grouped by token id (a counting sort): the positions of one token, in order, without scanning the prompt. */
export class TokenPositions {
  private readonly offsets: Int32Array;
  private readonly positions: Int32Array;

  /** Over positions [from, ids.length) of `ids`, token ids in [0, vocabSize). */
  constructor(ids: ArrayLike<number>, vocabSize: number, from = 0) {
    const offsets = new Int32Array(vocabSize + 1);
    for (let p = from; p < ids.length; p++) offsets[ids[p] + 1]++;
    for (let t = 0; t < vocabSize; t++) offsets[t + 1] += offsets[t];
    const positions = new Int32Array(Math.max(0, ids.length - from));
    const next = offsets.slice(0, vocabSize);
    for (let p = from; p < ids.length; p++) positions[next[ids[p]]++] = p;
    this.offsets = offsets;
    this.positions = positions;
  }

  /** The positions holding `token`, ascending (a view: do not write to it). */
  of(token: number): Int32Array {
    if (!(token >= 0 && token + 1 < this.offsets.length)) return this.positions.subarray(0, 0);
    return this.positions.subarray(this.offsets[token], this.offsets[token + 1]);
  }
}

/** One query's copies: the prompt positions holding the token it picked, and its mass on each. */
export interface RowCopies {
  positions: Int32Array;
  mass: Float32Array;
}

/** `sums[lineOf[p]] += bonus · mass` for each copy position p on a line (lineOf[p] ≥ 0). */
export function addCopySums(sums: Float64Array, copies: RowCopies, lineOf: Int32Array, bonus: number): void {
  const { positions, mass } = copies;
  for (let i = 0; i < positions.length; i++) {
    const line = lineOf[positions[i]];
    if (line >= 0) sums[line] += bonus * mass[i];
  }
}

/** Each prompt position's entry of `runs` ([start, end, line] triples) or -1 (before `sinks`, or on no line), for positions [0, promptLength). */
export function lineOfPositions(runs: Int32Array, promptLength: number, sinks: number): Int32Array {
  const lineOf = new Int32Array(promptLength).fill(-1);
  for (let r = 0; r < runs.length; r += 3) lineOf.fill(runs[r + 2], Math.max(runs[r], sinks), Math.min(runs[r + 1], promptLength));
  return lineOf;
}
