// A model's head pattern: which KV heads retrieve from far away (and keep every token) and
// which only look at the first tokens and the recent ones (and keep S sinks + a window of
// W). Written by calibration (server/calibrate/), read before a head-aware cache is built.
//
// File (JSON):
//   { format: "heed-head-pattern", version: 1,
//     model: { name, sha256, numLayers, numHeads, numKvHeads },
//     sinks: S, window: W,
//     method: { ... how the scores were measured ... },
//     heads: [{ layer, kvHead, retrievalScore, windowError, score }]   every (layer, kvHead)
//     retrievalRatio: R, retrieval: [[kvHead…] per layer]              the set chosen at R }
// `score` orders the heads (higher: more needed in full); a policy may choose another ratio
// or a score threshold from the same scores without calibrating again.

import { readFileSync } from 'node:fs';
import { FileProblemError, type DecoderConfig } from './types';

export const headPatternFormat = 'heed-head-pattern';
export const headPatternVersion = 1;
export const headPatternFileName = 'head-pattern.json';

export interface HeadScore {
  layer: number;
  kvHead: number;
  /** Share of copy probes whose strongest attention lands on the token being copied (max over the group's query heads). */
  retrievalScore: number;
  /** Relative squared error of the head's output when it sees only sinks + window (max over the group's query heads). */
  windowError: number;
  /** The ranking: the mean of retrievalScore and windowError, each divided by its maximum over the model. */
  score: number;
}

export interface HeadPatternModel {
  name: string;
  /** engine/checkpoint/modelHash.ts modelSha256 of the checkpoint the pattern was measured on. */
  sha256: string;
  numLayers: number;
  numHeads: number;
  numKvHeads: number;
}

export interface HeadPattern {
  format: typeof headPatternFormat;
  version: typeof headPatternVersion;
  model: HeadPatternModel;
  sinks: number;
  window: number;
  method: Record<string, unknown>;
  heads: HeadScore[];
  retrievalRatio: number;
  /** Per layer, the KV heads kept in full at retrievalRatio, ascending. */
  retrieval: number[][];
}

/** A pattern file that cannot be used with this model, and why. */
export class HeadPatternError extends FileProblemError {
  override name = 'HeadPatternError';
}

/** What a pattern must match. */
export interface PatternTarget {
  sha256: string;
  numLayers: number;
  numHeads: number;
  numKvHeads: number;
}

const isCount = (n: unknown): n is number => typeof n === 'number' && Number.isInteger(n) && n >= 0;
const isShare = (n: unknown): n is number => typeof n === 'number' && Number.isFinite(n) && n >= 0 && n <= 1;

