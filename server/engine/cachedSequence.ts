// The sequence a generation runs on, and where a prompt's KV comes from before any forward
// pass: the longest prefix the sequence already holds (llama-server's cache_prompt), or a
// longer one from the prefix cache (a radix tree of KV segments shared by every prompt the
// worker has seen, prefixTree.ts). Only the rest is computed, in chunks, and what was
// computed goes into the tree for the prompts after it.
//
// Under the head-aware policy the tree keeps the streaming heads' rows only at the sinks
// and at the end of each node (their window). A prompt that resumes where the window cannot
// be restored (an edit in the middle of a long node) re-runs the W tokens before that point
// so the streaming heads see a full window again: an edit costs W more tokens than under the
// dense cache, whose resume is exact.

import { sameHeads, type KvSegment, type KvSegmentHeads } from './kvSegment';
import { PrefixFileError, readPrefixFile, writePrefixFile, type PrefixKey } from './prefixStore';
import { PrefixTree } from './prefixTree';
import type { LoadedModel, MassPerHead, MassSummed, Sequence } from './types';

export class CancelledError extends Error {
  constructor() {
    super('cancelled');
    this.name = 'CancelledError';
  }
}

/** A window gap up to this share of W is tolerated (a keystroke's few tokens); a larger one is refilled. */
const windowGapShare = 1 / 8;

/** The KV of prompts already seen, bounded by bytes; one per loaded model. */
export class PrefixCache {
  readonly tree = new PrefixTree<KvSegment>();

  /** @param memoryLimitBytes what the tree and the sequence using it may hold together. */
  constructor(public memoryLimitBytes: number) {}

  /** Evicts least recently used branches so that the tree and `sequenceBytes` fit the limit. */
  fit(sequenceBytes: number): number {
    return this.tree.evict(Math.max(0, this.memoryLimitBytes - sequenceBytes));
  }

  /** Writes the longest prefix of ids[0, limit) the tree holds to `file` (prefixStore.ts); nothing when it holds none. */
  save(file: string, key: PrefixKey, ids: ArrayLike<number>, limit: number): { tokens: number; bytes: number } {
    const match = this.tree.match(ids, limit);
    if (match.length === 0) return { tokens: 0, bytes: 0 };
    const segments = match.pieces.map((p) => (p.from === 0 && p.to === p.payload.length ? p.payload : p.payload.slice(p.from, p.to)));
    return { tokens: match.length, bytes: writePrefixFile(file, key, Array.from({ length: match.length }, (_, i) => ids[i]), segments) };
  }

  /** Adds a prefix written by save() under the same key to the tree; returns its tokens. A bad file throws PrefixFileError. */
  load(file: string, key: PrefixKey, heads: KvSegmentHeads): number {
    const { tokens, segments } = readPrefixFile(file, key);
    if (!segments.every((s) => sameHeads(s.heads, heads))) throw new PrefixFileError(file, 'computed for another head layout');
    for (const s of segments) this.tree.insert(tokens, s.end, (from, to) => (from === s.start && to === s.end ? s : s.slice(from - s.start, to - s.start)));
    return tokens.length;
  }
}

/**
 * Hears the queries of the passes that pick tokens (evidence.ts): per layer
 * [numHeads, n, headDim], rows [fromRow, n) counted. A prefill computes the prompt's last
 * `promptRows` tokens (at most a chunk) in its last pass, even when they are cached, and
 * reports them all.
 */
export interface QueryRowsHook {
  readonly promptRows: number;
  add(queries: Float32Array[], n: number, fromRow: number): void;
  /**
   * Attention mass instead of queries, where the sequence gives it (Sequence.appendWithMass,
   * appendWithMassSum): a last prefill pass of at most `maxMassPassTokens` tokens hands its
   * `promptRows` rows' mass per head to `addPromptMass` (its tokens counted, at most
   * promptRows); each decode step continues `massSums()`, summed over every head, and hands
   * the new sums to `addStepMass` with the token it was fed (the one the step before picked).
   * The three come together.
   */
  massSums?(): MassSummed | undefined;
  addPromptMass?(mass: MassPerHead, promptRows: number): void;
  addStepMass?(sums: MassSummed, fedToken: number): void;
}

/**
 * The longest last prefill pass that computes its rows' attention mass in the pass: every
 * row's scores are squared there, a cost that grows with the pass where the attention-mass
 * graph afterwards computes the counted rows only (evidence.ts).
 */
export const maxMassPassTokens = 8;

export interface PrefillResult {
  logits: Float32Array;
  /** Prompt tokens not computed: held by the sequence or restored from the prefix cache. */
  reused: number;
  /** Of those, the ones restored from the prefix cache. */
  restored: number;
}

/**
 * A sequence together with the token ids it holds.
 * Invariant: `tokens` is exactly what `sequence` has processed, in order.
 */
export class CachedSequence {
  readonly sequence: Sequence;
  private tokens: number[] = [];

  constructor(
    readonly model: LoadedModel,
    readonly prefixCache?: PrefixCache,
  ) {
    this.sequence = model.newSequence();
  }

  get length(): number {
    return this.tokens.length;
  }

