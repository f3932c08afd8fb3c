// Engine options shared by the commands: where built graphs are cached
// ($XDG_CACHE_HOME/heed/graphs, else ~/.cache/heed/graphs), the weight format and how int4 computes.

import { homedir } from 'node:os';
import { join } from 'node:path';
import type { Int4Compute } from '../engine/graph/decoderGraph';
import { asWeightFormat, weightFormats, type WeightFormat } from '../engine/weightFormat';

export function parseWeightFormat(value: string): WeightFormat {
  const format = asWeightFormat(value);
  if (!format) throw new Error(`--weights takes ${weightFormats.join(', ')}, not "${value}"`);
  return format;
}

export function parseInt4Compute(value: string): Int4Compute {
  if (value !== 'int8' && value !== 'fp32') throw new Error(`--int4-compute takes int8 or fp32, not "${value}"`);
  return value;
}

export function defaultGraphCacheDir(): string {
  return join(process.env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'heed', 'graphs');
}
