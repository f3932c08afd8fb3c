// Which workspace files a completion gets: each file scored by what ties it to the file
// being edited, the best that fit the token budget chosen. Scores are small integers from
// signals that change rarely (an import line, a tab opened, another file edited), never
// from the clock, so that consecutive keystrokes choose the same files.
//
// Signal weights are powers of two, so a stronger signal outranks any mix of weaker ones:
// imported by the active file (8) > open in the editor (4) > edited in this session (2) >
// in the same folder (1). Ties: the more recently edited first, then the nearer path (the
// one "nearest file" order of server/eval/pathProximity.ts), then the path.

import { charsPerTokenEstimate } from '../features/completion/documentContext';
import { commonPrefixLength } from '../eval/pathProximity';

export interface Candidate {
  /** Absolute path, '/'-separated. */
  absPath: string;
  /** The path the prompt shows. */
  path: string;
  chars: number;
  /** When it last changed on disk (orders the prompt, not the rank). */
  modifiedMs?: number;
}

export interface RankSignals {
  /** The file being edited (absolute, '/'-separated); never a candidate. */
  activePath: string;
  /** Files the active file imports. */
  imported: ReadonlySet<string>;
  /** Files open in the editor. */
  open: ReadonlySet<string>;
  /** When each file was last edited in this session, in ms. */
  lastEditMs: ReadonlyMap<string, number>;
}

export interface RankedFile extends Candidate {
  score: number;
  estimatedTokens: number;
}

export const signalWeights = { imported: 8, open: 4, edited: 2, sameFolder: 1 } as const;

/** Tokens a file takes in the prompt by the server's estimate: separator, path line and text. */
export function estimateFileTokens(path: string, chars: number): number {
  return 1 + Math.ceil((path.length + 1 + chars + 1) / charsPerTokenEstimate);
}

/** Whether `path` is directly in `folder` (both absolute, '/'-separated). */
function inFolder(path: string, folder: string): boolean {
  return path.length > folder.length + 1 && path.startsWith(folder) && path[folder.length] === '/' && path.indexOf('/', folder.length + 1) < 0;
}

interface Keyed {
  file: RankedFile;
  editedMs: number;
  shared: number;
}

function compareKeyed(a: Keyed, b: Keyed): number {
  return (
    b.file.score - a.file.score ||
    (b.editedMs === a.editedMs ? 0 : b.editedMs > a.editedMs ? 1 : -1) ||
    b.shared - a.shared ||
    (a.file.absPath < b.file.absPath ? -1 : a.file.absPath > b.file.absPath ? 1 : 0)
  );
}

/** `candidates` without the active file, best first. */
export function rankFiles(candidates: Iterable<Candidate>, signals: RankSignals): RankedFile[] {
  const activeFolder = signals.activePath.slice(0, signals.activePath.lastIndexOf('/'));
  const keyed: Keyed[] = [];
  for (const candidate of candidates) {
    if (candidate.absPath === signals.activePath) continue;
    const editedMs = signals.lastEditMs.get(candidate.absPath);
    const score =
      (signals.imported.has(candidate.absPath) ? signalWeights.imported : 0) +
      (signals.open.has(candidate.absPath) ? signalWeights.open : 0) +
      (editedMs !== undefined ? signalWeights.edited : 0) +
      (inFolder(candidate.absPath, activeFolder) ? signalWeights.sameFolder : 0);
    const file: RankedFile = { absPath: candidate.absPath, path: candidate.path, chars: candidate.chars, modifiedMs: candidate.modifiedMs, score, estimatedTokens: estimateFileTokens(candidate.path, candidate.chars) };
    keyed.push({ file, editedMs: editedMs ?? -Infinity, shared: commonPrefixLength(candidate.absPath, signals.activePath) });
  }
  keyed.sort(compareKeyed);
  return keyed.map((k) => k.file);
}

/**
 * The best-ranked files whose estimates fit `budgetTokens`, in rank order: a file that does
 * not fit is passed over for smaller ones after it.
 */
export function selectWithinBudget(ranked: readonly RankedFile[], budgetTokens: number): RankedFile[] {
  const selected: RankedFile[] = [];
  let room = budgetTokens;
  for (const file of ranked) {
    if (room <= 0) break;
    if (file.estimatedTokens > room) continue;
    selected.push(file);
    room -= file.estimatedTokens;
  }
  return selected;
}
