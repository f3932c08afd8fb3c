// Heed's custom LSP methods, imported by both the client (src/) and the server (server/).
// Each method's direction is stated beside it. This module holds names and shapes only:
// no runtime imports, so each side builds its typed message objects with its own library.

import type { WeightFormat } from './engine/weightFormat';

/** server → client notification: the engine's state, shown in the status bar. */
export const statusNotification = 'heed/status';

export type EngineState = 'starting' | 'loading' | 'ready' | 'error' | 'disabled';

/** heed.cache.kvPolicy's values. */
export const kvPolicySettings = ['dense', 'head-aware', 'dense+int8', 'head-aware+int8'] as const;
export type KvPolicySetting = (typeof kvPolicySettings)[number];

export interface StatusParams {
  state: EngineState;
  /** One sentence for the status bar tooltip, e.g. "heed-tiny ready: 2 layers, 263-token vocabulary". */
  message: string;
  /** The model folder's base name once known. */
  model?: string;
  /** Where the problem is when state is "error" (a file path), for the notification. */
  detail?: string;
  /** Background work in progress (a warm-up reading the workspace), shown beside the state. */
  progress?: StatusProgress;
}

export interface StatusProgress {
  title: string;
  done: number;
  total: number;
}

/**
 * server → client notification: something the user should know about, once (a skipped
 * file, a model that failed to load). The client shows it as a notification and logs it.
 */
export const noticeNotification = 'heed/notice';

export interface NoticeParams {
  severity: 'info' | 'warning' | 'error';
  message: string;
}

/** Settings the client hands to the server in initializationOptions and on every change. */
export interface ServerSettings {
  /** Absolute path of the model folder (the embedded default when the user set none). */
  modelPath: string;
  /** Whether the model path is the embedded default: its errors mean a broken install. */
  modelIsDefault: boolean;
  completionEnabled: boolean;
  debounceMs: number;
  maxTokens: number;
  /** heed.completion.maxPromptTokens: tokens of the current file around the cursor. */
  maxPromptTokens: number;
  /** heed.context.maxTokens: tokens of other workspace files in a prompt, on top of the current file's; 0: the current file alone. */
  contextMaxTokens: number;
  /** heed.context.exclude: globs of workspace files never given as context, relative to each workspace folder. */
  contextExclude: string[];
  /** The globs of files.exclude that are on (`true`): VS Code hides those files, and Heed leaves them out of context too. */
  filesExclude: string[];
  threads: number;
  /** Linear weights as in the checkpoint (fp32) or quantized in blocks of 32 to 8 bits (int8) or 4 bits (int4): faster decoding, less exact. */
  weightFormat: WeightFormat;
  /** Folder where built model graphs are cached (the extension's global storage); none: build on every load. */
  graphCacheDir?: string;
  /** heed.cache.kvPolicy: every head full (dense), or only the pattern's retrieval heads (head-aware); +int8: the full heads' KV as int8. */
  kvPolicy: KvPolicySetting;
  /** heed.cache.retrievalRatio: the share of heads kept in full under head-aware; the pattern's choice when absent. */
  retrievalRatio?: number;
  /** Where head patterns made in the editor are kept (the extension's global storage); they take precedence over the model folder's. */
  headPatternDir?: string;
  /** heed.cache.memoryLimitMB: what the KV caches (the prefix cache and the sequence in use) may hold together. */
  memoryLimitMB: number;
  /** heed.cache.persist: save the workspace prefix's KV and restore it at the next start. */
  persistPrefix: boolean;
  /** Where this workspace's saved prefix lives (the extension's workspace storage); none: nothing is saved. */
  kvCacheDir?: string;
  /** heed.evidence.enabled: keep, with each completion, the workspace lines the retrieval heads attended to (hover, "Heed: Show Evidence"). */
  evidenceEnabled: boolean;
}

/**
 * client → server request (no params): calibrate the loaded model's KV heads on copy tasks
 * made from the workspace's code. The server reports progress as cancellable work-done
 * progress and answers with where it wrote the head pattern.
 */
export const calibrateRequest = 'heed/calibrate';

export interface CalibrateResult {
  patternFile: string;
  /** The pattern, one line per layer, for the output channel. */
  summary: string;
  /** Whether the loaded model now uses it (heed.cache.kvPolicy is head-aware or head-aware+int8). */
  inUse: boolean;
}

/** client → server notification: settings changed; the server reloads what they touch. */
export const settingsNotification = 'heed/settings';

// ---- Evidence: the workspace lines the model attended to ----

/** One context line the model attended to. Lines are 0-based; `score` is its share of the attention mass the report counts (0..1). */
export interface EvidenceLine {
  uri: string;
  /** The workspace-relative path, as the prompt showed it. */
  path: string;
  line: number;
  /** The line's text when the prompt was built (the file may have changed since). */
  text: string;
  score: number;
}

