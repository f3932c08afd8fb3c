// Paths in the workspace context: absolute and '/'-separated inside, relative to their
// workspace folder in the prompt.

import { basename, sep } from 'node:path';

export function toPosixPath(path: string): string {
  return sep === '/' ? path : path.split(sep).join('/');
}

/** The folder of `absPath` among `roots` (the innermost one), or undefined when it is outside them all. */
export function rootOf(absPath: string, roots: readonly string[]): string | undefined {
  let found: string | undefined;
  for (const root of roots) if (absPath.startsWith(`${root}/`) && (!found || root.length > found.length)) found = root;
  return found;
}

/** The path a prompt shows for `absPath`: relative to its folder, with the folder's name first in a multi-folder workspace. */
export function workspacePath(absPath: string, roots: readonly string[]): string {
  const root = rootOf(absPath, roots);
  if (!root) return basename(absPath);
  const relative = absPath.slice(root.length + 1);
  return roots.length > 1 ? `${basename(root)}/${relative}` : relative;
}
