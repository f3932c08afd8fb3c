// The main thread's handle on the model worker: a priority queue of jobs, one in flight,
// cancellation through shared memory, and a restart when the worker dies.

import { Worker } from 'node:worker_threads';
import { applyToNewThreads } from '../engine/runtime/v8Heap';
import { unpackEvidence } from './evidenceWire';
import type { FromWorker, JobError, JobRequest, JobResult, ModelSummary, PartialUpdate, PersistResult, PromptParts, WarmProgress, WarmResult, WorkerInit } from './messages';
import type { GenerateOptions, GenerateResult, ScoreResult } from '../engine/generate';
import type { HeadPattern } from '../engine/headPattern';
import type { CalibrateOptions, CalibrateProgress } from '../calibrate/calibrate';
import type { EvidenceRequest } from '../engine/evidence';

export type LoadRequest = Omit<Extract<JobRequest, { kind: 'load' }>, 'kind'>;

/** What the host needs of a cancellation token; LSP's CancellationToken fits. */
export interface CancelSignal {
  readonly isCancellationRequested: boolean;
  onCancellationRequested(listener: () => void): { dispose(): void };
}

/** A cancellation signal and the switch that raises it, for callers without LSP's own. */
export class CancelSource {
  private readonly listeners = new Set<() => void>();
  private cancelled = false;
  readonly signal: CancelSignal;

  constructor() {
    const isCancelled = () => this.cancelled;
    this.signal = {
      get isCancellationRequested() {
        return isCancelled();
      },
      onCancellationRequested: (listener) => {
        this.listeners.add(listener);
        return { dispose: () => this.listeners.delete(listener) };
      },
    };
  }

  cancel(): void {
    if (this.cancelled) return;
    this.cancelled = true;
    for (const listener of [...this.listeners]) listener();
  }
}

export class JobFailedError extends Error {
  constructor(readonly detail: JobError) {
    super(detail.message);
    this.name = detail.cancelled ? 'CancelledError' : 'JobFailedError';
  }
  get cancelled(): boolean {
    return this.detail.cancelled === true;
  }
}

/** Lower runs first: interactive work pre-empts background work at the queue. */
export const enum Priority {
  Interactive = 0,
  Background = 1,
}

interface Job {
  id: number;
  request: JobRequest;
  priority: Priority;
  resolve(result: JobResult): void;
  reject(error: Error): void;
  cancelled: boolean;
  onPartial?(update: PartialUpdate): void;
}

export interface ModelHostEvents {
  /** The worker died; it has been restarted and the model reloaded, or not (`restarted`). */
  onWorkerExit?(exitCode: number, restarted: boolean): void;
}

const maxRestartsPerMinute = 3;

export class ModelHost {
  private worker!: Worker;
  private readonly cancelFlag: Int32Array; // [1]: id of the job to cancel
  private readonly cancelBuffer = new SharedArrayBuffer(4);
  private queue: Job[] = [];
  private inFlight: Job | undefined;
  private nextId = 1;
  private disposed = false;
  private lastLoad: LoadRequest | undefined;
  private restarts: number[] = [];

  constructor(
    private readonly workerPath: string,
    private readonly events: ModelHostEvents = {},
  ) {
    this.cancelFlag = new Int32Array(this.cancelBuffer);
    this.spawn();
  }

  private spawn(): void {
    const init: WorkerInit = { cancelBuffer: this.cancelBuffer };
    applyToNewThreads(); // the worker's heap settings (v8Heap.ts)
    this.worker = new Worker(this.workerPath, { workerData: init });
    this.worker.on('message', (message: FromWorker) => this.onMessage(message));
    // An 'error' event (an uncaught exception in the worker) is followed by 'exit'.
    this.worker.on('error', () => undefined);
    this.worker.on('exit', (code) => this.onExit(code));
  }

  private onMessage(message: FromWorker): void {
    const job = this.inFlight;
    if (!job || job.id !== message.id) return;
    if ('partial' in message) {
      job.onPartial?.(message.partial);
      return;
    }
    this.inFlight = undefined;
    if (message.ok) job.resolve(message.result);
    else job.reject(new JobFailedError(message.error));
    this.pump();
  }

  private onExit(exitCode: number): void {
    if (this.disposed) return;
    const job = this.inFlight;
    this.inFlight = undefined;
    job?.reject(new JobFailedError({ message: `the model worker stopped (exit code ${exitCode})` }));
    const now = Date.now();
    this.restarts = this.restarts.filter((t) => now - t < 60_000);
    const restart = this.restarts.length < maxRestartsPerMinute;
    if (restart) {
      this.restarts.push(now);
      this.spawn();
      // The model goes back in ahead of whatever was queued.
      if (this.lastLoad) this.enqueue({ kind: 'load', ...this.lastLoad }, Priority.Interactive, undefined, true).catch(() => undefined);
    } else {
      for (const queued of this.queue.splice(0)) queued.reject(new JobFailedError({ message: 'the model worker keeps stopping; restart the server' }));
    }
    this.events.onWorkerExit?.(exitCode, restart);
    this.pump();
  }

  private pump(): void {
    if (this.inFlight || this.disposed) return;
    const job = this.queue.shift();
    if (!job) return;
    this.inFlight = job;
    this.worker.postMessage({ id: job.id, job: job.request });
  }

