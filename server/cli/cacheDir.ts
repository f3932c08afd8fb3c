// Engine options shared by the commands: where built graphs are cached
// ($XDG_CACHE_HOME/heed/graphs, else ~/.cache/heed/graphs) and the weight format.

import { homedir } from 'node:os';
import { join } from 'node:path';
import type { WeightFormat } from '../engine/graph/decoderGraph';

export function parseWeightFormat(value: string): WeightFormat {
  if (value !== 'fp32' && value !== 'int4') throw new Error(`--weights takes fp32 or int4, not "${value}"`);
  return value;
}

export function defaultGraphCacheDir(): string {
  return join(process.env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'heed', 'graphs');
}
