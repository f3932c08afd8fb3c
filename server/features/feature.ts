// Each server feature contributes its capabilities through this one small interface, and
// the server merges them at initialize.

import type { Connection, ServerCapabilities } from 'vscode-languageserver/node';

export interface Feature {
  /** Installs the feature's handlers; returns the capabilities it adds. */
  initialize(connection: Connection, workspaceRoots: string[]): Partial<ServerCapabilities>;
  shutdown?(): Promise<void>;
}
