// Where the command line caches built graphs: $XDG_CACHE_HOME/heed/graphs, else ~/.cache/heed/graphs.

import { homedir } from 'node:os';
import { join } from 'node:path';

export function defaultGraphCacheDir(): string {
  return join(process.env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'heed', 'graphs');
}
