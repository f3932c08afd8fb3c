// Turns a KV request into the policy a model loads with. A head-aware request needs the
// model's head pattern (headPattern.ts): a missing, corrupt or foreign pattern, or one
// asking for heads the model lacks, is refused with the reason and the model loads dense,
// with a warning in the load log; never a wrong answer.

import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { chooseRetrievalHeads, headPatternFileName, readHeadPattern, retrievalHeadsAbove } from './headPattern';
import { checkInt8Block, defaultInt8BlockTokens } from './kvCacheInt8';
import type { DecoderConfig, KvPolicy, KvRequest } from './types';

/** `checkpointSha256` names the model (LoadedModel.checkpointSha256); it is hashed only when a pattern is read. */
export function resolveKvPolicy(folder: string, config: DecoderConfig, request: KvRequest | undefined, checkpointSha256: () => string, log: (line: string) => void): KvPolicy {
  if (request?.int8Block !== undefined) checkInt8Block(request.int8Block);
  const int8 = request?.int8 ? { int8Block: request.int8Block ?? defaultInt8BlockTokens } : {};
  return { ...resolveHeads(folder, config, request, checkpointSha256, log), ...int8 };
}

function resolveHeads(folder: string, config: DecoderConfig, request: KvRequest | undefined, checkpointSha256: () => string, log: (line: string) => void): KvPolicy {
  if (!request || request.policy === 'dense') return { policy: 'dense' };
  const patternFile = request.patternFile ?? join(folder, headPatternFileName);
  const fallBack = (why: string): KvPolicy => {
    const refused = `Warning: head-aware KV cache not used, the cache is dense: ${why}`;
    log(refused);
    return { policy: 'dense', refused };
  };
  if (!existsSync(patternFile)) return fallBack(`${patternFile} does not exist (run "heed calibrate" or the command "Heed: Calibrate heads" first)`);
  try {
    const pattern = readHeadPattern(patternFile, config, checkpointSha256());
    const sinks = request.sinks ?? pattern.sinks;
    const window = request.window ?? pattern.window;
    if (!Number.isInteger(sinks) || !Number.isInteger(window) || sinks < 0 || window < 0 || sinks + window < 1) {
      return fallBack(`sinks ${sinks} and window ${window} must be whole numbers, not both 0`);
    }
    if (request.threshold !== undefined) {
      if (request.ratio !== undefined) return fallBack('give a retrieval ratio or a score threshold, not both');
      const retrieval = retrievalHeadsAbove(pattern.heads, config.numLayers, request.threshold);
      const kept = retrieval.flat().length / pattern.heads.length;
      return { policy: 'head-aware', patternFile, retrieval, retrievalRatio: Number(kept.toFixed(4)), scoreThreshold: request.threshold, sinks, window };
    }
    const ratio = request.ratio ?? pattern.retrievalRatio;
    const retrieval = request.ratio === undefined ? pattern.retrieval : chooseRetrievalHeads(pattern.heads, config.numLayers, ratio);
    return { policy: 'head-aware', patternFile, retrieval, retrievalRatio: ratio, sinks, window };
  } catch (error) {
    return fallBack((error as Error).message);
  }
}

/** The policy's name as records give it: dense, head-aware, dense+int8 or head-aware+int8. */
export function kvName(kv: KvPolicy): string {
  return `${kv.policy}${kv.int8Block ? '+int8' : ''}`;
}

/** A short name for records and logs: "dense", "head-aware r0.25 s16 w496", "head-aware+int8 r0.25 s16 w496 b64". */
export function kvLabel(kv: KvPolicy): string {
  const block = kv.int8Block ? ` b${kv.int8Block}` : '';
  if (kv.policy === 'dense') return `${kvName(kv)}${block}`;
  const threshold = kv.scoreThreshold === undefined ? '' : ` t${kv.scoreThreshold}`;
  return `${kvName(kv)} r${kv.retrievalRatio}${threshold} s${kv.sinks} w${kv.window}${block}`;
}

/** What KV computed under a policy depends on, for matching cached KV to a cache: the retrieval heads, S and W, and the int8 block. */
export function kvIdentity(kv: KvPolicy): string {
  const int8 = kv.int8Block ? { int8Block: kv.int8Block } : {};
  if (kv.policy === 'dense') return kv.int8Block ? JSON.stringify({ dense: true, ...int8 }) : 'dense';
  return JSON.stringify({ retrieval: kv.retrieval, sinks: kv.sinks, window: kv.window, ...int8 });
}
