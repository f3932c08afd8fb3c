// Heed's VS Code client: starts the language server, mirrors its status, and registers
// commands. Inline completions flow through vscode-languageclient's built-in support for
// LSP 3.18 textDocument/inlineCompletion.
//
// Architecture Invariant: src/ never imports onnxruntime-node; all inference runs in server/.

import * as vscode from 'vscode';
import { join } from 'node:path';
import {
  CloseAction,
  ErrorAction,
  LanguageClient,
  TransportKind,
  type CloseHandlerResult,
  type ErrorHandlerResult,
  type LanguageClientOptions,
  type ServerOptions,
} from 'vscode-languageclient/node';
import {
  answerProgressNotification,
  completionAcceptedCommand,
  noticeNotification,
  settingsNotification,
  statusNotification,
  type AnswerProgressParams,
  type NoticeParams,
  type StatusParams,
} from '../server/protocol';
import { StatusBar } from './statusBar';
import { readSettings } from './settings';
import { restartServer, showOutput, toggleCompletions, calibrateHeads, completionAccepted, showEvidence, askWorkspace, explainSelection } from './commands';
import type { Ctx } from './ctx';
import { EvidenceState } from './evidence/evidenceState';
import { LineHighlights } from './evidence/lineHighlights';
import { WhyStatusItem } from './evidence/whyStatusItem';
import { modelHeapFlags } from '../server/engine/runtime/v8Heap';

/** The client restarts a server that died this many times within three minutes, then gives up. */
const maxServerRestarts = 4;

let client: LanguageClient | undefined;

/** What the client feeds from the server besides the status bar: the Why? item and the ask panel's progress. */
interface ClientHooks {
  why: WhyStatusItem;
  answerProgress: vscode.EventEmitter<AnswerProgressParams>;
}

function createClient(context: vscode.ExtensionContext, output: vscode.LogOutputChannel, statusBar: StatusBar, hooks: ClientHooks): LanguageClient {
  const module = context.asAbsolutePath(join('dist', 'server.js'));
  const serverOptions: ServerOptions = {
    // The model worker's heap settings, on the server's command line (v8Heap.ts).
    run: { module, transport: TransportKind.ipc, options: { execArgv: [...modelHeapFlags] } },
    debug: { module, transport: TransportKind.ipc, options: { execArgv: [...modelHeapFlags, '--nolazy', '--inspect=6009'] } },
  };
  const restarts: number[] = [];
  let toldOfRestart = false;
  const clientOptions: LanguageClientOptions = {
    documentSelector: [{ scheme: 'file' }, { scheme: 'untitled' }],
    outputChannel: output,
    traceOutputChannel: output,
    initializationOptions: readSettings(context.extensionPath, context.globalStorageUri.fsPath, context.storageUri?.fsPath),
    middleware: { provideInlineCompletionItems: hooks.why.provideInlineCompletionItems },
    errorHandler: {
      // A write to a server that just died fails before `closed` runs; `closed` restarts
      // it and tells the user once, so this error is logged, not shown as well.
      error: (error): ErrorHandlerResult => {
        output.warn(`Connection to the Heed server: ${error.message}`);
        return { action: ErrorAction.Continue, handled: true };
      },
      closed: (): CloseHandlerResult => {
        const now = Date.now();
        while (restarts.length > 0 && now - restarts[0] > 180_000) restarts.shift();
        if (restarts.length >= maxServerRestarts) {
          statusBar.show({ state: 'error', message: 'The Heed server stopped repeatedly. Run "Heed: Restart server" to try again.' });
          return { action: CloseAction.DoNotRestart, message: 'The Heed server stopped repeatedly and was not restarted. See the "Heed" output.' };
        }
        restarts.push(now);
        statusBar.show({ state: 'starting', message: 'Restarting the Heed server after it stopped' });
        if (!toldOfRestart) {
          toldOfRestart = true;
          void vscode.window.showWarningMessage('The Heed server stopped unexpectedly and was restarted. See the "Heed" output for details.');
        }
        output.warn('The Heed server stopped unexpectedly; restarting it.');
        return { action: CloseAction.Restart, handled: true };
      },
    },
  };
  const created = new LanguageClient('heed', 'Heed', serverOptions, clientOptions);
  created.onNotification(statusNotification, (params: StatusParams) => statusBar.show(params));
  created.onNotification(answerProgressNotification, (params: AnswerProgressParams) => hooks.answerProgress.fire(params));
  created.onNotification(noticeNotification, (params: NoticeParams) => {
    const show =
      params.severity === 'error'
        ? vscode.window.showErrorMessage
        : params.severity === 'warning'
          ? vscode.window.showWarningMessage
          : vscode.window.showInformationMessage;
    output[params.severity === 'warning' ? 'warn' : params.severity](params.message);
    void show(params.message, 'Show Output').then((choice) => choice && output.show(true));
  });
  return created;
}

