// The workspace files a completion prompt carries: the index of the workspace's usable
// files (walked when context is on, kept current from file events), what the editor has
// open (its text wins over the disk's), and which files were edited when. `select` ranks
// the files for the active document, keeps the best within the token budget, and lays them
// out in the cache-stable order as prompt parts.

import { fileURLToPath, pathToFileURL } from 'node:url';
import type { TextDocument } from 'vscode-languageserver-textdocument';
import type { PromptParts } from '../worker/messages';
import { contextParts, type ContextFile } from './assemble';
import { EditHistory } from './editHistory';
import { textSkipReason, type SkipReason } from './fileKinds';
import { importedFiles, ImportTargets } from './imports';
import { toPosixPath, workspacePath } from './paths';
import { rankFiles, selectWithinBudget, type Candidate, type RankedFile } from './rank';
import { WorkspaceFiles, type FileEvent, type WalkLimits } from './workspaceFiles';
import { describeWalk } from './walkSummary';

export interface OpenDocuments {
  get(uri: string): TextDocument | undefined;
  all(): TextDocument[];
}

export interface ContextSettings {
  /** heed.context.maxTokens: 0 turns workspace context off. */
  maxTokens: number;
  /** files.exclude and heed.context.exclude globs. */
  exclude: readonly string[];
}

export interface WorkspaceSelection {
  parts: PromptParts;
  files: number;
  estimatedTokens: number;
  /** The document URI of each file by the path the prompt shows (evidence maps prompt lines back to files). */
  uriOfPath: Map<string, string>;
}

const noSelection = (): WorkspaceSelection => ({ parts: [], files: 0, estimatedTokens: 0, uriOfPath: new Map() });

/** After a file event that needs a new walk, wait this long for more (a checkout sends many). */
const walkDelayMs = 1000;

/** The absolute '/'-separated path of a file: URI, or undefined for other schemes. */
export function filePathOf(uri: string): string | undefined {
  return uri.startsWith('file:') ? toPosixPath(fileURLToPath(uri)) : undefined;
}

export interface WorkspaceContextOptions {
  limits?: Partial<WalkLimits>;
  /** The clock edits are timed by. */
  now?: () => number;
}

export class WorkspaceContext {
  readonly history: EditHistory;
  private roots: string[] = [];
  private index: WorkspaceFiles | undefined;
  private excludeKey: string | undefined;
  private walkTimer: NodeJS.Timeout | undefined;
  private walking: Promise<unknown> = Promise.resolve();
  private updating: Promise<unknown> = Promise.resolve();
  private openSkips = new Map<string, { version: number; reason: SkipReason | undefined }>();
  private importMemo: { uri: string; version: number; indexVersion: number; imported: ReadonlySet<string> } | undefined;
  private targetsMemo: { indexVersion: number; targets: ImportTargets } | undefined;
  private rankMemo: { key: string; ranked: RankedFile[] } | undefined;

  private readonly limits: Partial<WalkLimits>;

  constructor(
    private readonly documents: OpenDocuments,
    private readonly log: (line: string) => void,
    options: WorkspaceContextOptions = {},
  ) {
    this.limits = options.limits ?? {};
    this.history = new EditHistory(options.now);
  }

  /** Absolute folder paths of the workspace (OS form). */
  setRoots(roots: readonly string[]): void {
    this.roots = roots.map(toPosixPath);
  }

  /** Applies settings: walks the workspace when context turns on or its excludes change; forgets it when context turns off. */
  configure(settings: ContextSettings): void {
    if (settings.maxTokens <= 0 || this.roots.length === 0) {
      this.dispose();
      return;
    }
    const key = JSON.stringify(settings.exclude);
    if (this.index && key === this.excludeKey) return;
    this.excludeKey = key;
    this.index ??= new WorkspaceFiles(this.roots, this.limits);
    const invalid = this.index.setExcludes(settings.exclude);
    if (invalid.length > 0) this.log(`Workspace context: ignored exclude globs that are not valid: ${invalid.map((glob) => JSON.stringify(glob)).join(', ')}`);
    this.startWalk();
  }

  /** Resolves once no walk, scheduled walk or file update is pending (the warm-up waits for it; tests too). */
  async idle(): Promise<void> {
    for (;;) {
      const pending = [this.walking, this.updating];
      await Promise.all(pending);
      if (pending[0] === this.walking && pending[1] === this.updating && this.walkTimer === undefined) return;
      if (this.walkTimer !== undefined) await new Promise((resolve) => setTimeout(resolve, walkDelayMs));
    }
  }

  /** Forgets the workspace: a walk in progress stops at its next yield, and texts are let go. */
  dispose(): void {
    clearTimeout(this.walkTimer);
    this.walkTimer = undefined;
    this.index?.stop();
    this.index = undefined;
    this.excludeKey = undefined;
    this.rankMemo = undefined;
    this.importMemo = undefined;
    this.targetsMemo = undefined;
  }

