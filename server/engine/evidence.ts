// Evidence: which lines of the prompt the model attended to while it generated. The
// chosen heads (the retrieval heads of the model's head pattern, or every head for the
// baseline) give, for each query that picked a generated token, a distribution over the
// positions before it; summed over those queries and heads, restricted to the prompt's
// text, and mapped to (text part, line) through promptTokens.ts's token map
// (evidenceLines.ts).

import { existsSync } from 'node:fs';
import { basename, join } from 'node:path';
import { headPatternFileName, readHeadPattern } from './headPattern';
import { buildAttentionMassGraph, attentionMassNames } from './graph/attentionMassGraph';
import { maskedScore } from './graph/decoderGraph';
import { createSession, type FeedTensor, type OrtSession } from './runtime/ortRuntime';
import type { PartTokens } from './promptTokens';
import type { LoadedModel, MassPerHead, MassSummed, Sequence } from './types';
import type { QueryRowsHook } from './cachedSequence';
import { TokenPositions, evidenceCopyBonus } from './copyMass';
import { addLineSums, positionLines, rankedLines, type PartLineScore, type PositionLines } from './evidenceLines';

/** What a generation is asked to report. */
export interface EvidenceRequest {
  /** "retrieval": the head pattern's retrieval heads (every head when the model has none); "all": every head (the baseline). */
  heads: 'retrieval' | 'all';
  /**
   * The prompt part from which the prompt's own tokens count as queries too (a question:
   * what it asks about is evidence even when the answer is weak); at most a chunk of
   * tokens. Absent: only the queries that picked generated tokens.
   */
  fromPart?: number;
}

export interface PromptEvidence {
  heads: EvidenceRequest['heads'];
  /** The KV heads whose query heads were used. */
  kvHeads: Array<{ layer: number; kvHead: number }>;
  /** Where the heads came from, in words (e.g. "retrieval heads of head-pattern.json", "every head: no head pattern"). */
  headSource: string;
  /**
   * The attention mass on each line of the prompt's text parts, summed over the queries
   * that picked generated tokens and over the heads, a query's mass on a token equal to the
   * one it picked (a copy, copyMass.ts) counting 1 + evidenceCopyBonus times, divided by the
   * total on those lines (the scores sum to 1): positive scores only, highest first.
   */
  lines: PartLineScore[];
  /** Each KV head's own top lines from the prompt's rows (the attention up to the first token), normalized the same way within the head. */
  perHead: Array<{ layer: number; kvHead: number; lines: PartLineScore[] }>;
  /**
   * With a request's `fromPart` (a question): the lines as `lines` ranks them, but from the
   * prompt's rows alone (the question's own tokens, every head together), before any
   * generated token: where the question points, which a weak answer's rows cannot blur.
   */
  promptLines?: PartLineScore[];
  /** Queries counted: the prompt's last token and each generated token before the last. */
  queries: number;
  ms: number;
}

/** The KV heads whose query heads give evidence, where that choice came from, and the leading positions that are never evidence. */
export interface EvidenceHeads {
  kvHeads: Array<{ layer: number; kvHead: number }>;
  source: string;
  /** Attention sinks: the head pattern's S when there is one (what its streaming heads keep), else StreamingLLM's four. */
  sinks: number;
}

/** A model folder's head pattern, as evidence uses it. */
export interface FolderPattern {
  retrieval: number[][];
  sinks: number;
  file: string;
}

/**
 * 'retrieval': the retrieval heads of the pattern the cache runs with (head-aware), else
 * of `folderRetrieval` (the model folder's own pattern), else every head, said so. 'all':
 * every head; it needs every head's whole past, so not under the head-aware cache.
 */
export function chooseEvidenceHeads(model: LoadedModel, heads: EvidenceRequest['heads'], folderRetrieval: () => FolderPattern | undefined): EvidenceHeads {
  const { numLayers, numKvHeads } = model.config;
  const every = (): EvidenceHeads['kvHeads'] => Array.from({ length: numLayers * numKvHeads }, (_, i) => ({ layer: Math.floor(i / numKvHeads), kvHead: i % numKvHeads }));
  const listed = (retrieval: number[][]) => retrieval.flatMap((kvHeads, layer) => kvHeads.map((kvHead) => ({ layer, kvHead })));
  if (model.kv.policy === 'head-aware') {
    if (heads === 'all') throw new Error("evidence from every head needs every head's whole past: load the model with the dense KV cache");
    const kvHeads = listed(model.kv.retrieval);
    return { kvHeads, source: `${kvHeads.length} retrieval KV heads of ${numLayers * numKvHeads} (${basename(model.kv.patternFile)})`, sinks: model.kv.sinks };
  }
  const pattern = folderRetrieval();
  const sinks = pattern?.sinks ?? defaultSinkPositions;
  if (heads === 'all') return { kvHeads: every(), source: `every head (${numLayers * numKvHeads} KV heads)`, sinks };
  const kvHeads = pattern ? listed(pattern.retrieval) : [];
  if (kvHeads.length === 0) return { kvHeads: every(), source: `every head (${numLayers * numKvHeads} KV heads): the model has no head pattern; calibrate it for retrieval-head evidence`, sinks };
  return { kvHeads, source: `${kvHeads.length} retrieval KV heads of ${numLayers * numKvHeads} (${basename(pattern!.file)})`, sinks };
}

