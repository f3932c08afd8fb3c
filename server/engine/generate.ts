// Token generation over one Sequence: prefill (reusing the longest cached prefix), then
// decode one token at a time. `shouldStop` is consulted between forward passes, the only
// points where a synchronous engine can stop.

import { chooseToken, logSoftmaxAt, seededRandom } from './sampling';
import { CancelledError, type CachedSequence, type QueryRowsHook } from './cachedSequence';
import type { PromptEvidence } from './evidence';
export { CachedSequence, CancelledError } from './cachedSequence';

export interface GenerateOptions {
  maxTokens: number;
  /** 0 means greedy. */
  temperature: number;
  /** Nucleus sampling mass in (0, 1]; 1 keeps every token. */
  topP: number;
  seed: number;
  /** Generation ends before the first occurrence of any of these strings. */
  stop: string[];
}

export const defaultGenerateOptions: GenerateOptions = { maxTokens: 64, temperature: 0, topP: 1, seed: 0, stop: [] };

export type StopReason = 'eos' | 'stop' | 'max_tokens' | 'context_full';

/** What generate() gives: the generated text and tokens with their timing. */
export interface Generation {
  text: string;
  tokens: number[];
  /** Natural-log probability of each generated token under the model (temperature 1). */
  logprobs: number[];
  stopReason: StopReason;
  promptTokens: number;
  /** Prompt tokens whose KV came from the cache instead of a forward pass. */
  reusedTokens: number;
  /** Of those, the tokens restored from the prefix cache (the rest were in the sequence already). */
  restoredTokens: number;
  ttftMs: number;
  totalMs: number;
  kvBytes: number;
}

/** A generate job's result: the generation, and what the worker adds to it. */
export interface GenerateResult extends Generation {
  /** Whole prompt units (workspace files) the worker left out to fit the budget. */
  droppedPromptUnits?: number;
  /** The chosen heads' attention over the prompt's lines, when the job asked for it (engine/evidence.ts); its time is in totalMs. */
  evidence?: PromptEvidence;
  /** Why evidence that was asked for is missing (the completion is still good). */
  evidenceProblem?: string;
}

/** Cuts `text` before the first stop string; returns undefined when none occurs. */
export function cutAtStop(text: string, stop: string[]): string | undefined {
  let cut = -1;
  for (const s of stop) {
    if (s.length === 0) continue;
    const at = text.indexOf(s);
    if (at >= 0 && (cut < 0 || at < cut)) cut = at;
  }
  return cut < 0 ? undefined : text.slice(0, cut);
}

/**
 * Text of a growing token list without decoding the whole list at every token. Each step
 * decodes only the tokens since the last commit, behind a window of the tokens before
 * them, and keeps the difference: the window gives decoders whose output depends on the
 * neighbouring token (a leading-space marker) the context a whole decode would have. A
 * step that ends mid-way through a UTF-8 sequence is not committed until it completes.
 */
export class IncrementalDecoder {
  private readonly tokens: number[] = [];
  private text = '';
  private windowStart = 0; // tokens[windowStart, committedEnd) are context, already in text
  private committedEnd = 0;

  constructor(private readonly tokenizer: { decode(ids: number[]): string }) {}

  /** Adds a token and returns the text so far (without a trailing incomplete character). */
  push(token: number): string {
    this.tokens.push(token);
    const context = this.tokenizer.decode(this.tokens.slice(this.windowStart, this.committedEnd));
    const extended = this.tokenizer.decode(this.tokens.slice(this.windowStart));
    if (extended.length > context.length && !extended.endsWith('\uFFFD') && extended.startsWith(context)) {
      this.text += extended.slice(context.length);
      this.windowStart = this.committedEnd;
      this.committedEnd = this.tokens.length;
    }
    return this.text;
  }
}

export function generate(
  cached: CachedSequence,
  promptIds: number[],
  options: GenerateOptions,
  shouldStop: () => boolean,
  onToken?: (textSoFar: string) => void,
  onQueries?: QueryRowsHook,
): Generation {
  const { model } = cached;
  const maxPositions = model.config.maxPositions;
  if (promptIds.length >= maxPositions) {
    throw new Error(`prompt of ${promptIds.length} tokens does not fit the model's context of ${maxPositions} tokens`);
  }
  const started = performance.now();
  // With onQueries, every pass that picks a token also reports its queries: the prompt's
  // last rows (onQueries.promptRows of them), then each decoded token's.
  const { logits: promptLogits, reused, restored } = cached.prefill(promptIds, shouldStop, undefined, onQueries);
  let logits = promptLogits;
  const eos = new Set(model.tokenizer.special.eos);
  const random = seededRandom(options.seed);
  const tokens: number[] = [];
  const logprobs: number[] = [];
  const detokenizer = new IncrementalDecoder(model.tokenizer);
  let text = '';
  let ttftMs = 0;
  let stopReason: StopReason = 'max_tokens';
  while (tokens.length < options.maxTokens) {
    const next = chooseToken(logits, options.temperature, options.topP, random);
    if (tokens.length === 0) ttftMs = performance.now() - started;
    if (eos.has(next)) {
      stopReason = 'eos';
      break;
    }
    tokens.push(next);
    logprobs.push(logSoftmaxAt(logits, next));
    text = detokenizer.push(next);
    const cut = cutAtStop(text, options.stop);
    if (cut !== undefined) {
      text = cut;
      stopReason = 'stop';
      break;
    }
    onToken?.(text);
    if (tokens.length >= options.maxTokens) break;
    if (cached.length + 1 >= maxPositions) {
      stopReason = 'context_full';
      break;
    }
    if (shouldStop()) throw new CancelledError();
    logits = cached.appendOne(next, onQueries);
  }
  return {
    text,
    tokens,
    logprobs,
    stopReason,
    promptTokens: promptIds.length,
    reusedTokens: reused,
    restoredTokens: restored,
    ttftMs,
    totalMs: performance.now() - started,
    kvBytes: cached.sequence.kvBytes,
  };
}

export interface ScoreResult {
  /** Natural-log probability of each continuation token given everything before it. */
  logprobs: number[];
  total: number;
  contextTokens: number;
  reusedTokens: number;
}

/**
 * Scoring mode: the log-probability of a given continuation after a context, one forward
 * pass per continuation token (the graph returns the last position's logits only).
 */
export function score(cached: CachedSequence, contextIds: number[], continuationIds: number[], shouldStop: () => boolean): ScoreResult {
  const maxPositions = cached.model.config.maxPositions;
  if (contextIds.length + continuationIds.length > maxPositions) {
    throw new Error(`context and continuation (${contextIds.length + continuationIds.length} tokens) do not fit the model's context of ${maxPositions} tokens`);
  }
  const { logits: first, reused } = cached.prefill(contextIds, shouldStop);
  let logits = first;
  const logprobs: number[] = [];
  for (let i = 0; i < continuationIds.length; i++) {
    logprobs.push(logSoftmaxAt(logits, continuationIds[i]));
    if (i + 1 === continuationIds.length) break;
    if (shouldStop()) throw new CancelledError();
    logits = cached.appendOne(continuationIds[i]);
  }
  return { logprobs, total: logprobs.reduce((a, b) => a + b, 0), contextTokens: contextIds.length, reusedTokens: reused };
}
