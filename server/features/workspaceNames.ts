// The names a prompt gives the workspace, from its folders: the repository's name (the first
// folder's) and each document's path as the prompt shows it. Every prompt of a workspace
// (completions, questions) names things the same way, or they would not share a prefix.

import { basename } from 'node:path';
import { filePathOf } from '../context/workspaceContext';
import { toPosixPath, workspacePath } from '../context/paths';

export interface WorkspaceNames {
  readonly repoName: string;
  /** A document's path as the prompt shows it: relative to its folder, like the workspace files' paths; the URI itself outside the file scheme. */
  displayPath(uri: string): string;
}

export function workspaceNames(workspaceRoots: readonly string[]): WorkspaceNames {
  const roots = workspaceRoots.map(toPosixPath);
  return {
    repoName: roots.length > 0 ? basename(roots[0]) : 'workspace',
    displayPath(uri) {
      const path = filePathOf(uri);
      return path === undefined ? uri : workspacePath(path, roots);
    },
  };
}
