// Copies in the evidence: the attention a query puts on a prompt token equal to the token it
// picked. A retrieval head that copies looks at the token it is about to write (the Retrieval
// Head paper's test for a copy), so that attention says where the completion came from more
// sharply than attention in general, much of which sits on the lines just above the cursor
// whatever the completion is. evidence.ts adds it to the line sums with a bonus.

/**
 * How much more a query's attention on a copy counts than its other attention (each copy
 * position's mass counts 1 + bonus times). Measured on the 35 right cross-file lines of
 * bench/results (hit@3 among every line, retrieval heads): with 0, the source line 66 % and
 * the defining line 34 %; 3: 83 % and 46 %; 10: 86 % and 49 %; 100: 89 % and 51 %, where
 * the other files' own ranking starts to lose the defining line (71 % at 0, 66 % at 10, 60 %
 * at 100). Counting only name-like tokens' copies (three characters or more with a letter or
 * digit) kept the defining line where it was over every line and 74 % among the other files,
 * but its top 3 removed 75 % of the oracle's drop against 82 % here: every token counts.
 */
export const evidenceCopyBonus = 10;

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
