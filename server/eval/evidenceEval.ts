// Evidence faithfulness for one completion (EVAL.md): remove the top-k evidence lines from
// the prompt, rescore the same completion, and compare the log-probability it loses with
// removing k random lines and with the oracle (the k lines whose single removal hurts
// most). Scoring is injected (`LogprobOf`), so this module runs no model and its tests
// use a scorer whose answers are known.

import { seededRandom } from '../engine/sampling';
import type { PromptParts } from '../worker/messages';
import { candidateLines, lineKey, removeLines, type PartLine } from './removeLines';

/** The completion's total log-probability (natural log) after a prompt. */
export type LogprobOf = (parts: PromptParts) => Promise<number>;

export type EvidenceMethod = 'retrieval' | 'all';
export const evidenceMethods: EvidenceMethod[] = ['retrieval', 'all'];

export interface FaithfulnessOptions {
  ks: number[];
  /** Random removals per k, averaged. */
  randomDraws: number;
  /**
   * Leave-one-out runs over a pool, not every line (a rescoring each): the top `poolTopN`
   * lines of each evidence method and `poolTopN` random candidate lines. The oracle is the
   * best of this pool, so it is a lower bound of the true oracle.
   */
  poolTopN: number;
  seed: number;
  /**
   * Only these lines are candidates (evidence, random draws and the oracle's pool alike):
   * the other files' lines, to measure the ranking the editor lists under "From other
   * files". Every candidate line when absent.
   */
  within?: (line: PartLine) => boolean;
}

export const defaultFaithfulnessOptions: FaithfulnessOptions = { ks: [1, 3, 5], randomDraws: 3, poolTopN: 10, seed: 1 };

/** Drops are base − after removal, in nats: positive when the removal hurt the completion. */
export interface KDrops {
  k: number;
  retrieval: number;
  all: number;
  /** Mean over the random draws. */
  random: number;
  oracle: number;
}

export interface Faithfulness {
  baseLogprob: number;
  candidates: number;
  /** Candidate lines among each method's evidence (evidence on other lines, such as the cursor's, is not counted). */
  evidenceLines: Record<EvidenceMethod, number>;
  poolLines: number;
  drops: KDrops[];
  /** The lines removed for each method at the largest k, best first (for the record). */
  top: Record<EvidenceMethod | 'oracle', PartLine[]>;
  /** Distinct prompts scored, the base included. */
  scoreCalls: number;
}

/** A seed per case from its id (FNV-1a), so draws do not depend on the order cases run in. */
export function seedOf(id: string, seed: number): number {
  let h = (0x811c9dc5 ^ seed) >>> 0;
  for (let i = 0; i < id.length; i++) h = Math.imul(h ^ id.charCodeAt(i), 0x01000193) >>> 0;
  return h;
}

/** `count` distinct items of `items`, drawn without replacement (a partial Fisher–Yates shuffle). */
export function drawLines<T>(items: T[], count: number, seed: number): T[] {
  const random = seededRandom(seed);
  const copy = items.slice();
  const n = Math.min(count, copy.length);
  for (let i = 0; i < n; i++) {
    const j = i + Math.floor(random() * (copy.length - i));
    [copy[i], copy[j]] = [copy[j], copy[i]];
  }
  return copy.slice(0, n);
}

/** The evidence's lines that are candidates, in the evidence's order (highest score first). */
export function rankedCandidates(evidence: PartLine[], candidates: PartLine[]): PartLine[] {
  const allowed = new Set(candidates.map(lineKey));
  const seen = new Set<string>();
  return evidence.filter((l) => {
    const key = lineKey(l);
    if (!allowed.has(key) || seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

/**
 * The completion's log-probability after `parts` without some of its lines, every distinct
 * set of lines scored once (`calls`: the prompts scored, the whole one included).
 */
export function removalScorer(parts: PromptParts, logprobOf: LogprobOf): { logprobWithout(lines: PartLine[]): Promise<number>; dropOf(lines: PartLine[]): Promise<number>; calls(): number } {
  const scored = new Map<string, Promise<number>>();
  const logprobWithout = (lines: PartLine[]): Promise<number> => {
    const key = lines.map(lineKey).sort().join(',');
    let result = scored.get(key);
    if (result === undefined) {
      result = logprobOf(lines.length === 0 ? parts : removeLines(parts, lines));
      scored.set(key, result);
    }
    return result;
  };
  return {
    logprobWithout,
    /** Base − without `lines`, in nats: positive when the removal hurt the completion. */
    dropOf: async (lines) => (await logprobWithout([])) - (await logprobWithout(lines)),
    calls: () => scored.size,
  };
}

/**
 * Measures one completion. `evidence` holds each method's lines, highest score first.
 * Every distinct set of removed lines is scored once, whichever method asked for it.
 */
export async function measureFaithfulness(
  parts: PromptParts,
  evidence: Record<EvidenceMethod, PartLine[]>,
  logprobOf: LogprobOf,
  options: FaithfulnessOptions = defaultFaithfulnessOptions,
): Promise<Faithfulness> {
  const within = options.within;
  const candidates = within ? candidateLines(parts).filter(within) : candidateLines(parts);
  const scorer = removalScorer(parts, logprobOf);
  const dropOf = scorer.dropOf;
  const baseLogprob = await scorer.logprobWithout([]);

  const ranked = { retrieval: rankedCandidates(evidence.retrieval, candidates), all: rankedCandidates(evidence.all, candidates) };
  const maxK = Math.max(...options.ks);
  const draws = Array.from({ length: options.randomDraws }, (_, d) => drawLines(candidates, maxK, options.seed + d));

  // Leave-one-out over the pool, one line at a time, in a fixed order (calls run one by one).
  const pool = new Map<string, PartLine>();
  const poolRandom = drawLines(candidates, options.poolTopN, options.seed + options.randomDraws);
  for (const l of [...ranked.retrieval.slice(0, options.poolTopN), ...ranked.all.slice(0, options.poolTopN), ...poolRandom]) pool.set(lineKey(l), l);
  const singleDrops: Array<{ line: PartLine; drop: number }> = [];
  for (const line of pool.values()) singleDrops.push({ line, drop: await dropOf([line]) });
  // Ties keep prompt order, so the oracle is deterministic.
  const oracle = singleDrops
    .map((s, i) => ({ ...s, i }))
    .sort((a, b) => b.drop - a.drop || a.i - b.i)
    .map((s) => s.line);

  const drops: KDrops[] = [];
  for (const k of options.ks) {
    let random = 0;
    for (const draw of draws) random += await dropOf(draw.slice(0, k));
    drops.push({
      k,
      retrieval: await dropOf(ranked.retrieval.slice(0, k)),
      all: await dropOf(ranked.all.slice(0, k)),
      random: draws.length === 0 ? 0 : random / draws.length,
      oracle: await dropOf(oracle.slice(0, k)),
    });
  }
  return {
    baseLogprob,
    candidates: candidates.length,
    evidenceLines: { retrieval: ranked.retrieval.length, all: ranked.all.length },
    poolLines: pool.size,
    drops,
    top: { retrieval: ranked.retrieval.slice(0, maxK), all: ranked.all.slice(0, maxK), oracle: oracle.slice(0, maxK) },
    scoreCalls: scorer.calls(),
  };
}

/** Whether `line` is among the first k of each method's candidate evidence, for each k. */
export function hitsAtK(line: PartLine, ranked: PartLine[], ks: number[]): Record<string, boolean> {
  const at = ranked.findIndex((l) => l.part === line.part && l.line === line.line);
  return Object.fromEntries(ks.map((k) => [String(k), at >= 0 && at < k]));
}