/** Parses and checks a pattern file's text against the model it is for; throws HeadPatternError naming the problem. */
export function parseHeadPattern(file: string, text: string, target: PatternTarget): HeadPattern {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (error) {
    throw new HeadPatternError(file, `not valid JSON (${(error as Error).message}); the file is corrupt`);
  }
  const p = raw as Partial<HeadPattern>;
  if (typeof p !== 'object' || p === null || p.format !== headPatternFormat) throw new HeadPatternError(file, `not a head pattern (format is not "${headPatternFormat}")`);
  if (p.version !== headPatternVersion) throw new HeadPatternError(file, `version ${String(p.version)}; this Heed reads version ${headPatternVersion}: calibrate again`);
  const model = p.model;
  if (!model || typeof model.sha256 !== 'string') throw new HeadPatternError(file, 'has no model hash');
  if (model.sha256 !== target.sha256) {
    throw new HeadPatternError(file, `was calibrated for another model (${String(model.name)}, sha256 ${model.sha256.slice(0, 12)}…; this one is ${target.sha256.slice(0, 12)}…): calibrate this model`);
  }
  if (model.numLayers !== target.numLayers || model.numKvHeads !== target.numKvHeads || model.numHeads !== target.numHeads) {
    throw new HeadPatternError(file, `describes ${model.numLayers} layers × ${model.numKvHeads} KV heads, the model has ${target.numLayers} × ${target.numKvHeads}`);
  }
  if (!isCount(p.sinks) || !isCount(p.window) || p.sinks + p.window === 0) throw new HeadPatternError(file, 'sinks and window must be whole numbers, not both 0');
  if (!isShare(p.retrievalRatio)) throw new HeadPatternError(file, 'retrievalRatio must be in [0, 1]');
  if (!Array.isArray(p.heads) || p.heads.length !== target.numLayers * target.numKvHeads) {
    throw new HeadPatternError(file, `must score every one of the ${target.numLayers * target.numKvHeads} KV heads`);
  }
  const seen = new Set<number>();
  for (const h of p.heads) {
    if (!h || !isCount(h.layer) || !isCount(h.kvHead) || h.layer >= target.numLayers || h.kvHead >= target.numKvHeads) {
      throw new HeadPatternError(file, `names head ${JSON.stringify(h && { layer: h.layer, kvHead: h.kvHead })}, which the model does not have`);
    }
    if (![h.retrievalScore, h.windowError, h.score].every((x) => typeof x === 'number' && Number.isFinite(x))) throw new HeadPatternError(file, `head (${h.layer}, ${h.kvHead}) has a score that is not a number`);
    seen.add(h.layer * target.numKvHeads + h.kvHead);
  }
  if (seen.size !== p.heads.length) throw new HeadPatternError(file, 'scores a head twice');
  if (!Array.isArray(p.retrieval) || p.retrieval.length !== target.numLayers) throw new HeadPatternError(file, `retrieval must list the heads of each of the ${target.numLayers} layers`);
  for (const heads of p.retrieval) {
    if (!Array.isArray(heads) || heads.some((h) => !isCount(h) || h >= target.numKvHeads) || new Set(heads).size !== heads.length) {
      throw new HeadPatternError(file, `retrieval names KV heads the model does not have (it has ${target.numKvHeads} per layer)`);
    }
  }
  return p as HeadPattern;
}

/** Reads and checks the pattern file for a model of `config` whose checkpoint hashes to `sha256`; throws HeadPatternError naming the problem. */
export function readHeadPattern(file: string, config: Pick<DecoderConfig, 'numLayers' | 'numHeads' | 'numKvHeads'>, sha256: string): HeadPattern {
  const { numLayers, numHeads, numKvHeads } = config;
  return parseHeadPattern(file, readFileSync(file, 'utf8'), { sha256, numLayers, numHeads, numKvHeads });
}

/**
 * Per layer, the KV heads to keep in full: the ceil(ratio × all heads) best by score (ties:
 * lower layer, then lower head), ascending within each layer.
 */
export function chooseRetrievalHeads(heads: HeadScore[], numLayers: number, ratio: number): number[][] {
  if (!isShare(ratio)) throw new RangeError(`retrieval ratio must be in [0, 1], got ${ratio}`);
  const ranked = [...heads].sort((a, b) => b.score - a.score || a.layer - b.layer || a.kvHead - b.kvHead);
  const chosen: number[][] = Array.from({ length: numLayers }, () => []);
  for (const h of ranked.slice(0, Math.ceil(ratio * heads.length - 1e-9))) chosen[h.layer].push(h.kvHead);
  for (const layer of chosen) layer.sort((a, b) => a - b);
  return chosen;
}

/** The heads whose score is at least `threshold` (a score in [0, 1]), per layer, ascending. */
export function retrievalHeadsAbove(heads: HeadScore[], numLayers: number, threshold: number): number[][] {
  if (!isShare(threshold)) throw new RangeError(`score threshold must be in [0, 1], got ${threshold}`);
  const chosen: number[][] = Array.from({ length: numLayers }, () => []);
  for (const h of heads) if (h.score >= threshold) chosen[h.layer].push(h.kvHead);
  for (const layer of chosen) layer.sort((a, b) => a - b);
  return chosen;
}

/** Combines the two signals into HeadScore.score: each divided by its maximum over the model, then averaged. */
export function rankHeads(heads: Array<Omit<HeadScore, 'score'>>): HeadScore[] {
  const maxRetrieval = Math.max(...heads.map((h) => h.retrievalScore), 0);
  const maxError = Math.max(...heads.map((h) => h.windowError), 0);
  return heads.map((h) => ({
    ...h,
    score: 0.5 * (maxRetrieval > 0 ? h.retrievalScore / maxRetrieval : 0) + 0.5 * (maxError > 0 ? h.windowError / maxError : 0),
  }));
}
