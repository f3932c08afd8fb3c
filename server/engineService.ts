// The language server's view of the engine: which model is loaded, in what state, with
// which settings. It owns the ModelHost (the worker) and tells the client about state
// changes; features ask it for generations.

import type { KvRequest } from './engine/types';
import { kvLabel } from './engine/kvPolicy';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, rmSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { defaultCalibrateOptions, describePattern, writeHeadPattern, type CalibrateProgress } from './calibrate/calibrate';
import { ModelHost, JobFailedError, Priority, type CancelSignal } from './worker/modelHost';
import type { EvidenceRequest } from './engine/evidence';
import type { ModelSummary, PromptParts, WarmProgress, WarmResult } from './worker/messages';
import type { GenerateOptions, GenerateResult } from './engine/generate';
import type { CalibrateResult, EngineState, NoticeParams, ServerSettings, StatusParams, StatusProgress } from './protocol';

export interface EngineServiceEvents {
  status(params: StatusParams): void;
  notice(params: NoticeParams): void;
  log(line: string): void;
}

/** A file name in the editor's storage for a model folder: its name and a short hash of what the file depends on. */
function storageFileName(modelPath: string, identity: string, extension: string): string {
  return `${basename(modelPath)}-${createHash('sha256').update(identity).digest('hex').slice(0, 12)}${extension}`;
}

/** A completion or warm-up that computed at least this many tokens makes the saved prefix worth renewing. */
const persistAfterComputedTokens = 256;
/** Completions idle this long before the prefix is saved (saving holds the worker for a moment). */
const persistIdleMs = 15_000;
/** A save at reload or shutdown is waited for this long at most. */
const persistFlushMs = 5_000;

export class EngineService {
  private readonly host: ModelHost;
  private persistTimer: ReturnType<typeof setTimeout> | undefined;
  private status: StatusParams | undefined;
  private progress: StatusProgress | undefined;
  private state: EngineState = 'starting';
  private model: ModelSummary | undefined;
  private settings: ServerSettings | undefined;

  constructor(
    workerPath: string,
    private readonly events: EngineServiceEvents,
  ) {
    this.host = new ModelHost(workerPath, {
      onWorkerExit: (code, restarted) => {
        const message = restarted
          ? `The model worker stopped (exit code ${code}); Heed restarted it and is reloading the model.`
          : `The model worker stopped (exit code ${code}) three times within a minute; Heed stopped restarting it. Run "Heed: Restart server" to try again.`;
        this.events.log(message);
        this.events.notice({ severity: restarted ? 'warning' : 'error', message });
        if (restarted && this.model) this.setStatus('loading', `Reloading ${this.model.name} after the model worker stopped`);
        else if (!restarted) this.setStatus('error', 'The model worker keeps stopping');
      },
    });
  }

  get currentSettings(): ServerSettings | undefined {
    return this.settings;
  }

  get loadedModel(): ModelSummary | undefined {
    return this.state === 'ready' ? this.model : undefined;
  }

  /** Applies settings; reloads the model when its path or thread count changed. */
  async configure(settings: ServerSettings): Promise<void> {
    const previous = this.settings;
    this.settings = settings;
    const reload =
      !previous ||
      previous.modelPath !== settings.modelPath ||
      previous.threads !== settings.threads ||
      previous.weightFormat !== settings.weightFormat ||
      previous.graphCacheDir !== settings.graphCacheDir ||
      previous.kvPolicy !== settings.kvPolicy ||
      previous.retrievalRatio !== settings.retrievalRatio ||
      previous.memoryLimitMB !== settings.memoryLimitMB ||
      previous.persistPrefix !== settings.persistPrefix ||
      previous.kvCacheDir !== settings.kvCacheDir;
    if (reload) {
      // What the old model cached of the workspace is saved first, so the reload finds it.
      if (previous) await this.flushPersist(previous);
      await this.load(settings);
    } else if (!settings.completionEnabled) {
      this.setStatus('disabled', 'Inline completions are turned off (heed.completion.enabled)');
    } else if (this.state === 'disabled' && this.model) {
      this.setStatus('ready', this.readyMessage(this.model));
    }
  }

