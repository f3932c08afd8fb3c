// The workspace's source files that may go into a completion prompt: found by an async
// walk of the workspace folders (the language server's main thread yields between
// files), kept up to date from file events. Ignored, generated, lock, binary, minified and
// oversized files are skipped and counted per reason. Texts stay in memory within a
// character budget and are read again from disk when they were dropped.

import { readdir, readFile, stat } from 'node:fs/promises';
import { basename } from 'node:path';
import { compileVsCodeGlob, excludesFile, excludesFolder, excludesPath } from './glob';
import { addRulesAbove, IgnoreRules, parseGitignore, readOptional } from './gitignore';
import { decodeText, fileNameSkipReason, folderSkipReason, textSkipReason, type SkipReason } from './fileKinds';
import { TextCache } from './textCache';
import type { WalkSummary } from './walkSummary';
import { rootOf, workspacePath } from './paths';

export interface WorkspaceFile {
  /** Absolute path, '/'-separated. */
  absPath: string;
  /** The path the prompt shows: relative to its folder (prefixed by the folder's name when the workspace has several). */
  path: string;
  /** Length of its text, for the token estimate. */
  chars: number;
  /** When it last changed on disk (ms since the epoch): the prompt orders untouched files by it. */
  modifiedMs: number;
}

export interface WalkLimits {
  /** Files looked at before the walk stops (skipped ones count too). */
  maxFiles: number;
  /** Files larger than this are not read. */
  maxFileBytes: number;
  /** Texts kept in memory at most; others are read from disk when a prompt needs them. */
  maxCachedChars: number;
  /** Entries handled between two yields to the event loop. */
  yieldEvery: number;
}

export const defaultWalkLimits: WalkLimits = { maxFiles: 20_000, maxFileBytes: 1 << 20, maxCachedChars: 8 << 20, yieldEvery: 200 };

export type FileEventKind = 'created' | 'changed' | 'deleted';

export interface FileEvent {
  absPath: string;
  kind: FileEventKind;
}

const yieldToEventLoop = () => new Promise<void>((resolve) => setImmediate(resolve));

export class WorkspaceFiles {
  private current = new Map<string, WorkspaceFile>();
  private ignoreRules = new IgnoreRules();
  private excludeGlobs: RegExp[] = [];
  private generation = 0;
  private walking: Promise<WalkSummary | undefined> | undefined;
  /** File events that arrived during a walk, applied to its result. */
  private pendingEvents: FileEvent[] = [];
  private readonly texts: TextCache;
  private readonly limits: WalkLimits;
  private changes = 0;

  /** `roots`: absolute folder paths, '/'-separated. */
  constructor(
    readonly roots: readonly string[],
    limits: Partial<WalkLimits> = {},
  ) {
    this.limits = { ...defaultWalkLimits, ...limits };
    this.texts = new TextCache(this.limits.maxCachedChars);
  }

  /** Grows whenever the set of usable files or their texts may have changed. */
  get version(): number {
    return this.changes;
  }

  /** Usable files by absolute path. */
  get files(): ReadonlyMap<string, WorkspaceFile> {
    return this.current;
  }

  /**
   * VS Code globs (files.exclude, heed.context.exclude), relative to each folder; applied
   * by the next walk. Returns the globs that could not be compiled (they exclude nothing).
   */
  setExcludes(globs: readonly string[]): string[] {
    const invalid: string[] = [];
    this.excludeGlobs = globs.flatMap((glob) => {
      if (glob.trim().length === 0) return [];
      try {
        return [compileVsCodeGlob(glob)];
      } catch {
        invalid.push(glob);
        return [];
      }
    });
    return invalid;
  }

  /** Walks the folders anew; resolves with undefined when a newer walk replaced this one. */
  walk(): Promise<WalkSummary | undefined> {
    const generation = ++this.generation;
    const walking = this.walkAll(generation);
    this.walking = walking;
    void walking.finally(() => {
      if (this.walking === walking) this.walking = undefined;
    });
    return walking;
  }

  /** Stops a walk in progress (it resolves with undefined) and lets the texts go. */
  stop(): void {
    this.generation++;
    this.texts.clear();
  }