export async function activate(context: vscode.ExtensionContext): Promise<void> {
  const output = vscode.window.createOutputChannel('Heed', { log: true });
  const statusBar = new StatusBar();
  const evidence = new EvidenceState();
  const hooks: ClientHooks = { why: new WhyStatusItem(), answerProgress: new vscode.EventEmitter<AnswerProgressParams>() };
  context.subscriptions.push(output, statusBar, evidence, hooks.why, hooks.answerProgress, new LineHighlights(evidence));

  const start = async () => {
    client = createClient(context, output, statusBar, hooks);
    await client.start();
  };
  const ctx: Ctx = {
    extensionContext: context,
    output,
    restart: async () => {
      const previous = client;
      client = undefined;
      if (previous) await previous.dispose().catch((error) => output.error(`Stopping the server: ${String(error)}`));
      await start();
    },
    request: async <R>(method: string, params?: object, token?: vscode.CancellationToken) => {
      if (!client?.isRunning()) throw new Error('the Heed server is not running');
      // Only what is given is passed on: vscode-jsonrpc counts an undefined argument as a
      // parameter and would send [null], or [params, null] for an undefined token.
      if (params === undefined) return token ? client.sendRequest<R>(method, token) : client.sendRequest<R>(method);
      return token ? client.sendRequest<R>(method, params, token) : client.sendRequest<R>(method, params);
    },
    notify: async (method: string, params: object) => {
      if (!client?.isRunning()) throw new Error('the Heed server is not running');
      await client.sendNotification(method, params);
    },
    onAnswerProgress: hooks.answerProgress.event,
    evidence,
  };

  context.subscriptions.push(
    vscode.commands.registerCommand('heed.showOutput', showOutput(ctx)),
    vscode.commands.registerCommand('heed.restartServer', restartServer(ctx)),
    vscode.commands.registerCommand('heed.toggleCompletions', toggleCompletions()),
    vscode.commands.registerCommand('heed.calibrateHeads', calibrateHeads(ctx)),
    vscode.commands.registerCommand(completionAcceptedCommand, completionAccepted(ctx, hooks.why)),
    vscode.commands.registerCommand('heed.showEvidence', showEvidence(ctx)),
    vscode.commands.registerCommand('heed.askWorkspace', askWorkspace(ctx)),
    vscode.commands.registerCommand('heed.explainSelection', explainSelection(ctx)),
    vscode.workspace.onDidChangeConfiguration((event) => {
      if ((event.affectsConfiguration('heed') || event.affectsConfiguration('files.exclude')) && client?.isRunning()) {
        void client.sendNotification(settingsNotification, readSettings(context.extensionPath, context.globalStorageUri.fsPath, context.storageUri?.fsPath));
      }
    }),
    { dispose: () => void client?.dispose() },
  );

  if (!vscode.workspace.workspaceFolders?.length) {
    const message = 'No folder is open: Heed completes from the current file alone. Open a folder to give it the workspace.';
    output.info(message);
    // Said as a notification once per installation; the output channel says it every time.
    if (!context.globalState.get<boolean>('heed.toldNoFolder')) {
      void context.globalState.update('heed.toldNoFolder', true);
      void vscode.window.showInformationMessage(message);
    }
  }
  try {
    await start();
  } catch (error) {
    const message = `Heed's server failed to start: ${error instanceof Error ? error.message : String(error)}`;
    output.error(message);
    statusBar.show({ state: 'error', message });
    void vscode.window.showErrorMessage(message);
  }
}

export async function deactivate(): Promise<void> {
  await client?.dispose();
  client = undefined;
}