  private readyMessage(model: ModelSummary): string {
    const c = model.config;
    return `${model.name} ready: ${c.numLayers} layers, ${c.numHeads}/${c.numKvHeads} heads, ${c.vocabSize}-token vocabulary, context ${c.maxPositions} tokens`;
  }

  private async load(settings: ServerSettings): Promise<void> {
    this.model = undefined;
    const path = settings.modelPath;
    this.setStatus('loading', `Loading the model from ${path}`);
    if (!existsSync(path)) {
      const problem = settings.modelIsDefault
        ? `The embedded model is missing at ${path}: the installation is incomplete. Reinstall Heed, or set heed.model.path to a model folder.`
        : `heed.model.path points at ${path}, which does not exist. Set it to a Hugging Face model folder (config.json, *.safetensors, tokenizer.json), or clear it to use the embedded model.`;
      this.fail(problem, path);
      return;
    }
    try {
      const editorPattern = this.editorPatternFile(settings);
      const int8 = settings.kvPolicy.endsWith('+int8') ? { int8: true } : {};
      const kv: KvRequest = settings.kvPolicy.startsWith('head-aware')
        ? { policy: 'head-aware', ratio: settings.retrievalRatio, patternFile: editorPattern && existsSync(editorPattern) ? editorPattern : undefined, ...int8 }
        : { policy: 'dense', ...int8 };
      const prefixFile = this.prefixFile(settings);
      const model = await this.host.load({
        modelPath: path,
        threads: settings.threads,
        weightFormat: settings.weightFormat,
        graphCacheDir: settings.graphCacheDir,
        kv,
        memoryLimitMB: settings.memoryLimitMB,
        prefixFile,
      });
      for (const line of model.log) this.events.log(line);
      this.reportPrefix(model, prefixFile);
      if (model.kv.policy === 'dense' && model.kv.refused && this.settings === settings) this.events.notice({ severity: 'warning', message: model.kv.refused });
      // A newer configure() may have replaced these settings while this model loaded.
      if (this.settings !== settings) return;
      this.model = model;
      this.events.log(`Loaded ${model.name} from ${path} in ${model.loadMs.toFixed(0)} ms (${model.config.modelType}, chunk ${model.chunkTokens} tokens, KV cache ${kvLabel(model.kv)}).`);
      if (settings.completionEnabled) this.setStatus('ready', this.readyMessage(model));
      else this.setStatus('disabled', 'Inline completions are turned off (heed.completion.enabled)');
    } catch (error) {
      if (this.settings !== settings) return;
      const detail = error instanceof JobFailedError ? error.detail : { message: String(error) };
      this.fail(`Heed could not load the model at ${path}: ${detail.message}`, detail.file ?? path);
    }
  }

  private fail(message: string, detail: string): void {
    this.events.log(message);
    this.setStatus('error', message, detail);
    this.events.notice({ severity: 'error', message });
  }

  private setStatus(state: EngineState, message: string, detail?: string): void {
    this.state = state;
    this.status = { state, message, model: this.model?.name, detail };
    this.events.status(this.withProgress(this.status));
  }

  private withProgress(status: StatusParams): StatusParams {
    return this.progress && status.state === 'ready' ? { ...status, progress: this.progress } : status;
  }

  /** Shows background work beside the current state (none: clears it). */
  showProgress(progress: StatusProgress | undefined): void {
    this.progress = progress;
    if (this.status) this.events.status(this.withProgress(this.status));
  }

  async generate(prompt: PromptParts, maxPromptTokens: number, options: GenerateOptions, signal?: CancelSignal, evidence?: EvidenceRequest, onText?: (textSoFar: string) => void): Promise<GenerateResult> {
    const result = await this.host.generate(prompt, maxPromptTokens, options, signal, Priority.Interactive, onText, evidence);
    if (result.promptTokens - result.reusedTokens >= persistAfterComputedTokens) this.schedulePersist();
    return result;
  }

  /** Prefills `prompt` in the background (pre-empted by completions), reporting progress; a cancelled warm-up keeps what it computed. */
  async warm(prompt: PromptParts, maxPromptTokens: number, signal?: CancelSignal, onProgress?: (progress: WarmProgress) => void): Promise<WarmResult> {
    const result = await this.host.warm(prompt, maxPromptTokens, signal, onProgress);
    if (result.computedTokens >= persistAfterComputedTokens) this.schedulePersist();
    return result;
  }