  /** The text of a usable file: from memory, else read and checked again (undefined if it no longer qualifies). */
  async readText(absPath: string): Promise<string | undefined> {
    const cached = this.texts.get(absPath);
    if (cached !== undefined) return cached;
    const file = await this.readUsable(absPath);
    if (file === undefined || typeof file === 'string') return undefined;
    this.texts.set(absPath, file.text);
    return file.text;
  }

  /**
   * Why `absPath` is not a candidate, from its path alone (ignore rules, excludes, names),
   * checking the folders above it too; undefined when it may be one (a folder: may hold some).
   */
  pathSkipReason(absPath: string, isFolder = false): SkipReason | undefined {
    const root = rootOf(absPath, this.roots);
    if (!root) return 'ignored';
    const relative = absPath.slice(root.length + 1);
    const names = relative.split('/');
    const folders = isFolder ? names : names.slice(0, -1);
    if (folders.some((name) => folderSkipReason(name) !== undefined)) return 'generated';
    const excluded = excludesFile(this.excludeGlobs, relative) || (isFolder && excludesFolder(this.excludeGlobs, relative));
    if (excluded || this.ignoreRules.ignoresWithAncestors(root, absPath, isFolder)) return 'ignored';
    return isFolder ? undefined : fileNameSkipReason(names[names.length - 1]);
  }

  /**
   * Applies file events: a changed or created file is read again, a deleted one (or a
   * deleted folder's files) dropped. Returns 'walk' when only a new walk can follow the
   * change: an ignore file changed, or a folder appeared.
   */
  async update(events: readonly FileEvent[]): Promise<'updated' | 'walk'> {
    if (this.walking) {
      // A walk in progress may already have passed the folder of a new file or read an
      // ignore file before it changed: only a new walk is sure to see those.
      if (events.some((event) => event.kind === 'created' || this.changesIgnoreRules(event.absPath))) return 'walk';
      this.pendingEvents.push(...events);
      return 'updated';
    }
    // Deleted paths that were not usable files may be folders: their files go in one pass at the end.
    const deletedOthers = new Set<string>();
    for (const event of events) {
      const absPath = event.absPath;
      if (!rootOf(absPath, this.roots)) continue;
      if (this.changesIgnoreRules(absPath)) return 'walk';
      this.texts.delete(absPath);
      if (event.kind === 'deleted') {
        if (!this.current.delete(absPath)) deletedOthers.add(absPath);
        this.changes++;
        continue;
      }
      const info = await stat(absPath).catch(() => undefined);
      if (info?.isDirectory()) {
        if (event.kind === 'created' && this.pathSkipReason(absPath, true) === undefined) return 'walk';
        continue;
      }
      const file = info && this.pathSkipReason(absPath) === undefined ? await this.readUsable(absPath) : undefined;
      if (file === undefined || typeof file === 'string') {
        this.current.delete(absPath);
      } else {
        this.current.set(absPath, { absPath, path: workspacePath(absPath, this.roots), chars: file.text.length, modifiedMs: file.modifiedMs });
        this.texts.set(absPath, file.text);
      }
      // Counted once the index holds the change: a ranking made in between must not pass for current.
      this.changes++;
    }
    if (deletedOthers.size > 0) {
      for (const path of [...this.current.keys()]) {
        for (let slash = path.lastIndexOf('/'); slash > 0; slash = path.lastIndexOf('/', slash - 1)) {
          if (!deletedOthers.has(path.slice(0, slash))) continue;
          this.current.delete(path);
          this.texts.delete(path);
          break;
        }
      }
      this.changes++;
    }
    return 'updated';
  }

  /** Whether `absPath` is an ignore file the walk reads (not one inside a skipped folder). */
  private changesIgnoreRules(absPath: string): boolean {
    if (absPath.endsWith('/.git/info/exclude')) return true;
    if (basename(absPath) !== '.gitignore') return false;
    const folder = absPath.slice(0, absPath.lastIndexOf('/'));
    return this.roots.includes(folder) || this.pathSkipReason(folder, true) === undefined;
  }

