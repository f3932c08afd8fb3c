// Heed's language server: the entry of dist/server.js. It speaks LSP with the editor (over
// IPC or stdio, chosen by the command line as vscode-languageserver does), keeps the open
// documents, and hands model work to the worker through the EngineService.
//
// Architecture Invariant: this process never runs a forward pass on its main thread; all
// model work happens in dist/modelWorker.js.

import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  createConnection,
  DidChangeWatchedFilesNotification,
  FileChangeType,
  ProposedFeatures,
  RequestType0,
  TextDocuments,
  TextDocumentSyncKind,
  type InitializeResult,
} from 'vscode-languageserver/node';
import { TextDocument } from 'vscode-languageserver-textdocument';
import { EngineService } from './engineService';
import { CancelSource } from './worker/modelHost';
import { describeProgress } from './calibrate/calibrate';
import { CompletionFeature } from './features/completion/completionFeature';
import { EvidenceFeature } from './features/evidence/evidenceFeature';
import { AskFeature } from './features/ask/askFeature';
import { WarmUp } from './features/completion/warmUp';
import { filePathOf, WorkspaceContext } from './context/workspaceContext';
import type { FileEvent } from './context/workspaceFiles';
import type { Feature } from './features/feature';
import { calibrateRequest, noticeNotification, settingsNotification, statusNotification, type CalibrateResult, type NoticeParams, type ServerSettings, type StatusParams } from './protocol';
import { validateSettings } from './settings';

const connection = createConnection(ProposedFeatures.all);
const documents = new TextDocuments(TextDocument);
const log = (line: string) => connection.console.log(line);
const notice = (params: NoticeParams) => void connection.sendNotification(noticeNotification, params);

let lastState: StatusParams['state'] | undefined;
const engine = new EngineService(process.env.HEED_WORKER_PATH ?? join(__dirname, 'modelWorker.js'), {
  status: (params: StatusParams) => {
    void connection.sendNotification(statusNotification, params);
    // A model that just became ready warms the workspace prefix once the editor is idle.
    if (params.state === 'ready' && lastState !== 'ready') warmUp.schedule();
    lastState = params.state;
  },
  notice,
  log,
});

const workspaceContext = new WorkspaceContext(documents, log);
const evidence = new EvidenceFeature(documents, log);
const completion = new CompletionFeature(engine, documents, workspaceContext, log, (message) => notice({ severity: 'warning', message }), evidence);
const ask = new AskFeature(engine, documents, workspaceContext, evidence, log);
const features: Feature[] = [completion, evidence, ask];
const warmUp = new WarmUp(engine, () => completion.warmUpPrompt(), log);
let initialSettings: ServerSettings | undefined;
let workspaceRoots: string[] = [];
let watchesFiles = false;

function configure(settings: ServerSettings): void {
  void engine.configure(settings);
  workspaceContext.configure({ maxTokens: settings.contextMaxTokens, exclude: [...settings.filesExclude, ...settings.contextExclude] });
  // A new walk of the workspace may change the files a prompt holds.
  void workspaceContext.idle().then(() => warmUp.schedule());
}

// Edits (not the opening of a document) feed the workspace context's recency signals;
// open documents' texts stand in for the disk's.
documents.onDidOpen(({ document }) => {
  workspaceContext.documentOpened(document);
  completion.documentOpened(document.uri);
  warmUp.schedule();
});
documents.onDidChangeContent(({ document }) => workspaceContext.documentChanged(document));
documents.onDidClose(({ document }) => workspaceContext.documentClosed(document.uri));

const fileEventKinds: Record<number, FileEvent['kind']> = { [FileChangeType.Created]: 'created', [FileChangeType.Changed]: 'changed', [FileChangeType.Deleted]: 'deleted' };
connection.onDidChangeWatchedFiles(({ changes }) => {
  workspaceContext.fileEvents(changes.flatMap((change) => {
    const absPath = filePathOf(change.uri);
    return absPath ? [{ absPath, kind: fileEventKinds[change.type] ?? 'changed' }] : [];
  }));
  warmUp.schedule();
});

connection.onInitialize((params): InitializeResult => {
  initialSettings = validateSettings(params.initializationOptions);
  workspaceRoots = (params.workspaceFolders ?? []).filter((f) => f.uri.startsWith('file:')).map((f) => fileURLToPath(f.uri));
  workspaceContext.setRoots(workspaceRoots);
  watchesFiles = params.capabilities.workspace?.didChangeWatchedFiles?.dynamicRegistration === true;
  let capabilities: InitializeResult['capabilities'] = { textDocumentSync: TextDocumentSyncKind.Incremental };
  for (const feature of features) capabilities = { ...capabilities, ...feature.initialize(connection, workspaceRoots) };
  return { capabilities, serverInfo: { name: 'heed', version: '0.1.0' } };
});

connection.onInitialized(() => {
  if (workspaceRoots.length === 0) log('No folder is open: Heed completes from the current file alone.');
  // The workspace context follows files changed outside the editor through the client's
  // file watcher; a client without one leaves it to open documents and the next walk.
  if (workspaceRoots.length > 0 && watchesFiles) {
    connection.client
      .register(DidChangeWatchedFilesNotification.type, { watchers: [{ globPattern: '**/*' }] })
      .catch((error: unknown) => log(`Could not watch the workspace's files: ${error instanceof Error ? error.message : String(error)}`));
  } else if (workspaceRoots.length > 0) {
    log('The editor does not watch files for Heed: workspace context sees changes made outside the editor at the next walk (a settings change).');
  }
  if (initialSettings) configure(initialSettings);
});

connection.onNotification(settingsNotification, (raw: unknown) => {
  try {
    configure(validateSettings(raw));
  } catch (error) {
    notice({ severity: 'error', message: `Heed ignored invalid settings: ${(error as Error).message}` });
  }
});

// Calibration takes minutes: cancellable progress in the editor, then the pattern's location.
connection.onRequest(new RequestType0<CalibrateResult, void>(calibrateRequest), async (token): Promise<CalibrateResult> => {
  if (workspaceRoots.length === 0) throw new Error('Open a folder: calibration makes its copy tasks from the workspace\'s code.');
  const progress = await connection.window.createWorkDoneProgress();
  progress.begin('Heed: calibrating heads', 0, 'loading the workspace code', true);
  const cancel = new CancelSource();
  const subscriptions = [token.onCancellationRequested(() => cancel.cancel()), progress.token.onCancellationRequested(() => cancel.cancel())];
  try {
    return await engine.calibrate(workspaceRoots[0], cancel.signal, (p) => progress.report(Math.round((p.samplesDone / p.samples) * 100), describeProgress(p)));
  } finally {
    for (const s of subscriptions) s.dispose();
    progress.done();
  }
});

connection.onShutdown(async () => {
  warmUp.dispose();
  workspaceContext.dispose();
  for (const feature of features) await feature.shutdown?.();
  await engine.dispose();
});

documents.listen(connection);
connection.listen();