/** The retrieval heads of a model folder's own head pattern (head-pattern.json), when it has a valid one for this model. */
export function readFolderRetrieval(model: LoadedModel, folder: string): FolderPattern | undefined {
  const file = join(folder, headPatternFileName);
  if (!existsSync(file)) return undefined;
  try {
    const pattern = readHeadPattern(file, model.config, model.checkpointSha256());
    return { retrieval: pattern.retrieval, sinks: pattern.sinks, file };
  } catch {
    // A bad pattern leaves evidence on every head; the evidence says which heads it used.
    return undefined;
  }
}

/** Positions where attention sinks collect mass whatever their content (StreamingLLM's first four tokens), when no head pattern says more: never evidence. */
export const defaultSinkPositions = 4;
/** Lines kept per head for the per-head view. */
const perHeadLines = 10;

/**
 * Each attention probability counts squared: a head that looks sharply at one place (a copy
 * from far context) outweighs the same total spread thinly over many recent lines. Measured
 * on the same 40 cases against plain sums: larger log-probability drops when the top lines
 * are removed (k = 1, 3, 5: 8.63 / 13.54 / 15.04 nats against 7.72 / 13.08 / 14.34), and
 * the defining line of a cross-file completion ranked higher (bench/results/README.md).
 */
export const evidencePower = 2;

/**
 * One attention-mass session per loaded model and number of heads, built on first use.
 * One thread: right after a generation the decoder session's own threads still hold the
 * cores, and two threads here measured slower (29 and 26 ms against 23 and 24 at 16k
 * head-aware, bench/results/README.md), where alone they were faster.
 */
const massSessions = new WeakMap<LoadedModel, Map<number, OrtSession>>();

function massSession(model: LoadedModel, heads: number): OrtSession {
  let sessions = massSessions.get(model);
  if (!sessions) massSessions.set(model, (sessions = new Map()));
  let session = sessions.get(heads);
  if (!session) {
    session = createSession(buildAttentionMassGraph(model.config.headDim, heads, evidencePower), { threads: 1 });
    sessions.set(heads, session);
  }
  return session;
}

/**
 * Gathers, during a generation, the query rows that picked its tokens (a QueryRowsHook for
 * generate()), for the chosen heads only: the prompt's last `promptRows` rows (1: the one
 * that picked the first token; more: a question's own tokens too), then one per decoded
 * token. A head-aware sequence (fp32 or int8 KV) instead gives the attention mass on the full heads
 * (evidence's heads there) from the passes themselves: a short last prefill pass its
 * prompt rows' mass per head (`addPromptMass`; cachedSequence.ts, maxMassPassTokens), each
 * decoded token's pass its mass summed over every full head of every layer into one
 * running row (`addStepMass`); only rows that came as queries are computed again. `finish`
 * turns them into line scores: every row counts in the ranked lines, the prompt's rows
 * alone in the per-head lines (and, for a question, in `promptLines`), under either cache.
 * In the ranked lines each row that picked a generated token also counts its copies (its
 * mass on the prompt's tokens equal to the one it picked) again, evidenceCopyBonus times: a
 * decode step's copies are its running row's growth at those positions, read when the next
 * step is fed the token it picked; a question's prompt rows count no copies.
 */
export class EvidenceCollector implements QueryRowsHook {
  /** Per chosen KV head, its query heads' rows: each row Float32Array [group, headDim]. */
  private readonly rows: Float32Array[][];
  private readonly group: number;
  /** Rows the prefill reported (its last pass: promptRows, or fewer for a shorter prompt). */
  private promptRowsSeen = 0;
  private passes = 0;
  /** The prompt's rows' mass per head, when its last pass gave it (addPromptMass; the rows are then not in `rows`). */
  private promptMass?: MassPerHead;
  /**
   * The decode steps' mass summed over every head, when the sequence gives it (addStepMass;
   * their rows are then not in `rows`): after every step so far, and after all but the last.
   */
  private latestSums?: MassSummed;
  private previousSums?: MassSummed;
  /**
   * Per prompt position, the counted rows' mass on it where it holds the token the row
   * picked (its copies), summed over the heads and times evidenceCopyBonus; a decode step's
   * is added once the token it picked is known.
   */
  private copyMass?: Float64Array;
  private positions?: TokenPositions;

