// The prompts of the cache benchmark: a workspace of real files in the repo-level layout of
// the completion prompt (workspace files in a stable order, the active file last with the
// cursor part in the model's FIM order), and the edits a user makes between two requests.
// Token ids are built file by file, as the worker tokenizes prompt parts, so an edit
// re-tokenizes only the file it touches.

import type { Tokenizer } from '../engine/types';
import type { SourceFile } from '../eval/caseGen';
import { prefixStart } from '../features/completion/documentContext';
import { promptFormatFor } from '../features/completion/prompt';

/** Tokens left free for what the scenarios type and change. */
const typingRoomTokens = 64;
/** Tokens the active file contributes after the cursor at most. */
const cursorSideTokens = 512;
/** Characters before the cursor at most (the completion feature's default budget, about). */
const prefixChars = 4608;

export interface WorkspaceState {
  /** Workspace files' texts by path, edits applied. */
  texts: Map<string, string>;
  active: string;
  /** Character offset of the cursor in the active file. */
  cursor: number;
}

export class CacheWorkload {
  readonly contextPaths: readonly string[];
  /** The two files the benchmark types in: the first is active at the start. */
  readonly activePaths: [string, string];
  private readonly encoded = new Map<string, number[]>();

  readonly initial: WorkspaceState;

  constructor(
    private readonly tokenizer: Tokenizer,
    files: SourceFile[],
    readonly contextTokens: number,
  ) {
    // The two largest files are the ones typed in; the rest, by path, fill the context.
    const bySize = [...files].sort((a, b) => b.text.length - a.text.length || a.path.localeCompare(b.path));
    if (bySize.length < 3) throw new Error('the cache benchmark needs a workspace of at least three source files');
    this.activePaths = [bySize[0].path, bySize[1].path];
    const texts = new Map(files.map((f) => [f.path, f.text]));
    this.initial = { texts, active: this.activePaths[0], cursor: Math.floor(bySize[0].text.length / 2) };
    // The repo header and the active file's part first; context files fill the rest, with room for the typing.
    const budget = contextTokens - this.headIds().length - this.activeIds(this.initial).length - typingRoomTokens;
    const paths: string[] = [];
    let used = 0;
    for (const path of [...texts.keys()].filter((p) => !this.activePaths.includes(p)).sort()) {
      const tokens = this.fileTokens(path, texts.get(path)!).length;
      if (used + tokens > budget) continue;
      paths.push(path);
      used += tokens;
    }
    const available = [...texts.keys()].filter((p) => !this.activePaths.includes(p)).reduce((sum, p) => sum + this.fileTokens(p, texts.get(p)!).length, 0);
    if (available < budget) throw new Error(`the workspace holds ${available} tokens of context files, short of the ${budget} a ${contextTokens}-token prompt needs`);
    this.contextPaths = paths;
  }

  private fileTokens(path: string, text: string): number[] {
    const key = `${path}\n${text}`;
    let ids = this.encoded.get(key);
    if (!ids) {
      ids = [this.special('fileSep'), ...this.tokenizer.encode(key)];
      this.encoded.set(key, ids);
    }
    return ids;
  }

  private special(name: 'fileSep' | 'repoName' | 'fimPrefix' | 'fimSuffix' | 'fimMiddle'): number {
    const id = this.tokenizer.special[name];
    if (id === undefined) throw new Error(`the model's tokenizer has no ${name} token`);
    return id;
  }

  /** The repo name part, when the tokenizer has the token. */
  private headIds(): number[] {
    return this.tokenizer.special.repoName !== undefined ? [this.special('repoName'), ...this.tokenizer.encode('workspace\n')] : [];
  }

  /** The active file's part: its header, then the cursor part in the model's FIM order (prefix-only without FIM tokens). */
  private activeIds(state: WorkspaceState): number[] {
    const text = state.texts.get(state.active)!;
    const before = this.tokenizer.encode(text.slice(prefixStart(text, state.cursor, prefixChars), state.cursor));
    const header = [this.special('fileSep'), ...this.tokenizer.encode(`${state.active}\n`)];
    const format = promptFormatFor(this.tokenizer.special, this.tokenizer.fimOrder);
    if (format === 'prefix') return [...header, ...before];
    const after = this.tokenizer.encode(text.slice(state.cursor)).slice(0, cursorSideTokens);
    const prefix = [this.special('fimPrefix'), ...before];
    const suffix = [this.special('fimSuffix'), ...after];
    return [...header, ...(format === 'spm' ? [...suffix, ...prefix] : [...prefix, ...suffix]), this.special('fimMiddle')];
  }

  /** The prompt's token ids for a state; the active file is not among the context files. */
  prompt(state: WorkspaceState): number[] {
    const ids = this.headIds();
    for (const path of this.contextPaths) ids.push(...this.fileTokens(path, state.texts.get(path)!));
    return [...ids, ...this.activeIds(state)];
  }

  /** Where the workspace part ends: the tokens before the active file's header. */
  workspaceTokens(): number {
    return this.contextPaths.reduce((sum, path) => sum + this.fileTokens(path, this.initial.texts.get(path)!).length, this.headIds().length);
  }

  /** `count` characters typed at the cursor. */
  typed(state: WorkspaceState, characters: string): WorkspaceState {
    const text = state.texts.get(state.active)!;
    const texts = new Map(state.texts).set(state.active, text.slice(0, state.cursor) + characters + text.slice(state.cursor));
    return { ...state, texts, cursor: state.cursor + characters.length };
  }

  /** One line of `path`, `linesBefore` lines above `offset`, given a comment at its end. */
  lineChanged(state: WorkspaceState, path: string, offset: number, linesBefore: number, mark: string): WorkspaceState {
    const text = state.texts.get(path)!;
    let end = offset;
    for (let i = 0; i <= linesBefore; i++) {
      const at = text.lastIndexOf('\n', end - 1);
      if (at < 0) break;
      end = at;
    }
    const texts = new Map(state.texts).set(path, `${text.slice(0, end)} // ${mark}${text.slice(end)}`);
    const cursor = path === state.active && end < state.cursor ? state.cursor + mark.length + 4 : state.cursor;
    return { ...state, texts, cursor };
  }

  /** The context file that holds the middle token of the prompt. */
  middlePath(): string {
    let at = this.headIds().length;
    for (const path of this.contextPaths) {
      at += this.fileTokens(path, this.initial.texts.get(path)!).length;
      if (at >= this.contextTokens / 2) return path;
    }
    return this.contextPaths[this.contextPaths.length - 1];
  }

  /** The other typed-in file active, its cursor in its middle. */
  switched(state: WorkspaceState): WorkspaceState {
    const active = state.active === this.activePaths[0] ? this.activePaths[1] : this.activePaths[0];
    return { ...state, active, cursor: Math.floor(state.texts.get(active)!.length / 2) };
  }
}
