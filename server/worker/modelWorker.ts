// The model worker: a worker_thread that owns the loaded model and does all inference.
// InferenceSession.run() is synchronous, so this thread is busy for whole jobs while the
// language server's main thread keeps answering (and cancelling) requests.

import { parentPort, workerData } from 'node:worker_threads';
import { loadModel } from '../engine/loadModel';
import { weightsIdentity } from '../engine/graph/decoderGraph';
import { CachedSequence, CancelledError, generate, score } from '../engine/generate';
import { PrefixCache } from '../engine/cachedSequence';
import { ModelLoadError, type LoadedModel } from '../engine/types';
import { tokenizePrompt, type PartTokens } from '../engine/promptTokens';
import { chooseEvidenceHeads, EvidenceCollector, readFolderRetrieval } from '../engine/evidence';
import { packEvidence } from './evidenceWire';
import type { FromWorker, JobError, JobRequest, JobResult, PersistResult, ToWorker, WorkerInit } from './messages';
import { existsSync } from 'node:fs';
import { prefixKeyOf, type PrefixKey } from '../engine/prefixStore';
import { calibrate, type CalibrateProgress } from '../calibrate/calibrate';
import { fillerPool } from '../calibrate/tasks';
import { readSourceFiles } from '../eval/caseGen';

if (!parentPort) throw new Error('modelWorker.js must run as a worker thread');
const port = parentPort;
const cancelFlag = new Int32Array((workerData as WorkerInit).cancelBuffer);

let model: LoadedModel | undefined;
let cached: CachedSequence | undefined;
/** The weights the model computes with (decoderGraph.ts weightsIdentity): persisted KV must match them (with the model and its KV cache). */
let weightsKey = 'fp32';
/** The token ids of the latest prompt (its workspace part is what a persist job saves). */
let latestPrompt: number[] | undefined;
/** The loaded model's folder: evidence under the dense cache reads its head pattern from there. */
let modelFolder = '';

/** The KV memory limit when the load names none: about 60k tokens of the embedded model's dense cache. */
const defaultMemoryLimitMB = 1024;

/** Filler tokens read for a calibration: enough for its samples without tokenizing a whole large folder. */
const calibrationFillerTokens = 400_000;
/** Source text read for it at most: a workspace of 100k files is not walked whole. */
const calibrationFillerBytes = 4 << 20;