/** Adjacent evidence lines of one file, ranked by their summed score. */
export interface EvidenceSpan {
  uri: string;
  path: string;
  /** First and last line, both included, 0-based. */
  startLine: number;
  endLine: number;
  score: number;
  lines: EvidenceLine[];
}

/** Per file of the prompt: the score of each of its lines that the prompt held, for a heat strip. */
export interface EvidenceHeat {
  uri: string;
  path: string;
  /** The first line of the file the prompt held (0 for whole workspace files; the cut start for the current file). */
  firstLine: number;
  /** scores[i] is the score of line firstLine + i. */
  scores: number[];
}

/** One KV head's own top lines (its query heads' attention alone), for the per-head view. */
export interface EvidenceHead {
  layer: number;
  kvHead: number;
  lines: EvidenceLine[];
}

export interface EvidenceReport {
  id: string;
  kind: 'completion' | 'answer';
  /** What the model wrote. */
  text: string;
  /** Where it was asked: the document and 0-based position of the completion or the question's selection. */
  uri?: string;
  line?: number;
  character?: number;
  /** Which heads' attention this is, in words, e.g. "8 retrieval KV heads of 32 (head-pattern.json)". */
  heads: string;
  spans: EvidenceSpan[];
  /**
   * An answer's: the spans its question's own tokens attended to, before the answer was
   * written (for "where is …" questions, the answer, however weak the text).
   */
  questionSpans?: EvidenceSpan[];
  /**
   * Set when `questionSpans` are the question's attention less that of this question,
   * which names nothing, over the same workspace (what every question attends to).
   */
  questionBaseline?: string;
  /**
   * A report asked in a document (a completion): the spans of the other files' lines alone,
   * ranked among themselves, scores still shares of the whole report. The lines just above
   * the cursor usually lead `spans`; these are the context a user cannot see from there.
   */
  otherFileSpans?: EvidenceSpan[];
  heat: EvidenceHeat[];
  /** Each head's own lines, from the prompt's rows: its attention up to the first token. */
  perHead: EvidenceHead[];
  promptTokens: number;
  generatedTokens: number;
  /** Milliseconds spent on the evidence, and on the whole generation including it. */
  evidenceMs: number;
  totalMs: number;
}

/**
 * client → server request: the evidence report of a completion or an answer by id; without
 * one, of the accepted completion at the given position, else of the latest completion;
 * null when the server no longer holds it.
 */
export const evidenceRequest = 'heed/evidence';

export interface EvidenceParams {
  id?: string;
  /** A document position (0-based), for the accepted completion there. */
  uri?: string;
  line?: number;
  character?: number;
}

/**
 * client → server notification: the user accepted an inline completion (the command the
 * server put on the completion item). The server tracks the inserted text through later
 * edits and shows its evidence on hover over it.
 */
export const completionAcceptedNotification = 'heed/completionAccepted';

/** The command the server attaches to each inline completion item; its one argument is CompletionAcceptedParams. */
export const completionAcceptedCommand = 'heed.completionAccepted';

export interface CompletionAcceptedParams {
  id: string;
  uri: string;
  /** Where the text went in: 0-based position and the inserted text. */
  line: number;
  character: number;
  text: string;
}

// ---- Questions from the command palette ----

/**
 * client → server request: a question about the workspace (or about a selection), answered
 * over the same cached workspace prefix the completions use. While it runs the server
 * sends answerProgressNotification with the text so far; LSP cancellation stops it.
 */
export const askRequest = 'heed/ask';

export interface AskParams {
  /** Chosen by the client; progress notifications carry it. */
  askId: string;
  question: string;
  kind: 'workspace' | 'selection';
  /** The document and selection (0-based, end exclusive) for kind "selection"; the active document otherwise, when there is one. */
  uri?: string;
  selection?: { startLine: number; startCharacter: number; endLine: number; endCharacter: number };
  /** Earlier questions and answers in the same panel, oldest first (follow-ups). */
  history?: Array<{ question: string; answer: string }>;
}

export interface AskResult {
  answer: string;
  /**
   * What was asked of the model, in words: with a chat template, "chat"; with a base code
   * model, the code the question was framed as (e.g. a comment to complete).
   */
  framing: string;
  stopReason: string;
  /** The evidence; for "where is …" questions the ranked locations of its `questionSpans` are the answer. */
  evidence: EvidenceReport | null;
}

/** server → client notification: an answer's text so far. */
export const answerProgressNotification = 'heed/answerProgress';

export interface AnswerProgressParams {
  askId: string;
  text: string;
}