  /** Where this workspace's prefix is saved for the model and cache settings; none when saving is off or there is no storage. */
  private prefixFile(settings: ServerSettings): string | undefined {
    if (!settings.persistPrefix || !settings.kvCacheDir) return undefined;
    const identity = JSON.stringify([settings.modelPath, settings.weightFormat, settings.kvPolicy, settings.retrievalRatio ?? null]);
    return join(settings.kvCacheDir, `prefix-${storageFileName(settings.modelPath, identity, '.heedkv')}`);
  }

  private reportPrefix(model: ModelSummary, file: string | undefined): void {
    const prefix = model.prefix;
    if (!prefix || !file) return;
    if ('restoredTokens' in prefix) {
      this.events.log(`Restored the workspace prefix from ${file}: ${prefix.restoredTokens} tokens in ${prefix.readMs.toFixed(0)} ms.`);
      return;
    }
    // A file that does not fit (another model, a damaged file) is discarded, never used.
    this.events.log(`Discarded the saved workspace prefix: ${prefix.problem}`);
    try {
      rmSync(file, { force: true });
    } catch (error) {
      this.events.log(`Could not remove ${file}: ${(error as Error).message}`);
    }
  }

  /** Saves the workspace prefix once completions have been idle for a while (after work worth saving). */
  private schedulePersist(): void {
    const settings = this.settings;
    if (!settings || !this.prefixFile(settings)) return;
    clearTimeout(this.persistTimer);
    this.persistTimer = setTimeout(() => void this.flushPersist(settings), persistIdleMs);
  }

  /** Runs a scheduled save now (before a reload or shutdown); at most persistFlushMs of waiting. */
  private async flushPersist(settings: ServerSettings): Promise<void> {
    if (this.persistTimer === undefined) return;
    clearTimeout(this.persistTimer);
    this.persistTimer = undefined;
    const file = this.prefixFile(settings);
    if (!file || this.state !== 'ready') return;
    const saving = this.host.persist(file).then(
      (saved) => {
        if (saved.tokens > 0) this.events.log(`Saved the workspace prefix to ${file}: ${saved.tokens} tokens, ${(saved.bytes / 2 ** 20).toFixed(1)} MB in ${saved.ms.toFixed(0)} ms.`);
      },
      // A full disk or a read-only folder: completions go on without a saved prefix.
      (error: unknown) => this.events.log(`Could not save the workspace prefix to ${file}: ${(error as Error).message}`),
    );
    await Promise.race([saving, new Promise((resolve) => setTimeout(resolve, persistFlushMs))]);
  }

  /** Where a pattern calibrated in the editor for this model folder lives (it takes precedence over the folder's own). */
  private editorPatternFile(settings: ServerSettings): string | undefined {
    if (!settings.headPatternDir) return undefined;
    return join(settings.headPatternDir, storageFileName(settings.modelPath, settings.modelPath, '.json'));
  }

  /**
   * Calibrates the loaded model's heads with code from `fillerDir`, writes the pattern into
   * the editor's storage, and reloads the model when the head-aware cache is chosen.
   */
  async calibrate(fillerDir: string, signal: CancelSignal, onProgress: (progress: CalibrateProgress) => void): Promise<CalibrateResult> {
    const settings = this.settings;
    if (!settings || this.state !== 'ready' || !this.model) throw new Error('no model is loaded; calibration needs one');
    const patternFile = this.editorPatternFile(settings);
    if (!patternFile) throw new Error('this editor gave Heed no storage folder for head patterns');
    const pattern = await this.host.calibrate(fillerDir, { ...defaultCalibrateOptions, fillerSource: fillerDir }, signal, onProgress);
    mkdirSync(dirname(patternFile), { recursive: true });
    writeHeadPattern(patternFile, pattern);
    this.events.log(`Wrote the head pattern of ${pattern.model.name} to ${patternFile}:\n${describePattern(pattern)}`);
    const inUse = settings.kvPolicy.startsWith('head-aware') && this.settings === settings;
    if (inUse) await this.load(settings);
    return { patternFile, summary: describePattern(pattern), inUse };
  }

  async dispose(): Promise<void> {
    if (this.settings) await this.flushPersist(this.settings);
    await this.host.dispose();
  }
}