async function run(id: number, job: JobRequest): Promise<JobResult> {
  const shouldStop = () => Atomics.load(cancelFlag, 0) === id;
  if (job.kind === 'load') {
    const started = performance.now();
    const previous = model;
    model = undefined;
    cached = undefined;
    await previous?.dispose();
    const log: string[] = [];
    const loaded = await loadModel(job.modelPath, {
      threads: job.threads,
      weightFormat: job.weightFormat,
      graphCacheDir: job.graphCacheDir,
      kv: job.kv,
      log: (line) => log.push(line),
    });
    model = loaded;
    cached = new CachedSequence(loaded, new PrefixCache((job.memoryLimitMB ?? defaultMemoryLimitMB) * 2 ** 20));
    weightsKey = weightsIdentity(job.weightFormat);
    latestPrompt = undefined;
    modelFolder = job.modelPath;
    // The key hashes the checkpoint: only when there is a file to check it against.
    const prefix = job.prefixFile && existsSync(job.prefixFile) ? restorePrefix(cached, job.prefixFile, prefixKeyOf(loaded, weightsKey)) : undefined;
    return {
      kind: 'load',
      model: {
        name: loaded.name,
        config: loaded.config,
        special: loaded.tokenizer.special,
        fimOrder: loaded.tokenizer.fimOrder,
        hasChatTemplate: loaded.tokenizer.chatTemplate !== undefined,
        ...(loaded.tokenizer.chatTemplate?.includes('<|im_start|>') ? { chatFormat: 'chatml' as const } : {}),
        chunkTokens: loaded.chunkTokens,
        kv: loaded.kv,
        loadMs: performance.now() - started,
        log,
        ...(prefix ? { prefix } : {}),
      },
    };
  }
  if (!model || !cached) throw new Error('no model is loaded');
  if (job.kind === 'score') {
    const contextIds = tokenizePrompt(model.tokenizer, job.context, job.maxContextTokens);
    return { kind: 'score', result: score(cached, contextIds, model.tokenizer.encode(job.continuation), shouldStop) };
  }
  if (job.kind === 'calibrate') {
    const loaded = model;
    const pool = fillerPool(loaded.tokenizer, readSourceFiles(job.fillerDir, calibrationFillerBytes), calibrationFillerTokens);
    if (pool.files.length === 0) throw new Error(`${job.fillerDir} holds no source files (.py, .ts, .js, …) to use as filler`);
    const progress = (p: CalibrateProgress) => port.postMessage({ id, partial: p } satisfies FromWorker);
    return { kind: 'calibrate', pattern: calibrate(loaded, loaded.checkpointSha256(), pool, job.options, shouldStop, progress) };
  }
  if (job.kind === 'persist') return { kind: 'persist', result: persistPrefix(cached, job.file) };
  const fit = { droppedUnits: 0 };
  const map: PartTokens[] = [];
  const promptIds = tokenizePrompt(model.tokenizer, job.prompt, job.maxPromptTokens, fit, job.kind === 'generate' && job.evidence ? map : undefined);
  latestPrompt = promptIds;
  if (job.kind === 'warm') {
    const started = performance.now();
    const progress = (warmedTokens: number, promptTokens: number) => port.postMessage({ id, partial: { warmedTokens, promptTokens } } satisfies FromWorker);
    const { reused } = cached.prefill(promptIds, shouldStop, progress);
    return { kind: 'warm', result: { promptTokens: promptIds.length, computedTokens: promptIds.length - reused, ms: performance.now() - started } };
  }
  const onToken = job.stream ? (text: string) => port.postMessage({ id, partial: text } satisfies FromWorker) : undefined;
  if (!job.evidence) return { kind: 'generate', result: { ...generate(cached, promptIds, job.options, shouldStop, onToken), droppedPromptUnits: fit.droppedUnits } };
  const loaded = model;
  const fromPart = job.evidence.fromPart === undefined ? undefined : map.find((entry) => entry.part === job.evidence!.fromPart);
  const promptRows = fromPart ? promptIds.length - fromPart.start : 1;
  const collector = new EvidenceCollector(loaded, chooseEvidenceHeads(loaded, job.evidence.heads, () => folderRetrieval(loaded)), job.evidence, promptIds, promptRows);
  const result = generate(cached, promptIds, job.options, shouldStop, onToken, collector);
  // Evidence never costs the completion: a failure is reported beside it.
  try {
    const evidence = collector.finish(cached.sequence, result.tokens, map);
    return { kind: 'generate', result: { ...result, totalMs: result.totalMs + evidence.ms, evidence: packEvidence(evidence), droppedPromptUnits: fit.droppedUnits } };
  } catch (error) {
    return { kind: 'generate', result: { ...result, evidenceProblem: error instanceof Error ? error.message : String(error), droppedPromptUnits: fit.droppedUnits } };
  }
}

/** The retrieval heads of the model folder's own head pattern, read once per load. */
let folderPattern: { model: LoadedModel; found: ReturnType<typeof readFolderRetrieval> } | undefined;

function folderRetrieval(loaded: LoadedModel): ReturnType<typeof readFolderRetrieval> {
  if (folderPattern?.model !== loaded) folderPattern = { model: loaded, found: readFolderRetrieval(loaded, modelFolder) };
  return folderPattern.found;
}

/** Reads a saved workspace prefix into the prefix cache; a file that does not fit is reported, never used. */
function restorePrefix(into: CachedSequence, file: string, key: PrefixKey): { restoredTokens: number; readMs: number } | { problem: string } {
  const started = performance.now();
  try {
    const restoredTokens = into.prefixCache!.load(file, key, into.sequence.segmentHeads);
    return { restoredTokens, readMs: performance.now() - started };
  } catch (error) {
    return { problem: error instanceof Error ? error.message : String(error) };
  }
}

/**
 * What the prefix cache holds of the latest prompt: its workspace part, and the active
 * file's part too, which a restart finds again when the editor reopens the file at the same
 * place (elsewhere, the workspace part still matches).
 */
function persistPrefix(from: CachedSequence, file: string): PersistResult {
  const started = performance.now();
  if (!latestPrompt || !model) return { tokens: 0, bytes: 0, ms: 0 };
  const { tokens, bytes } = from.prefixCache!.save(file, prefixKeyOf(model, weightsKey), latestPrompt, latestPrompt.length);
  return { tokens, bytes, ms: performance.now() - started };
}

function describe(error: unknown): JobError {
  if (error instanceof CancelledError) return { message: 'cancelled', cancelled: true };
  if (error instanceof ModelLoadError) return { message: error.message, file: error.file };
  return { message: error instanceof Error ? error.message : String(error) };
}

// Jobs run strictly one after another: the host sends the next only after this one answers.
port.on('message', (message: ToWorker) => {
  run(message.id, message.job).then(
    (result) => port.postMessage({ id: message.id, ok: true, result } satisfies FromWorker),
    (error: unknown) => port.postMessage({ id: message.id, ok: false, error: describe(error) } satisfies FromWorker),
  );
});