  /** `promptIds`: the prompt the generation continues (where its copies are looked for). */
  constructor(
    private readonly model: LoadedModel,
    private readonly heads: EvidenceHeads,
    private readonly request: EvidenceRequest,
    private readonly promptIds: ArrayLike<number>,
    readonly promptRows = 1,
  ) {
    this.group = model.config.numHeads / model.config.numKvHeads;
    this.rows = heads.kvHeads.map(() => []);
  }

  massSums(): MassSummed | undefined {
    return this.latestSums;
  }

  addPromptMass(mass: MassPerHead, promptRows: number): void {
    // The prefill's last pass: the prompt's rows, before any decode step.
    if (this.passes++ > 0 || this.promptMass || this.latestSums) throw new Error("the prompt's rows come before every decode step");
    this.checkMassHeads(mass.layers);
    this.promptRowsSeen = promptRows;
    this.promptMass = mass;
  }

  addStepMass(sums: MassSummed, fedToken: number): void {
    // The sequence's mass heads are the same in every pass: checked at the first.
    if (!this.promptMass && !this.latestSums) this.checkMassHeads(sums.heads);
    // The step before this one picked the token this one was fed.
    if (this.latestSums) this.addStepCopies(this.latestSums, this.previousSums, fedToken);
    this.passes++;
    this.previousSums = this.latestSums;
    this.latestSums = sums;
  }

  add(queries: Float32Array[], n: number, fromRow: number): void {
    const { headDim } = this.model.config;
    const group = this.group;
    if (this.passes++ === 0) this.promptRowsSeen = n - fromRow;
    this.heads.kvHeads.forEach(({ layer, kvHead }, i) => {
      const q = queries[layer]; // [numHeads, n, headDim]
      for (let row = fromRow; row < n; row++) {
        const out = new Float32Array(group * headDim);
        for (let g = 0; g < group; g++) {
          const head = kvHead * group + g;
          out.set(q.subarray((head * n + row) * headDim, (head * n + row + 1) * headDim), g * headDim);
        }
        this.rows[i].push(out);
      }
    });
  }

