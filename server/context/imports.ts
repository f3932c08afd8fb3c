// The workspace files a file imports, found by regular expressions (no parser: the text
// is mid-edit and often does not parse) and resolved against the workspace's files.
// TypeScript/JavaScript: `import … from`, `export … from`, side-effect `import 'x'`,
// dynamic `import('x')`, `require('x')`, `/// <reference path>`; relative specifiers, and
// `@/` or `~/` aliases by the files whose paths end the same way. Python: `import a.b`,
// `from a.b import c` (c may be a module), `from .x import y`, `from . import y`.

import { commonPrefixLength } from '../eval/pathProximity';

const scriptFile = /\.(?:[mc]?[jt]sx?)$/;
const pythonFile = /\.pyi?$/;

const scriptPatterns = [
  // import x from 'a'; import { a, type b } from 'a'; import * as ns from 'a'; export { a } from 'a'; export * from 'a'
  /(?:^|[;}\n])\s*(?:import|export)\s+(?:type\s+)?[\w*${},\s]*?\s*from\s*(['"])([^'"\n]+)\1/g,
  // import 'a'; import('a')
  /\bimport\s*\(?\s*(['"])([^'"\n]+)\1/g,
  // require('a'), import x = require('a')
  /\brequire\s*\(\s*(['"])([^'"\n]+)\1\s*\)/g,
  // /// <reference path="a.d.ts" />
  /^\/\/\/\s*<reference\s+path\s*=\s*(['"])([^'"\n]+)\1/gm,
];

/** Module specifiers of a TypeScript or JavaScript text, in order of appearance, each once. */
export function scriptSpecifiers(text: string): string[] {
  // Comments that begin a line go (a commented-out import is not one); comments after code
  // stay, since telling them from a string holding '//' or '/*' takes a parser.
  const code = text.replace(/^\s*\/\*[\s\S]*?\*\//gm, '').replace(/^[ \t]*\/\/(?!\/\s*<reference).*$/gm, '');
  const found: { at: number; specifier: string }[] = [];
  for (const pattern of scriptPatterns) for (const match of code.matchAll(pattern)) found.push({ at: match.index, specifier: match[2] });
  found.sort((a, b) => a.at - b.at);
  return [...new Set(found.map((f) => f.specifier))];
}

export interface PythonImport {
  /** Leading dots of a relative import (0: absolute). */
  level: number;
  /** Dotted module path, possibly empty (`from . import x`). */
  module: string;
  /** Names after `from … import`, which may be submodules. */
  names: string[];
}

/** Imports of a Python text, in order of appearance. */
export function pythonImports(text: string): PythonImport[] {
  const code = text.replace(/^[ \t]*#.*$/gm, '');
  const found: { at: number; entry: PythonImport }[] = [];
  for (const match of code.matchAll(/^[ \t]*from[ \t]+(\.*)([\w.]*)[ \t]+import[ \t]+(\([^)]*\)|[^\n#;]*)/gm)) {
    const names = match[3]
      .replace(/[()\\]/g, ' ')
      .split(',')
      .map((name) => name.trim().split(/\s+/)[0])
      .filter((name) => /^\w+$/.test(name));
    found.push({ at: match.index, entry: { level: match[1].length, module: match[2], names } });
  }
  for (const match of code.matchAll(/^[ \t]*import[ \t]+([^\n#;]+)/gm)) {
    for (const item of match[1].split(',')) {
      const module = item.trim().split(/\s+/)[0];
      if (/^\w+(?:\.\w+)*$/.test(module)) found.push({ at: match.index, entry: { level: 0, module, names: [] } });
    }
  }
  return found.sort((a, b) => a.at - b.at).map((f) => f.entry);
}

/** The workspace's files as imports see them: a set of absolute '/'-separated paths, with lookups by path ending. */
export class ImportTargets {
  private readonly byName = new Map<string, string[]>();

  constructor(readonly paths: ReadonlySet<string>) {
    for (const path of paths) {
      const name = path.slice(path.lastIndexOf('/') + 1);
      const list = this.byName.get(name);
      if (list) list.push(path);
      else this.byName.set(name, [path]);
    }
  }

  has(path: string): boolean {
    return this.paths.has(path);
  }

  /** Files whose path ends with `/${tail}`, the one sharing the longest folder prefix with `near` first. */
  endingWith(tail: string, near: string): string[] {
    const name = tail.slice(tail.lastIndexOf('/') + 1);
    const shared = (path: string) => commonPrefixLength(path, near);
    return (this.byName.get(name) ?? [])
      .filter((path) => path.endsWith(`/${tail}`))
      .sort((a, b) => shared(b) - shared(a) || (a < b ? -1 : a > b ? 1 : 0));
  }
}

/** `a/b/../c/./d` → `a/c/d` for absolute '/'-separated paths. */
function normalize(path: string): string {
  const out: string[] = [];
  for (const part of path.split('/')) {
    if (part === '..') {
      if (out.length > 1) out.pop();
    } else if (part !== '.') {
      out.push(part);
    }
  }
  return out.join('/');
}

const scriptExtensions = ['.ts', '.tsx', '.d.ts', '.js', '.jsx', '.mjs', '.cjs', '.mts', '.cts'];
/** An ESM import names the built file ('./x.js'); the workspace holds its source ('x.ts'). */
const sourceOfBuilt: Record<string, string[]> = { '.js': ['.ts', '.tsx'], '.jsx': ['.tsx'], '.mjs': ['.mts'], '.cjs': ['.cts'] };

function resolveScriptPath(base: string, targets: ImportTargets): string | undefined {
  const candidates = [base];
  const extension = /\.[mc]?jsx?$/.exec(base)?.[0];
  if (extension) for (const source of sourceOfBuilt[extension] ?? []) candidates.push(base.slice(0, -extension.length) + source);
  for (const ext of scriptExtensions) candidates.push(base + ext);
  for (const ext of scriptExtensions) candidates.push(`${base}/index${ext}`);
  return candidates.find((candidate) => targets.has(candidate));
}

function resolveScript(importer: string, specifier: string, targets: ImportTargets): string | undefined {
  const folder = importer.slice(0, importer.lastIndexOf('/'));
  if (specifier.startsWith('./') || specifier.startsWith('../') || specifier === '.' || specifier === '..') {
    return resolveScriptPath(normalize(`${folder}/${specifier}`), targets);
  }
  if (specifier.startsWith('/')) return resolveScriptPath(normalize(specifier), targets);
  // Path aliases of a source folder (`@/components/x`, `~/lib/y`): a file ending that way.
  const alias = /^[@~]\/(.+)$/.exec(specifier)?.[1];
  if (!alias) return undefined;
  const tails = [alias, ...scriptExtensions.map((ext) => alias + ext), ...scriptExtensions.map((ext) => `${alias}/index${ext}`)];
  for (const tail of tails) {
    const found = targets.endingWith(tail, importer)[0];
    if (found) return found;
  }
  return undefined;
}

/** A Python module path's file: `a/b.py`, `a/b.pyi` or `a/b/__init__.py` under `folder`, or, for absolute imports, anywhere it ends that way. */
function resolvePythonModule(moduleTail: string, importer: string, targets: ImportTargets, folder?: string): string | undefined {
  const tails = [`${moduleTail}.py`, `${moduleTail}.pyi`, `${moduleTail}/__init__.py`];
  for (const tail of tails) {
    if (folder !== undefined) {
      if (targets.has(`${folder}/${tail}`)) return `${folder}/${tail}`;
    } else {
      const found = targets.endingWith(tail, importer)[0];
      if (found) return found;
    }
  }
  return undefined;
}

function resolvePython(importer: string, entry: PythonImport, targets: ImportTargets): string[] {
  const modulePath = entry.module.replace(/\./g, '/');
  let folder: string | undefined;
  if (entry.level > 0) {
    folder = importer.slice(0, importer.lastIndexOf('/'));
    for (let up = 1; up < entry.level; up++) folder = folder.slice(0, folder.lastIndexOf('/'));
  }
  const resolved: string[] = [];
  const add = (path: string | undefined) => path && !resolved.includes(path) && resolved.push(path);
  if (modulePath) add(resolvePythonModule(modulePath, importer, targets, folder));
  // `from pkg import name`: name may be a submodule of pkg.
  for (const name of entry.names) {
    const tail = modulePath ? `${modulePath}/${name}` : name;
    if (folder !== undefined || modulePath) add(resolvePythonModule(tail, importer, targets, folder));
  }
  return resolved;
}

/** The workspace files `importer` (absolute, '/'-separated) imports, in order of appearance, without itself. */
export function importedFiles(importer: string, text: string, targets: ImportTargets): string[] {
  const resolved: string[] = [];
  if (scriptFile.test(importer)) {
    for (const specifier of scriptSpecifiers(text)) {
      const path = resolveScript(importer, specifier, targets);
      if (path && !resolved.includes(path)) resolved.push(path);
    }
  } else if (pythonFile.test(importer)) {
    for (const entry of pythonImports(text)) for (const path of resolvePython(importer, entry, targets)) if (!resolved.includes(path)) resolved.push(path);
  }
  return resolved.filter((path) => path !== importer);
}
