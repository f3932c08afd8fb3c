// Messages between the language server's main thread (modelHost.ts) and the model worker
// (modelWorker.ts). The worker does one job at a time; the host queues the rest.
// Cancellation does not travel as a message: a busy worker is inside a synchronous
// forward pass and reads no messages, so the host raises a flag in shared memory that
// the worker checks between forward passes (`cancelFlag[0] !== 0`).

import type { DecoderConfig, FimOrder, KvPolicy, KvRequest, SpecialTokens } from '../engine/types';
import type { WeightFormat } from '../engine/graph/decoderGraph';
import type { GenerateOptions, GenerateResult, ScoreResult } from '../engine/generate';
import type { HeadPattern } from '../engine/headPattern';
import type { CalibrateOptions, CalibrateProgress } from '../calibrate/calibrate';
import type { EvidenceRequest } from '../engine/evidence';
import type { PackedEvidence } from './evidenceWire';

export interface WorkerInit {
  /** Int32Array view over it: [0] is the cancel flag of the job in flight. */
  cancelBuffer: SharedArrayBuffer;
}

export type JobRequest =
  | {
      kind: 'load';
      modelPath: string;
      threads: number;
      weightFormat: WeightFormat;
      graphCacheDir?: string;
      kv?: KvRequest;
      /** What the prefix cache and the sequence may hold together (defaultMemoryLimitMB when absent). */
      memoryLimitMB?: number;
      /** A workspace prefix saved by a `persist` job, restored into the prefix cache after the load when it fits this model and cache. */
      prefixFile?: string;
    }
  /** Prefill only (background warm-up of the workspace prefix); progress as partial updates. */
  | { kind: 'warm'; prompt: PromptParts; maxPromptTokens: number }
  /** Saves what the prefix cache holds of the latest prompt (its workspace part and the active file's). */
  | { kind: 'persist'; file: string }
  /** With `evidence`, the result carries the chosen heads' attention over the prompt's lines (engine/evidence.ts). */
  | { kind: 'generate'; prompt: PromptParts; maxPromptTokens: number; options: GenerateOptions; stream?: boolean; evidence?: EvidenceRequest }
  | { kind: 'score'; context: PromptParts; maxContextTokens: number; continuation: string }
  /** Head calibration of the loaded model on copy tasks with code from fillerDir as filler; progress as partial updates. */
  | { kind: 'calibrate'; fillerDir: string; options: CalibrateOptions };

/**
 * A prompt as pieces of text and special-token names, tokenized inside the worker. A text
 * piece marked `cut` may lose tokens from that end when the prompt is over its budget, and
 * keeps at most `maxTokens` whatever the budget. Parts sharing a `dropRank` form one unit
 * (a workspace file: its separator, path and text) that an over-budget prompt drops whole,
 * highest `dropRank` first, before any `cut` part gives up tokens; a part is cut or
 * dropped, never both.
 */
export type PromptPart =
  | { text: string; cut?: 'start' | 'end'; maxTokens?: number; dropRank?: number }
  | { special: keyof Omit<SpecialTokens, 'eos'>; dropRank?: number };
export type PromptParts = PromptPart[];

export interface ModelSummary {
  name: string;
  config: DecoderConfig;
  special: SpecialTokens;
  fimOrder: FimOrder;
  /** Whether the model has a chat template (an instruct model). */
  hasChatTemplate: boolean;
  /** The chat format Heed can write for it: ChatML when its template uses <|im_start|> (Qwen's instruct models); none otherwise, and questions are asked as code. */
  chatFormat?: 'chatml';
  chunkTokens: number;
  /** The KV cache its sequences use (dense when a head-aware request could not be met: the log says why). */
  kv: KvPolicy;
  loadMs: number;
  /** What the load said along the way (graph cache hits, rebuilds), for the server's log. */
  log: string[];
  /** The saved workspace prefix: restored (its tokens), or why it was not used. */
  prefix?: { restoredTokens: number; readMs: number } | { problem: string };
}

export interface WarmResult {
  promptTokens: number;
  /** Tokens run through the model; the rest came from the caches. */
  computedTokens: number;
  ms: number;
}

export interface PersistResult {
  /** Tokens written (0: the prefix cache held none of the workspace part). */
  tokens: number;
  bytes: number;
  ms: number;
}

/** A warm-up's progress: tokens of the prompt the sequence holds. */
export interface WarmProgress {
  warmedTokens: number;
  promptTokens: number;
}

export type JobResult =
  | { kind: 'load'; model: ModelSummary }
  /** Evidence packed for the crossing (evidenceWire.ts); the host unpacks it. */
  | { kind: 'generate'; result: Omit<GenerateResult, 'evidence'> & { evidence?: PackedEvidence } }
  | { kind: 'score'; result: ScoreResult }
  | { kind: 'calibrate'; pattern: HeadPattern }
  | { kind: 'warm'; result: WarmResult }
  | { kind: 'persist'; result: PersistResult };

export interface JobError {
  message: string;
  /** Set when a model file is at fault: the file's path. */
  file?: string;
  cancelled?: boolean;
}

export type ToWorker = { id: number; job: JobRequest };
export type FromWorker =
  | { id: number; ok: true; result: JobResult }
  | { id: number; ok: false; error: JobError }
  /** A streamed generation's text so far after each token, or a calibration's progress (the job goes on). */
  | { id: number; partial: PartialUpdate };

/** A job's update before its result: a streamed generation's text so far, a calibration's or a warm-up's progress. */
export type PartialUpdate = string | CalibrateProgress | WarmProgress;