  /**
   * Makes the sequence hold `promptIds` and returns the logits after its last token. A
   * cancelled prefill keeps the chunks it finished, in the sequence and in the prefix cache.
   * `onChunk` hears the tokens held after each forward pass.
   */
  prefill(promptIds: number[], shouldStop: () => boolean, onChunk?: (doneTokens: number, promptTokens: number) => void, onLastQueries?: QueryRowsHook): PrefillResult {
    if (promptIds.length === 0) throw new Error('empty prompt');
    // The last prompt token is always run again: its logits are what we need. With a query
    // hook, the last promptRows tokens are, for their queries.
    const chunk = this.model.chunkTokens;
    const tailTokens = onLastQueries ? Math.max(1, Math.min(onLastQueries.promptRows, chunk, promptIds.length)) : 1;
    const last = promptIds.length - tailTokens;
    let common = 0;
    const limit = Math.min(this.tokens.length, last);
    while (common < limit && this.tokens[common] === promptIds[common]) common++;
    this.truncate(common);
    const restored = this.restore(promptIds, last);
    // Streaming heads whose window could not be restored get it back by running the W
    // tokens before the resume point again (never the case under the dense cache).
    const { windowTokens, windowGapTokens } = this.sequence;
    if (windowGapTokens > windowTokens * windowGapShare) this.truncate(Math.max(0, this.tokens.length - windowTokens));
    const reused = this.tokens.length;
    // Chunks as usual, the last one with queries; only when that one would be shorter than
    // the tail the hook asked for does the split move to the tail's start.
    const lastChunkStart = reused + Math.floor((promptIds.length - 1 - reused) / chunk) * chunk;
    const tailStart = promptIds.length - lastChunkStart < tailTokens ? promptIds.length - tailTokens : lastChunkStart;
    let logits: Float32Array | undefined;
    try {
      for (let start = reused; start < promptIds.length; ) {
        if (shouldStop()) throw new CancelledError();
        const end = start < tailStart ? Math.min(start + chunk, tailStart) : promptIds.length;
        const piece = promptIds.slice(start, end);
        if (onLastQueries && end === promptIds.length) {
          const counted = Math.min(tailTokens, piece.length);
          if (onLastQueries.addPromptMass && this.sequence.appendWithMass && piece.length <= Math.min(maxMassPassTokens, this.sequence.maxMassTokens)) {
            // A short last pass adds its counted rows' mass itself (fewer squared scores than the graph afterwards costs).
            const out = this.sequence.appendWithMass(piece, counted);
            onLastQueries.addPromptMass(out.mass, counted);
            logits = out.logits;
          } else {
            const out = this.sequence.appendWithQueries(piece);
            onLastQueries.add(out.queries, piece.length, piece.length - counted);
            logits = out.logits;
          }
        } else {
          logits = this.sequence.append(piece);
        }
        this.tokens.push(...piece);
        onChunk?.(this.tokens.length, promptIds.length);
        start = end;
      }
    } finally {
      this.remember();
    }
    return { logits: logits!, reused, restored: Math.min(restored, reused) };
  }

  /** Continues the sequence with what the prefix cache holds of promptIds[0, limit) beyond it; returns the tokens restored. */
  private restore(promptIds: number[], limit: number): number {
    if (!this.prefixCache) return 0;
    const held = this.tokens.length;
    const match = this.prefixCache.tree.match(promptIds, limit);
    if (match.length <= held) return 0;
    for (const piece of match.pieces) {
      const from = Math.max(piece.from, held - piece.start);
      if (from >= piece.to) continue;
      this.sequence.importSegment(piece.payload, from, piece.to);
    }
    for (let i = held; i < match.length; i++) this.tokens.push(promptIds[i]);
    return match.length - held;
  }

  /** Puts what the sequence holds into the prefix cache and keeps both within the memory limit. */
  private remember(): void {
    const cache = this.prefixCache;
    if (!cache || this.tokens.length === 0) return;
    cache.tree.insert(this.tokens, this.tokens.length, (from, to) => this.sequence.exportSegment(from, to));
    cache.fit(this.sequence.kvBytes);
  }

  /** Runs one more token; `onQueries` (when given) hears its pass's queries. */
  appendOne(tokenId: number, onQueries?: QueryRowsHook): Float32Array {
    let logits: Float32Array;
    if (onQueries?.addStepMass && this.sequence.appendWithMassSum) {
      const out = this.sequence.appendWithMassSum([tokenId], onQueries.massSums?.());
      onQueries.addStepMass(out.mass, tokenId);
      logits = out.logits;
    } else if (onQueries) {
      const out = this.sequence.appendWithQueries([tokenId]);
      onQueries.add(out.queries, 1, 0);
      logits = out.logits;
    } else {
      logits = this.sequence.append([tokenId]);
    }
    this.tokens.push(tokenId);
    return logits;
  }

  /** Keeps the first `length` tokens, or fewer where the cache cuts earlier (int8 KV: at a block's start). */
  truncate(length: number): void {
    if (length < this.tokens.length) {
      this.sequence.truncate(length);
      this.tokens.length = this.sequence.length;
    }
  }
}
