// Which files of a workspace are "near" a file: the longer the common prefix of their
// paths, the nearer (same folder before sibling folders before the rest); ties by path.

/** Characters `a` and `b` share at their start. */
export function commonPrefixLength(a: string, b: string): number {
  let i = 0;
  while (i < a.length && i < b.length && a[i] === b[i]) i++;
  return i;
}

/** `paths` ordered nearest to `path` first (a new array; each distance computed once). */
export function nearestFirst(paths: string[], path: string): string[] {
  return paths
    .map((p) => ({ p, shared: commonPrefixLength(p, path) }))
    .sort((a, b) => b.shared - a.shared || (a.p < b.p ? -1 : a.p > b.p ? 1 : 0))
    .map(({ p }) => p);
}
