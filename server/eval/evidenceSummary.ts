// The evidence eval's figures over cases: mean and median drops per k and method, the
// ratios evidence / random and evidence / oracle (the ratio of mean drops, and the median
// of the per-case ratios), and hit@k on the cross-file cases the model got right.

import type { EvidenceMethod, KDrops } from './evidenceEval';

export interface CaseFigures {
  drops: KDrops[];
  /** hit@k per method (k as a string key); absent when the case is not counted for hit@k. */
  hits?: Record<EvidenceMethod, Record<string, boolean>>;
}

export interface RatioFigures {
  /** mean(evidence drop) / mean(reference drop) over cases; null when the reference's mean is not positive. */
  ratio_of_means: number | null;
  /** Median of evidence drop / reference drop over the cases whose reference drop is positive. */
  median_ratio: number | null;
  median_over_cases: number;
}

export interface KSummary {
  k: number;
  cases: number;
  mean_drop: Record<keyof Omit<KDrops, 'k'>, number>;
  median_drop: Record<keyof Omit<KDrops, 'k'>, number>;
  vs_random: Record<EvidenceMethod, RatioFigures>;
  vs_oracle: Record<EvidenceMethod, RatioFigures>;
  /** Cases where retrieval heads' lines hurt more than all heads' lines, and fewer. */
  retrieval_beats_all: { more: number; less: number; equal: number };
}

export interface HitSummary {
  cases: number;
  /** method → k → share of cases whose defining line is among the top k. */
  hit_at_k: Record<EvidenceMethod, Record<string, number>>;
}

const methods: EvidenceMethod[] = ['retrieval', 'all'];
const sources = ['retrieval', 'all', 'random', 'oracle'] as const;

export function mean(xs: number[]): number {
  return xs.length === 0 ? NaN : xs.reduce((a, b) => a + b, 0) / xs.length;
}

export function median(xs: number[]): number {
  if (xs.length === 0) return NaN;
  const s = xs.slice().sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 === 1 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
}

function round(x: number, digits = 4): number {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}

function ratioFigures(evidence: number[], reference: number[]): RatioFigures {
  const referenceMean = mean(reference);
  const perCase = evidence.flatMap((e, i) => (reference[i] > 0 ? [e / reference[i]] : []));
  return {
    ratio_of_means: referenceMean > 0 ? round(mean(evidence) / referenceMean) : null,
    median_ratio: perCase.length > 0 ? round(median(perCase)) : null,
    median_over_cases: perCase.length,
  };
}

export function summarizeDrops(cases: CaseFigures[]): KSummary[] {
  const ks = [...new Set(cases.flatMap((c) => c.drops.map((d) => d.k)))].sort((a, b) => a - b);
  return ks.map((k) => {
    const rows = cases.flatMap((c) => c.drops.filter((d) => d.k === k));
    const column = (s: (typeof sources)[number]) => rows.map((r) => r[s]);
    const perSource = (f: (xs: number[]) => number) => Object.fromEntries(sources.map((s) => [s, round(f(column(s)))])) as KSummary['mean_drop'];
    const byMethod = (reference: 'random' | 'oracle') =>
      Object.fromEntries(methods.map((m) => [m, ratioFigures(column(m), column(reference))])) as Record<EvidenceMethod, RatioFigures>;
    return {
      k,
      cases: rows.length,
      mean_drop: perSource(mean),
      median_drop: perSource(median),
      vs_random: byMethod('random'),
      vs_oracle: byMethod('oracle'),
      retrieval_beats_all: {
        more: rows.filter((r) => r.retrieval > r.all).length,
        less: rows.filter((r) => r.retrieval < r.all).length,
        equal: rows.filter((r) => r.retrieval === r.all).length,
      },
    };
  });
}

export function summarizeHits(cases: CaseFigures[]): HitSummary {
  const counted = cases.flatMap((c) => (c.hits ? [c.hits] : []));
  const hit_at_k = Object.fromEntries(
    methods.map((m) => {
      const ks = [...new Set(counted.flatMap((h) => Object.keys(h[m])))].sort((a, b) => Number(a) - Number(b));
      return [m, Object.fromEntries(ks.map((k) => [k, round(mean(counted.map((h) => Number(h[m][k] === true))))]))];
    }),
  ) as HitSummary['hit_at_k'];
  return { cases: counted.length, hit_at_k };
}