  /** Reads and checks a file that passed the name tests: its text, or why it is skipped. */
  private async readUsable(absPath: string): Promise<{ text: string; modifiedMs: number } | SkipReason | undefined> {
    const info = await stat(absPath).catch(() => undefined);
    if (!info?.isFile()) return undefined;
    if (info.size > this.limits.maxFileBytes) return 'oversized';
    const bytes = await readFile(absPath).catch(() => undefined);
    if (!bytes) return undefined;
    const text = decodeText(bytes);
    if (text === undefined) return 'binary';
    return textSkipReason(text) ?? { text, modifiedMs: info.mtimeMs };
  }

  private async walkAll(generation: number): Promise<WalkSummary | undefined> {
    const started = performance.now();
    const files = new Map<string, WorkspaceFile>();
    const rules = new IgnoreRules();
    const skipped: Record<SkipReason, number> = { ignored: 0, generated: 0, lock: 0, unsupported: 0, oversized: 0, binary: 0, minified: 0, link: 0 };
    let seenFiles = 0;
    let handled = 0;
    let truncated = false;
    let usableChars = 0;

    for (const root of this.roots) {
      await addRulesAbove(root, rules);
      // Folders still to walk, popped from the end: pushed in reverse name order so that
      // the walk goes in name order (which files a truncated walk saw is then repeatable).
      const folders = [root];
      while (folders.length > 0 && !truncated) {
        const folder = folders.pop()!;
        const entries = await readdir(folder, { withFileTypes: true }).catch(() => []);
        entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
        // The folder's own rules apply to its entries, so they are read first.
        if (entries.some((entry) => entry.name === '.gitignore' && entry.isFile())) {
          const gitignore = await readOptional(`${folder}/.gitignore`);
          if (gitignore !== undefined) rules.add(folder, parseGitignore(gitignore));
        }
        const subfolders: string[] = [];
        for (const entry of entries) {
          if (++handled % this.limits.yieldEvery === 0) {
            await yieldToEventLoop();
            if (this.generation !== generation) return undefined;
          }
          const absPath = `${folder}/${entry.name}`;
          const relative = absPath.slice(root.length + 1);
          if (entry.isDirectory()) {
            const reason = folderSkipReason(entry.name) ?? (excludesFolder(this.excludeGlobs, relative) || rules.ignores(absPath, true) ? 'ignored' : undefined);
            if (reason) skipped[reason]++;
            else subfolders.push(absPath);
            continue;
          }
          if (entry.isSymbolicLink()) {
            skipped.link++;
            continue;
          }
          if (!entry.isFile()) continue;
          if (++seenFiles > this.limits.maxFiles) {
            truncated = true;
            break;
          }
          const nameReason = excludesPath(this.excludeGlobs, relative) || rules.ignores(absPath, false) ? 'ignored' : fileNameSkipReason(entry.name);
          if (nameReason) {
            skipped[nameReason]++;
            continue;
          }
          const file = await this.readUsable(absPath);
          if (file === undefined) continue;
          if (typeof file === 'string') {
            skipped[file]++;
            continue;
          }
          files.set(absPath, { absPath, path: workspacePath(absPath, this.roots), chars: file.text.length, modifiedMs: file.modifiedMs });
          usableChars += file.text.length;
          this.texts.set(absPath, file.text);
        }
        for (let i = subfolders.length - 1; i >= 0; i--) folders.push(subfolders[i]);
      }
      if (this.generation !== generation) return undefined;
    }
    if (this.generation !== generation) return undefined;
    this.current = files;
    this.ignoreRules = rules;
    this.changes++;
    const pending = this.pendingEvents;
    this.pendingEvents = [];
    this.walking = undefined;
    // Events that came during the walk may postdate what it read; a later walk (if one is
    // needed) is the caller's to start.
    if (pending.length > 0) await this.update(pending);
    return { files: files.size, usableChars, skipped, filesSeen: Math.min(seenFiles, this.limits.maxFiles), truncated, elapsedMs: performance.now() - started };
  }
}