  /**
   * The evidence of a generation, over a sequence that still holds the keys of its prompt
   * (the constructor's `promptIds`, laid out as `map` says) and of the tokens it decoded
   * (`generated`: the kept tokens, the first picked by the prompt's last row). Rows are
   * consecutive positions: the prompt's last ones, then the decoded tokens' (the row that
   * picked a token past the last kept one is left out).
   */
  finish(sequence: Sequence, generated: ArrayLike<number>, map: readonly PartTokens[]): PromptEvidence {
    const started = performance.now();
    const promptLength = this.promptIds.length;
    const generatedTokens = generated.length;
    const prompt = this.promptRowsSeen;
    const stepsByMass = this.latestSums !== undefined;
    const promptByQueries = this.promptMass ? 0 : prompt;
    const decodeSteps = stepsByMass ? this.latestSums!.steps : Math.max(0, (this.rows[0]?.length ?? 0) - promptByQueries);
    const rows = Math.min(Math.max(prompt, prompt - 1 + generatedTokens), prompt + decodeSteps);
    const firstPosition = promptLength - prompt;
    const lines = positionLines(this.model.tokenizer, map, promptLength);
    const length = firstPosition + rows; // the last row sees [0, firstPosition + rows - 1]
    // Each chosen head's mass summed per line over the prompt's rows; every row's, all heads together.
    const headSums = this.heads.kvHeads.map(() => new Float64Array(lines.lines.length));
    const total = new Float64Array(lines.lines.length);
    const perHead: PromptEvidence['perHead'] = [];
    let promptLines: PartLineScore[] | undefined;
    const sinks = this.heads.sinks;
    const { kvHeads } = this.heads;
    if (rows > 0 && length <= sequence.length && kvHeads.length > 0) {
      const decodeRows = rows - prompt;
      // Rows that came as queries, in one run of the small graph: the prompt's (unless its
      // pass gave their mass) and the decoded tokens' (unless the steps gave theirs).
      if (this.promptMass && !stepsByMass && decodeRows > 0) throw new Error("the decode steps gave queries after the prompt's pass gave its mass");
      const queryRows = this.promptMass ? 0 : stepsByMass ? prompt : rows;
      const decodeByQueries: Float32Array[] = [];
      // The token a row picked, when it is a kept one (a question's prompt rows pick none but
      // the last, and count no copies).
      const pickedBy = (row: number): number | undefined => {
        const picked = row - prompt + 1;
        return picked >= 0 && picked < generatedTokens && (row >= prompt || prompt === 1) ? generated[picked] : undefined;
      };
      if (queryRows > 0) {
        const copyRows: Array<{ row: number; token: number }> = [];
        for (let row = 0; row < queryRows; row++) {
          const token = pickedBy(row);
          if (token !== undefined) copyRows.push({ row, token });
        }
        this.queryMass(sequence, firstPosition, queryRows, prompt, copyRows).forEach(({ promptRows, decodeRows: decoded }, i) => {
          addLineSums(headSums[i], promptRows, lines, sinks);
          decodeByQueries.push(decoded);
        });
      }
      const firstPicked = pickedBy(prompt - 1);
      if (this.promptMass && firstPicked !== undefined) this.addPromptCopies(this.promptMass, firstPicked);
      if (this.promptMass) this.addMassPerHead(headSums, this.promptMass, lines, sinks);
      headSums.forEach((sums) => {
        for (let j = 0; j < total.length; j++) total[j] += sums[j];
      });
      if (this.request.fromPart !== undefined) promptLines = rankedLines(total, lines);
      if (decodeRows > 0 && stepsByMass) {
        const sums = decodeRows === this.latestSums?.steps ? this.latestSums : decodeRows === this.previousSums?.steps ? this.previousSums : undefined;
        if (!sums) throw new Error(`evidence over ${decodeRows} decode steps, but the sums hold ${this.latestSums?.steps ?? 0} (or one fewer)`);
        addLineSums(total, sums.sums.subarray(0, sums.capacity), lines, sinks);
        // The last step's copies wait for finish when no later step was fed its token (the
        // steps before it were added as each next one was fed).
        if (decodeRows === this.latestSums!.steps) this.addStepCopies(this.latestSums!, this.previousSums, generated[decodeRows]);
      } else if (decodeRows > 0) {
        for (const mass of decodeByQueries) addLineSums(total, mass, lines, sinks);
      }
      if (this.copyMass) addLineSums(total, this.copyMass, lines, sinks);
      kvHeads.forEach(({ layer, kvHead }, i) => perHead.push({ layer, kvHead, lines: rankedLines(headSums[i], lines, perHeadLines) }));
    }
    return {
      heads: this.request.heads,
      kvHeads: this.heads.kvHeads,
      headSource: this.heads.source,
      lines: rankedLines(total, lines),
      perHead,
      ...(promptLines ? { promptLines } : {}),
      queries: rows,
      ms: performance.now() - started,
    };
  }

  /**
   * Each chosen head's attention mass per position from the first `count` query rows in
   * `rows` (row r at position firstPosition + r, seeing the positions up to its own),
   * through the attention-mass graph in one run: summed over the prompt's rows (the first
   * `prompt`) and over the rest apart.
   */
  private queryMass(
    sequence: Sequence,
    firstPosition: number,
    count: number,
    prompt: number,
    copyRows: ReadonlyArray<{ row: number; token: number }>,
  ): Array<{ promptRows: Float32Array; decodeRows: Float32Array }> {
    const { headDim } = this.model.config;
    const { kvHeads } = this.heads;
    const graphLength = firstPosition + count;
    const session = massSession(this.model, kvHeads.length);
    const mask = new Float32Array(count * graphLength);
    for (let r = 0; r < count; r++) mask.fill(maskedScore, r * graphLength + firstPosition + r + 1, (r + 1) * graphLength);
    const parts = new Float32Array(2 * count); // [2, rows]: the prompt's rows, then the others
    for (let r = 0; r < count; r++) parts[(r < prompt ? 0 : 1) * count + r] = 1;
    // Each copy row's positions that hold the token it picked, as flat indices into [rows,
    // length]; at least one index (position 0's, read and dropped) for the graph.
    const copyPositions: number[] = [];
    const copyIndex: number[] = [];
    for (const { row, token } of copyRows) {
      for (const p of this.tokenPositions().of(token)) {
        copyPositions.push(p);
        copyIndex.push(row * graphLength + p);
      }
    }
    const feeds: Record<string, FeedTensor> = {
      [attentionMassNames.mask]: { type: 'float32', data: mask, dims: [count, graphLength] },
      [attentionMassNames.rowParts]: { type: 'float32', data: parts, dims: [2, count] },
      [attentionMassNames.copyIndex]: { type: 'int64', data: BigInt64Array.from(copyIndex.length > 0 ? copyIndex : [0], BigInt), dims: [Math.max(1, copyIndex.length)] },
    };
    kvHeads.forEach(({ layer, kvHead }, i) => {
      const queries = new Float32Array(this.group * count * headDim); // [group, rows, headDim]
      for (let r = 0; r < count; r++) {
        const row = this.rows[i][r];
        for (let g = 0; g < this.group; g++) queries.set(row.subarray(g * headDim, (g + 1) * headDim), (g * count + r) * headDim);
      }
      feeds[attentionMassNames.queries(i)] = { type: 'float32', data: queries, dims: [this.group, count, headDim] };
      feeds[attentionMassNames.keys(i)] = { type: 'float32', data: sequence.keys(layer, kvHead).subarray(0, graphLength * headDim), dims: [graphLength, headDim] };
    });
    const out = session.run(feeds);
    const copyMass = this.copyMassByPosition();
    return kvHeads.map((_, i) => {
      const perQueryHead = out[attentionMassNames.copyMass(i)]; // [group, copies]
      const copies = perQueryHead.length / this.group;
      for (let g = 0; g < this.group; g++) copyPositions.forEach((p, c) => (copyMass[p] += evidenceCopyBonus * perQueryHead[g * copies + c]));
      const mass = out[attentionMassNames.mass(i)]; // [2, graphLength]
      return { promptRows: mass.subarray(0, graphLength), decodeRows: mass.subarray(graphLength) };
    });
  }

