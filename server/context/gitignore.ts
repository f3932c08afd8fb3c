// .gitignore semantics for the workspace walk (gitignore(5)): blank lines and '#' comments
// are skipped, unescaped trailing spaces dropped, '!' negates, a trailing '/' matches only
// folders, a pattern with a '/' at its start or middle is anchored to its file's folder
// (otherwise it matches at any depth below it), and the last matching rule decides, a
// deeper file's rules coming after its parents'. A file under an ignored folder stays
// ignored whatever a later rule says: the walk never enters such a folder, and
// `ignoresWithAncestors` checks the folders above a path first. A folder opened inside a
// repository also gets the rules from above it (`addRulesAbove`).

import { lstat, readFile } from 'node:fs/promises';
import { globSource } from './glob';

export interface IgnoreRule {
  negate: boolean;
  /** From a trailing '/': the rule matches folders only. */
  folderOnly: boolean;
  /** Tests a path relative to the folder of the file that holds the rule. */
  regex: RegExp;
}

/** Drops trailing spaces unless a backslash escapes them ("a\ " keeps one). */
function trimTrailingSpaces(line: string): string {
  let end = line.length;
  while (end > 0 && line[end - 1] === ' ') {
    let backslashes = 0;
    for (let i = end - 2; i >= 0 && line[i] === '\\'; i--) backslashes++;
    if (backslashes % 2 === 1) break;
    end--;
  }
  return line.slice(0, end);
}

export function parseGitignore(text: string): IgnoreRule[] {
  const rules: IgnoreRule[] = [];
  for (const raw of text.split('\n')) {
    let line = trimTrailingSpaces(raw.replace(/\r$/, ''));
    if (line.length === 0 || line.startsWith('#')) continue;
    const negate = line.startsWith('!');
    if (negate) line = line.slice(1);
    const folderOnly = line.endsWith('/') && !line.endsWith('\\/');
    if (folderOnly) line = line.slice(0, -1);
    if (line.length === 0) continue;
    const anchored = line.includes('/');
    if (line.startsWith('/')) line = line.slice(1);
    if (line.length === 0) continue;
    const source = `^${anchored ? '' : '(?:.*/)?'}${globSource(line, { braces: false })}$`;
    try {
      rules.push({ negate, folderOnly, regex: new RegExp(source) });
    } catch {
      // A class git cannot match either (a reversed range such as [z-a]): the line matches nothing.
    }
  }
  return rules;
}

/**
 * The ignore rules of a tree, by the absolute folder ('/'-separated, no trailing '/') of
 * the file they came from. Paths given to it are absolute and '/'-separated too.
 */
export class IgnoreRules {
  private readonly byFolder = new Map<string, IgnoreRule[]>();

  /** Adds rules for `folder`; rules added later for the same folder take precedence. */
  add(folder: string, rules: IgnoreRule[]): void {
    if (rules.length === 0) return;
    const existing = this.byFolder.get(folder);
    this.byFolder.set(folder, existing ? [...existing, ...rules] : rules);
  }

  get size(): number {
    return this.byFolder.size;
  }

  /** Whether the rules ignore `path` itself (the folders above it are not checked). */
  ignores(path: string, isFolder: boolean): boolean {
    if (this.byFolder.size === 0) return false;
    let ignored = false;
    // Every folder above `path`, outermost first, so that deeper rules are applied later.
    for (let slash = path.indexOf('/'); slash >= 0; slash = path.indexOf('/', slash + 1)) {
      const folder = slash === 0 ? '' : path.slice(0, slash);
      const rules = this.byFolder.get(folder);
      if (!rules) continue;
      const relative = path.slice(slash + 1);
      for (const rule of rules) {
        if (rule.folderOnly && !isFolder) continue;
        if (rule.regex.test(relative)) ignored = !rule.negate;
      }
    }
    return ignored;
  }

  /** Whether `path` or any folder above it (below `top`) is ignored. */
  ignoresWithAncestors(top: string, path: string, isFolder: boolean): boolean {
    for (let slash = path.indexOf('/', top.length + 1); slash >= 0; slash = path.indexOf('/', slash + 1)) {
      if (this.ignores(path.slice(0, slash), true)) return true;
    }
    return this.ignores(path, isFolder);
  }
}

/** A file's text, or undefined when it cannot be read. */
export async function readOptional(path: string): Promise<string | undefined> {
  try {
    return await readFile(path, 'utf8');
  } catch {
    return undefined;
  }
}

/** The folder holding `.git` at or above `folder`, or undefined outside a repository. */
async function repositoryTop(folder: string): Promise<string | undefined> {
  for (let current = folder; ; ) {
    if (await lstat(`${current}/.git`).then(() => true, () => false)) return current;
    const slash = current.lastIndexOf('/');
    if (slash <= 0) return undefined;
    current = current.slice(0, slash);
  }
}

/**
 * Adds the rules that reach `root` from the repository around it: the repository's
 * info/exclude and the .gitignore files from its top down to `root` (exclusive; the walk
 * reads `root`'s own). Git applies them to a subfolder opened alone, so Heed does too.
 */
export async function addRulesAbove(root: string, rules: IgnoreRules): Promise<void> {
  const top = await repositoryTop(root);
  if (!top) return;
  const exclude = await readOptional(`${top}/.git/info/exclude`);
  if (exclude !== undefined) rules.add(top, parseGitignore(exclude));
  for (let folder = top; folder !== root; ) {
    const gitignore = await readOptional(`${folder}/.gitignore`);
    if (gitignore !== undefined) rules.add(folder, parseGitignore(gitignore));
    const next = root.indexOf('/', folder.length + 1);
    folder = next < 0 ? root : root.slice(0, next);
  }
}