  /** File events from the editor's watcher, applied one batch after another. */
  fileEvents(events: readonly FileEvent[]): void {
    const index = this.index;
    if (!index || events.length === 0) return;
    this.updating = this.updating
      .then(async () => {
        if ((await index.update(events)) === 'walk' && this.index === index) this.scheduleWalk();
      })
      // One failed batch must not stop the ones after it.
      .catch((error: unknown) => this.log(`Workspace context: a file update failed: ${error instanceof Error ? error.message : String(error)}`));
  }

  documentOpened(document: TextDocument): void {
    const path = filePathOf(document.uri);
    if (path) this.history.opened(path, document.version);
  }

  documentChanged(document: TextDocument): void {
    const path = filePathOf(document.uri);
    if (path) this.history.changed(path, document.version);
  }

  documentClosed(uri: string): void {
    const path = filePathOf(uri);
    if (path) this.history.closed(path);
    this.openSkips.delete(uri);
  }

  private startWalk(): void {
    clearTimeout(this.walkTimer);
    this.walkTimer = undefined;
    const index = this.index;
    if (!index) return;
    this.walking = index.walk().then(
      (summary) => summary && this.log(describeWalk(summary)),
      (error: unknown) => this.log(`Workspace context: the walk failed: ${error instanceof Error ? error.message : String(error)}`),
    );
  }

  private scheduleWalk(): void {
    clearTimeout(this.walkTimer);
    this.walkTimer = setTimeout(() => this.startWalk(), walkDelayMs);
  }

  /** Why an open document is not context (its text as the editor has it now). */
  private openSkipReason(document: TextDocument): SkipReason | undefined {
    const known = this.openSkips.get(document.uri);
    if (known?.version === document.version) return known.reason;
    const reason = textSkipReason(document.getText());
    this.openSkips.set(document.uri, { version: document.version, reason });
    return reason;
  }

  private importsOf(index: WorkspaceFiles, active: TextDocument, activePath: string): ReadonlySet<string> {
    const memo = this.importMemo;
    if (memo && memo.uri === active.uri && memo.version === active.version && memo.indexVersion === index.version) return memo.imported;
    if (this.targetsMemo?.indexVersion !== index.version) this.targetsMemo = { indexVersion: index.version, targets: new ImportTargets(new Set(index.files.keys())) };
    const imported = new Set(importedFiles(activePath, active.getText(), this.targetsMemo.targets));
    this.importMemo = { uri: active.uri, version: active.version, indexVersion: index.version, imported };
    return imported;
  }

  /**
   * The workspace files for a completion in `active`, within `budgetTokens` by the
   * server's estimate. The ranking is remembered while nothing it depends on changes, so a
   * keystroke in the active file costs a selection, not a sort of the workspace.
   */
  async select(active: TextDocument, budgetTokens: number): Promise<WorkspaceSelection> {
    const index = this.index;
    if (!index || budgetTokens <= 0) return noSelection();
    const activePath = filePathOf(active.uri) ?? active.uri;

    // Open documents other than the active one: candidates with the editor's text, or not
    // candidates at all when that text is skipped (minified, binary).
    const open = new Map<string, TextDocument>();
    const skippedOpen = new Set<string>();
    for (const document of this.documents.all()) {
      const path = filePathOf(document.uri);
      if (!path || path === activePath) continue;
      if (!index.files.has(path) && index.pathSkipReason(path) !== undefined) continue;
      if (this.openSkipReason(document)) skippedOpen.add(path);
      else open.set(path, document);
    }
    const imported = this.importsOf(index, active, activePath);
    const edits = [...this.history.all].filter(([path]) => path !== activePath);
    const key = JSON.stringify([index.version, activePath, [...imported], [...open.values()].map((d) => [d.uri, d.version]), [...skippedOpen], edits]);
    if (this.rankMemo?.key !== key) {
      const candidates = new Map<string, Candidate>(index.files);
      for (const path of skippedOpen) candidates.delete(path);
      for (const [path, document] of open) {
        candidates.set(path, { absPath: path, path: workspacePath(path, this.roots), chars: document.getText().length, modifiedMs: index.files.get(path)?.modifiedMs ?? 0 });
      }
      const ranked = rankFiles(candidates.values(), { activePath, imported, open: new Set(open.keys()), lastEditMs: new Map(edits) });
      this.rankMemo = { key, ranked };
    }

    const selected = selectWithinBudget(this.rankMemo.ranked, budgetTokens);
    const files: ContextFile[] = [];
    const uriOfPath = new Map<string, string>();
    let estimatedTokens = 0;
    for (const [i, file] of selected.entries()) {
      const text = open.get(file.absPath)?.getText() ?? (await index.readText(file.absPath));
      if (text === undefined) continue;
      uriOfPath.set(file.path, open.get(file.absPath)?.uri ?? pathToFileURL(file.absPath).href);
      files.push({ path: file.path, text, dropRank: i + 1, modifiedMs: file.modifiedMs, lastEditMs: this.history.lastEditMs(file.absPath) });
      estimatedTokens += file.estimatedTokens;
    }
    return { parts: contextParts(files), files: files.length, estimatedTokens, uriOfPath };
  }
}