  /** The prompt's positions past the sinks (never evidence) by token, built at the first need. */
  private tokenPositions(): TokenPositions {
    return (this.positions ??= new TokenPositions(this.promptIds, this.model.config.vocabSize, this.heads.sinks));
  }

  /** The copies by prompt position (copyMass), made at the first copy. */
  private copyMassByPosition(): Float64Array {
    return (this.copyMass ??= new Float64Array(this.promptIds.length));
  }

  /** A decode step's copies of `picked`: its running row's growth over the step before (`previous`; none before the first step). */
  private addStepCopies(latest: MassSummed, previous: MassSummed | undefined, picked: number): void {
    const copyMass = this.copyMassByPosition();
    for (const p of this.tokenPositions().of(picked)) copyMass[p] += evidenceCopyBonus * (latest.sums[p] - (previous ? previous.sums[p] : 0));
  }

  /** The prompt's one row's copies of `picked` (the first generated token), from each of its heads' mass. */
  private addPromptCopies(promptMass: MassPerHead, picked: number): void {
    const copyMass = this.copyMassByPosition();
    const positions = this.tokenPositions().of(picked);
    for (const { kvHeads, capacity, sums } of promptMass.layers) {
      for (let j = 0; j < kvHeads.length; j++) for (const p of positions) copyMass[p] += evidenceCopyBonus * sums[j * capacity + p];
    }
  }

  /** The passes' mass heads include every chosen head, and are no more than those: the decode steps' mass is summed over them all. */
  private checkMassHeads(heads: ReadonlyArray<{ layer: number; kvHeads: readonly number[] }>): void {
    const given = new Set(heads.flatMap(({ layer, kvHeads }) => kvHeads.map((kvHead) => `${layer}:${kvHead}`)));
    const chosen = new Set(this.heads.kvHeads.map(({ layer, kvHead }) => `${layer}:${kvHead}`));
    const missing = this.heads.kvHeads.filter(({ layer, kvHead }) => !given.has(`${layer}:${kvHead}`));
    if (missing.length > 0) throw new Error(`evidence heads ${missing.map((h) => `${h.layer}:${h.kvHead}`).join(', ')} are not full heads of this sequence`);
    if ([...given].some((head) => !chosen.has(head))) throw new Error('the mass summed over the heads would hold heads evidence did not choose');
  }

  /** Adds a pass's per-head mass (`sums`, byHead) to each chosen head's line sums (headSums[i]). */
  private addMassPerHead(headSums: Float64Array[], sums: MassPerHead, lines: PositionLines, sinks: number): void {
    const index = new Map(this.heads.kvHeads.map(({ layer, kvHead }, i) => [`${layer}:${kvHead}`, i]));
    for (const { layer, kvHeads, capacity, sums: summed } of sums.layers) {
      kvHeads.forEach((kvHead, j) => {
        const i = index.get(`${layer}:${kvHead}`);
        if (i !== undefined) addLineSums(headSums[i], summed.subarray(j * capacity, (j + 1) * capacity), lines, sinks);
      });
    }
  }
}
