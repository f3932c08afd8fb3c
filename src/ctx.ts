// What commands and features of the client share: the output channel, the server, and
// what has been shown of evidence.

import type * as vscode from 'vscode';
import type { AnswerProgressParams } from '../server/protocol';
import type { EvidenceState } from './evidence/evidenceState';

export interface Ctx {
  readonly extensionContext: vscode.ExtensionContext;
  readonly output: vscode.LogOutputChannel;
  /** Stops the language server (if running) and starts it again. */
  restart(): Promise<void>;
  /** Sends a request to the running server; rejects when none is running, and when `token` cancels it. */
  request<R>(method: string, params?: object, token?: vscode.CancellationToken): Promise<R>;
  /** Sends a notification to the running server; rejects when none is running. */
  notify(method: string, params: object): Promise<void>;
  /** heed/answerProgress from whichever server is running (it survives restarts). */
  readonly onAnswerProgress: vscode.Event<AnswerProgressParams>;
  readonly evidence: EvidenceState;
}
