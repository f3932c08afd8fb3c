// Turns a KV request into the policy a model loads with. A head-aware request needs the
// model's head pattern (headPattern.ts): a missing, corrupt or foreign pattern, or one
// asking for heads the model lacks, is refused with the reason and the model loads dense,
// with a warning in the load log; never a wrong answer.

import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { chooseRetrievalHeads, headPatternFileName, readHeadPattern } from './headPattern';
import type { DecoderConfig, KvPolicy, KvRequest } from './types';

/** `checkpointSha256` names the model (LoadedModel.checkpointSha256); it is hashed only when a pattern is read. */
export function resolveKvPolicy(folder: string, config: DecoderConfig, request: KvRequest | undefined, checkpointSha256: () => string, log: (line: string) => void): KvPolicy {
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
    const ratio = request.ratio ?? pattern.retrievalRatio;
    const retrieval = request.ratio === undefined ? pattern.retrieval : chooseRetrievalHeads(pattern.heads, config.numLayers, ratio);
    return { policy: 'head-aware', patternFile, retrieval, retrievalRatio: ratio, sinks, window };
  } catch (error) {
    return fallBack((error as Error).message);
  }
}

/** A short name for records and logs: "dense", or "head-aware r0.25 s16 w496". */
export function kvLabel(kv: KvPolicy): string {
  return kv.policy === 'dense' ? 'dense' : `head-aware r${kv.retrievalRatio} s${kv.sinks} w${kv.window}`;
}

/** What KV computed under a policy depends on, for matching cached KV to a cache: the retrieval heads, S and W. */
export function kvIdentity(kv: KvPolicy): string {
  return kv.policy === 'dense' ? 'dense' : JSON.stringify({ retrieval: kv.retrieval, sinks: kv.sinks, window: kv.window });
}
