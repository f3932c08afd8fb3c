// Evidence: which lines of the prompt the model attended to while it generated. The
// chosen heads (the retrieval heads of the model's head pattern, or every head for the
// baseline) give, for each query that picked a generated token, a distribution over the
// positions before it; summed over those queries and heads, restricted to the prompt's
// text, and mapped to (text part, line) through promptTokens.ts's token map.

/** What a generation is asked to report. */
export interface EvidenceRequest {
  /** "retrieval": the head pattern's retrieval heads (every head when the model has none); "all": every head (the baseline). */
  heads: 'retrieval' | 'all';
}

/** A line of one text part of the prompt: `part` indexes the job's prompt parts, `line` counts line breaks within that part's text (0-based). */
export interface PartLineScore {
  part: number;
  line: number;
  score: number;
}

export interface PromptEvidence {
  heads: EvidenceRequest['heads'];
  /** The KV heads whose query heads were used. */
  kvHeads: Array<{ layer: number; kvHead: number }>;
  /** Where the heads came from, in words (e.g. "retrieval heads of head-pattern.json", "every head: no head pattern"). */
  headSource: string;
  /**
   * The attention mass on each line of the prompt's text parts, summed over the queries
   * that picked generated tokens and over the heads, divided by the total mass on those
   * lines (the scores sum to 1): positive scores only, highest first.
   */
  lines: PartLineScore[];
  /** Each KV head's own top lines, normalized the same way within the head. */
  perHead: Array<{ layer: number; kvHead: number; lines: PartLineScore[] }>;
  /** Queries counted: the prompt's last token and each generated token before the last. */
  queries: number;
  ms: number;
}
