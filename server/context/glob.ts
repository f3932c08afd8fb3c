// Glob patterns as regular expressions over '/'-separated relative paths, in the two
// dialects the workspace walk meets: VS Code's (`files.exclude`, `heed.context.exclude`:
// `{a,b}` alternatives) and gitignore's (no braces). Shared rules: `*` and `?` stay within
// one path segment, `[…]` is a character class (`!` or `^` negates it, never matching '/'),
// `**` as a whole segment spans any number of segments, and a backslash escapes the next
// character. A `**` inside a segment (`a**b`) is a plain `*`, as git treats it.

export interface GlobOptions {
  /** VS Code globs expand `{a,b}`; gitignore treats braces literally. */
  braces: boolean;
}

const regexSpecials = /[.*+?^${}()|[\]\\/]/g;

function escapeLiteral(text: string): string {
  return text.replace(regexSpecials, '\\$&');
}

/** The class `[...]` starting at `start`, as regex source and the index after it; undefined when it does not close. */
function characterClass(glob: string, start: number): { source: string; end: number } | undefined {
  let i = start + 1;
  let negated = false;
  if (glob[i] === '!' || glob[i] === '^') {
    negated = true;
    i++;
  }
  let body = '';
  // A ']' right after the opening (or its negation) is a member, not the end.
  let first = true;
  for (; i < glob.length; i++) {
    const ch = glob[i];
    if (ch === ']' && !first) return { source: negated ? `[^/${body}]` : `[${body}]`, end: i + 1 };
    first = false;
    if (ch === '\\' && i + 1 < glob.length) {
      body += escapeLiteral(glob[++i]);
    } else if (ch === '-') {
      body += '-';
    } else {
      body += ch === '/' ? '' : escapeLiteral(ch);
    }
  }
  return undefined;
}

/** The alternatives of `{a,b}` starting at `start` (top-level commas only) and the index after it. */
function braceAlternatives(glob: string, start: number): { alternatives: string[]; end: number } | undefined {
  let depth = 0;
  let from = start + 1;
  const alternatives: string[] = [];
  for (let i = start; i < glob.length; i++) {
    const ch = glob[i];
    if (ch === '\\') {
      i++;
    } else if (ch === '{') {
      depth++;
    } else if (ch === '}') {
      depth--;
      if (depth === 0) {
        alternatives.push(glob.slice(from, i));
        return { alternatives, end: i + 1 };
      }
    } else if (ch === ',' && depth === 1) {
      alternatives.push(glob.slice(from, i));
      from = i + 1;
    }
  }
  return undefined;
}

/** Regex source (unanchored) for `glob`. */
export function globSource(glob: string, options: GlobOptions): string {
  let out = '';
  let i = 0;
  while (i < glob.length) {
    const ch = glob[i];
    if (ch === '*') {
      let j = i;
      while (glob[j] === '*') j++;
      const wholeSegment = j - i >= 2 && (i === 0 || glob[i - 1] === '/') && (j === glob.length || glob[j] === '/');
      if (!wholeSegment) {
        out += '[^/]*';
        i = j;
      } else if (j === glob.length) {
        // `**` at the end (after a '/', or the whole pattern): everything below.
        out += '.*';
        i = j;
      } else {
        // `**/`: zero or more whole segments.
        out += '(?:.*/)?';
        i = j + 1;
      }
    } else if (ch === '?') {
      out += '[^/]';
      i++;
    } else if (ch === '[') {
      const cls = characterClass(glob, i);
      if (cls) {
        out += cls.source;
        i = cls.end;
      } else {
        out += '\\[';
        i++;
      }
    } else if (ch === '{' && options.braces) {
      const braces = braceAlternatives(glob, i);
      if (braces) {
        out += `(?:${braces.alternatives.map((alternative) => globSource(alternative, options)).join('|')})`;
        i = braces.end;
      } else {
        out += '\\{';
        i++;
      }
    } else if (ch === '\\' && i + 1 < glob.length) {
      out += escapeLiteral(glob[i + 1]);
      i += 2;
    } else {
      out += escapeLiteral(ch);
      i++;
    }
  }
  return out;
}

/**
 * A VS Code glob (`files.exclude`, `heed.context.exclude`) as a test of workspace-relative
 * paths. A leading '/' or './' is dropped (VS Code matches relative to the folder either way).
 */
export function compileVsCodeGlob(glob: string): RegExp {
  const relative = glob.replace(/^\.?\//, '');
  return new RegExp(`^${globSource(relative, { braces: true })}$`);
}

/**
 * Whether a folder is excluded by VS Code globs: the folder itself matches, or a pattern
 * covers everything in it (`dist/**`, `out/*`), tested as its path with a trailing '/'.
 */
export function excludesFolder(globs: readonly RegExp[], folderPath: string): boolean {
  return globs.some((glob) => glob.test(folderPath) || glob.test(`${folderPath}/`));
}

/** Whether a file is excluded by VS Code globs, its folders aside (a walk has checked them on its way down). */
export function excludesPath(globs: readonly RegExp[], filePath: string): boolean {
  return globs.some((glob) => glob.test(filePath));
}

/** Whether a file, or one of the folders above it, is excluded by VS Code globs. */
export function excludesFile(globs: readonly RegExp[], filePath: string): boolean {
  if (globs.length === 0) return false;
  if (excludesPath(globs, filePath)) return true;
  for (let slash = filePath.indexOf('/'); slash >= 0; slash = filePath.indexOf('/', slash + 1)) {
    if (excludesFolder(globs, filePath.slice(0, slash))) return true;
  }
  return false;
}