  private enqueue(
    request: JobRequest,
    priority: Priority,
    signal?: CancelSignal,
    atFront = false,
    onPartial?: (update: PartialUpdate) => void,
  ): Promise<JobResult> {
    if (this.disposed) return Promise.reject(new Error('the model host is disposed'));
    return new Promise<JobResult>((resolve, reject) => {
      const job: Job = { id: this.nextId++, request, priority, resolve, reject, cancelled: false, onPartial };
      if (signal?.isCancellationRequested) {
        reject(new JobFailedError({ message: 'cancelled', cancelled: true }));
        return;
      }
      const subscription = signal?.onCancellationRequested(() => this.cancel(job));
      const settle = <T>(fn: (value: T) => void) => (value: T) => {
        subscription?.dispose();
        fn(value);
      };
      job.resolve = settle(resolve);
      job.reject = settle(reject);
      // Stable insertion by priority.
      let at = atFront ? 0 : this.queue.findIndex((queued) => queued.priority > priority);
      if (at < 0) at = this.queue.length;
      this.queue.splice(at, 0, job);
      // A background warm-up in flight yields to interactive work between forward passes.
      const running = this.inFlight;
      if (priority === Priority.Interactive && running?.priority === Priority.Background && running.request.kind === 'warm') this.cancel(running);
      this.pump();
    });
  }

  private cancel(job: Job): void {
    if (job.cancelled) return;
    job.cancelled = true;
    const queuedAt = this.queue.indexOf(job);
    if (queuedAt >= 0) {
      this.queue.splice(queuedAt, 1);
      job.reject(new JobFailedError({ message: 'cancelled', cancelled: true }));
    } else if (this.inFlight === job) {
      // Seen by the worker at its next forward-pass boundary.
      Atomics.store(this.cancelFlag, 0, job.id);
    }
  }

  async load(request: LoadRequest): Promise<ModelSummary> {
    this.lastLoad = undefined;
    const result = await this.enqueue({ kind: 'load', ...request }, Priority.Interactive);
    if (result.kind !== 'load') throw new Error(`unexpected ${result.kind} result`);
    this.lastLoad = request;
    return result.model;
  }

  async generate(
    prompt: PromptParts,
    maxPromptTokens: number,
    options: GenerateOptions,
    signal?: CancelSignal,
    priority = Priority.Interactive,
    onText?: (textSoFar: string) => void,
    evidence?: EvidenceRequest,
  ): Promise<GenerateResult> {
    const job: JobRequest = { kind: 'generate', prompt, maxPromptTokens, options, stream: onText !== undefined, ...(evidence ? { evidence } : {}) };
    const result = await this.enqueue(job, priority, signal, false, onText && ((update) => typeof update === 'string' && onText(update)));
    if (result.kind !== 'generate') throw new Error(`unexpected ${result.kind} result`);
    const { evidence: packed, ...generated } = result.result;
    return packed ? { ...generated, evidence: unpackEvidence(packed) } : generated;
  }

  /** The log-probability of `continuation` after `context`, token by token. */
  async score(context: PromptParts, maxContextTokens: number, continuation: string, signal?: CancelSignal): Promise<ScoreResult> {
    const result = await this.enqueue({ kind: 'score', context, maxContextTokens, continuation }, Priority.Interactive, signal);
    if (result.kind !== 'score') throw new Error(`unexpected ${result.kind} result`);
    return result.result;
  }

  /** Calibrates the loaded model's heads (calibrate/calibrate.ts), reporting progress after each sample. */
  async calibrate(fillerDir: string, options: CalibrateOptions, signal?: CancelSignal, onProgress?: (progress: CalibrateProgress) => void): Promise<HeadPattern> {
    const result = await this.enqueue({ kind: 'calibrate', fillerDir, options }, Priority.Interactive, signal, false, onProgress && ((update) => typeof update !== 'string' && 'samplesDone' in update && onProgress(update)));
    if (result.kind !== 'calibrate') throw new Error(`unexpected ${result.kind} result`);
    return result.pattern;
  }

  /**
   * Prefills a prompt without generating (the workspace prefix, ahead of completions), in the
   * background: any interactive job pre-empts it at its next forward pass, and the chunks it
   * finished stay cached.
   */
  async warm(prompt: PromptParts, maxPromptTokens: number, signal?: CancelSignal, onProgress?: (progress: WarmProgress) => void): Promise<WarmResult> {
    const result = await this.enqueue({ kind: 'warm', prompt, maxPromptTokens }, Priority.Background, signal, false, onProgress && ((update) => typeof update !== 'string' && 'warmedTokens' in update && onProgress(update)));
    if (result.kind !== 'warm') throw new Error(`unexpected ${result.kind} result`);
    return result.result;
  }

  /** Saves the workspace part of the latest prompt's KV to `file`, in the background. */
  async persist(file: string): Promise<PersistResult> {
    const result = await this.enqueue({ kind: 'persist', file }, Priority.Background);
    if (result.kind !== 'persist') throw new Error(`unexpected ${result.kind} result`);
    return result.result;
  }

  async dispose(): Promise<void> {
    this.disposed = true;
    for (const job of this.queue.splice(0)) job.reject(new Error('the model host is disposed'));
    this.inFlight?.reject(new Error('the model host is disposed'));
    this.inFlight = undefined;
    await this.worker.terminate();
  }
}
