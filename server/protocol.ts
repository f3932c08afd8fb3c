// Heed's custom LSP methods, imported by both the client (src/) and the server (server/).
// Each method's direction is stated beside it. This module holds names and shapes only:
// no runtime imports, so each side builds its typed message objects with its own library.

/** server → client notification: the engine's state, shown in the status bar. */
export const statusNotification = 'heed/status';

export type EngineState = 'starting' | 'loading' | 'ready' | 'error' | 'disabled';

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
  /** Linear weights as in the checkpoint (fp32) or quantized to 4 bits (int4: about 2x faster decoding, less exact). */
  weightFormat: 'fp32' | 'int4';
  /** Folder where built model graphs are cached (the extension's global storage); none: build on every load. */
  graphCacheDir?: string;
  /** heed.cache.kvPolicy: every head full (dense), or only the pattern's retrieval heads (head-aware). */
  kvPolicy: 'dense' | 'head-aware';
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
  /** Whether the loaded model now uses it (heed.cache.kvPolicy is head-aware). */
  inUse: boolean;
}

/** client → server notification: settings changed; the server reloads what they touch. */
export const settingsNotification = 'heed/settings';
