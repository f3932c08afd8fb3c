// What commands and features of the client share: the output channel and the server.

import type * as vscode from 'vscode';

export interface Ctx {
  readonly extensionContext: vscode.ExtensionContext;
  readonly output: vscode.LogOutputChannel;
  /** Stops the language server (if running) and starts it again. */
  restart(): Promise<void>;
  /** Sends a request to the running server; rejects when none is running. */
  request<R>(method: string): Promise<R>;
}
