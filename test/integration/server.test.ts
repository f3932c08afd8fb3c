// Starts dist/server.js over stdio and speaks LSP to it as an editor would.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import {
  createProtocolConnection,
  StreamMessageReader,
  StreamMessageWriter,
  CancellationTokenSource,
  InitializeRequest,
  InitializedNotification,
  DidChangeWatchedFilesNotification,
  FileChangeType,
  DidOpenTextDocumentNotification,
  DidChangeTextDocumentNotification,
  InlineCompletionRequest,
  InlineCompletionTriggerKind,
  ShutdownRequest,
  ExitNotification,
  type ProtocolConnection,
  type InlineCompletionItem,
} from 'vscode-languageserver-protocol/node';
import type { CalibrateResult, NoticeParams, ServerSettings, StatusParams } from '../../server/protocol';
import { testSettings } from './testSettings';
import { loadModel } from '../../server/engine/loadModel';
import { CachedSequence, generate } from '../../server/engine/generate';
import { tokenizePrompt } from '../../server/engine/promptTokens';
import { completionPrompt } from '../../server/features/completion/prompt';
import { postProcess } from '../../server/features/completion/filters';
import { contextParts } from '../../server/context/assemble';

const root = join(__dirname, '..', '..', '..');
const work = mkdtempSync(join(tmpdir(), 'heed-lsp-'));
const modelPath = join(work, 'model');
const filePath = join(work, 'src', 'inventory.ts');
const uri = pathToFileURL(filePath).href;

let server: ChildProcess;
let connection: ProtocolConnection;
const statuses: StatusParams[] = [];
const logs: string[] = [];
const registrations: { method: string }[] = [];
const notices: NoticeParams[] = [];
let stderr = '';

// Evidence has its own test (evidence.test.ts); here items are compared whole.
const settings = (overrides: Partial<ServerSettings> = {}): ServerSettings => testSettings(modelPath, { evidenceEnabled: false, ...overrides });

/** Resolves with the first status (past or future) that satisfies `predicate`. */
function waitForStatus(predicate: (s: StatusParams) => boolean, timeoutMs = 30_000): Promise<StatusParams> {
  return new Promise((resolve, reject) => {
    const started = Date.now();
    const poll = () => {
      const found = statuses.find(predicate);
      if (found) return resolve(found);
      if (Date.now() - started > timeoutMs) return reject(new Error(`no matching status; saw ${JSON.stringify(statuses)}; stderr ${stderr}`));
      setTimeout(poll, 20);
    };
    poll();
  });
}

function complete(line: number, character: number, token?: CancellationTokenSource) {
  return connection.sendRequest(
    InlineCompletionRequest.type,
    { textDocument: { uri }, position: { line, character }, context: { triggerKind: InlineCompletionTriggerKind.Automatic } },
    token?.token,
  ) as Promise<InlineCompletionItem[] | null>;
}

/** What the server should suggest for `text` with the cursor at its end, computed in-process. */
async function expectedCompletion(text: string): Promise<string | undefined> {
  const model = await loadModel(modelPath, { threads: 1 });
  try {
    const parts = completionPrompt(model.tokenizer.special, model.tokenizer.fimOrder, 'heed-lsp', 'src/inventory.ts', { prefix: text, suffix: '', truncated: false });
    const ids = tokenizePrompt(model.tokenizer, parts, 512);
    const result = generate(new CachedSequence(model), ids, { maxTokens: 24, temperature: 0, topP: 1, seed: 0, stop: ['\n'] }, () => false);
    const lineStart = text.lastIndexOf('\n') + 1;
    return postProcess(result.text, { linePrefix: text.slice(lineStart), lineSuffix: '' });
  } finally {
    await model.dispose();
  }
}

before(async () => {
  execFileSync(process.execPath, [join(root, 'dist', 'cli.js'), 'make-tiny-model', '--out', modelPath]);
  server = spawn(process.execPath, [join(root, 'dist', 'server.js'), '--stdio'], { stdio: ['pipe', 'pipe', 'pipe'] });
  server.stderr!.on('data', (chunk) => (stderr += chunk));
  connection = createProtocolConnection(new StreamMessageReader(server.stdout!), new StreamMessageWriter(server.stdin!));
  connection.onNotification('heed/status', (params: StatusParams) => void statuses.push(params));
  connection.onNotification('heed/notice', (params: NoticeParams) => void notices.push(params));
  connection.onNotification('window/logMessage', (params: { message: string }) => void logs.push(params.message));
  connection.onRequest('client/registerCapability', (params: { registrations: { method: string }[] }) => void registrations.push(...params.registrations));
  connection.listen();
});

after(() => {
  connection?.dispose();
  server?.kill();
  rmSync(work, { recursive: true, force: true });
});

test('initialize announces inline completions and the model loads', async () => {
  const result = await connection.sendRequest(InitializeRequest.type, {
    processId: process.pid,
    rootUri: pathToFileURL(work).href,
    workspaceFolders: [{ uri: pathToFileURL(work).href, name: 'heed-lsp' }],
    capabilities: { window: { workDoneProgress: true }, workspace: { didChangeWatchedFiles: { dynamicRegistration: true } } },
    initializationOptions: settings(),
  });
  assert.equal(result.capabilities.inlineCompletionProvider, true);
  await connection.sendNotification(InitializedNotification.type, {});
  const ready = await waitForStatus((s) => s.state === 'ready');
  assert.equal(ready.model, 'model');
  assert.match(ready.message, /ready/);
});

const text = 'export function total(items: Item[]): number {\n  let total = 0;\n  for (const item of items) {\n    total += ';
const editedText = text + 'item.price * item.';

test('a completion is decoded from the model, and follows the document as it changes', async () => {
  await connection.sendNotification(DidOpenTextDocumentNotification.type, { textDocument: { uri, languageId: 'typescript', version: 1, text } });
  const items = await complete(3, 13);
  const expected = await expectedCompletion(text);
  assert.ok(expected, 'the tiny model should suggest something here');
  assert.deepEqual(items, [{ insertText: expected, range: { start: { line: 3, character: 13 }, end: { line: 3, character: 13 } } }]);

  // An incremental change: the suggestion follows the new text.
  await connection.sendNotification(DidChangeTextDocumentNotification.type, {
    textDocument: { uri, version: 2 },
    contentChanges: [{ range: { start: { line: 3, character: 13 }, end: { line: 3, character: 13 } }, text: 'item.price * item.' }],
  });
  const changed = await complete(3, 31);
  const expectedChanged = await expectedCompletion(editedText);
  assert.deepEqual(changed?.map((i) => i.insertText), expectedChanged === undefined ? undefined : [expectedChanged]);
});

test('a cancelled request returns no suggestion', async () => {
  await connection.sendNotification('heed/settings', settings({ debounceMs: 400 }));
  const source = new CancellationTokenSource();
  const pending = complete(3, 31, source);
  setTimeout(() => source.cancel(), 30);
  const result = await pending.catch((error: { code?: number }) => ({ cancelledWithCode: error.code }));
  // vscode-jsonrpc answers a cancelled request with RequestCancelled (-32800) or the handler's null.
  assert.ok(result === null || (result as { cancelledWithCode?: number }).cancelledWithCode === -32800, `got ${JSON.stringify(result)}`);
  await connection.sendNotification('heed/settings', settings());
});

/** Resolves with the first log line (past or future) that matches `pattern`. */
function waitForLog(pattern: RegExp, timeoutMs = 30_000): Promise<string> {
  return new Promise((resolve, reject) => {
    const started = Date.now();
    const poll = () => {
      const found = logs.find((line) => pattern.test(line));
      if (found) return resolve(found);
      if (Date.now() - started > timeoutMs) return reject(new Error(`no log line matching ${pattern}; saw ${JSON.stringify(logs.slice(-20))}`));
      setTimeout(poll, 20);
    };
    poll();
  });
}

test('with workspace context on, a completion carries the workspace files, and file events update them', async () => {
  assert.ok(registrations.some((r) => r.method === DidChangeWatchedFilesNotification.method), 'the server asks to watch files');
  const sample = join(root, 'sample-workspace', 'src');
  const copied = ['index.ts', 'money.ts', 'types.ts'];
  mkdirSync(join(work, 'src'), { recursive: true });
  for (const name of copied) cpSync(join(sample, name), join(work, 'src', name));
  logs.length = 0;
  // The model folder sits in this workspace: excluded, as a user would.
  await connection.sendNotification('heed/settings', settings({ contextMaxTokens: 2048, contextExclude: ['model/**'] }));
  assert.match(await waitForLog(/^Workspace context: /), /^Workspace context: 3 files, 2 KB usable; skipped 1 ignored/);

  await complete(3, 31);
  const line = await waitForLog(/^completion src\/inventory\.ts:4 /);
  assert.match(line, /, 3 workspace files offered/);
  // The same prompt built here, token for token: the files by path (none was edited), then the current file.
  const model = await loadModel(modelPath, { threads: 1 });
  try {
    const files = copied.map((name, i) => ({ path: `src/${name}`, text: readFileSync(join(sample, name), 'utf8'), dropRank: i + 1 }));
    const parts = completionPrompt(model.tokenizer.special, model.tokenizer.fimOrder, basename(work), 'src/inventory.ts', { prefix: editedText, suffix: '', truncated: false }, { workspace: contextParts(files) });
    const ids = tokenizePrompt(model.tokenizer, parts, 512 + 2048);
    assert.ok(ids.length > 1000, `the workspace files are in the prompt (${ids.length} tokens)`);
    assert.match(line, new RegExp(`prompt ${ids.length} tokens`));
  } finally {
    await model.dispose();
  }

  // A file created outside the editor arrives through the watcher's events.
  writeFileSync(join(work, 'src', 'extra.ts'), 'export const extra = 1;\n');
  await connection.sendNotification(DidChangeWatchedFilesNotification.type, { changes: [{ uri: pathToFileURL(join(work, 'src', 'extra.ts')).href, type: FileChangeType.Created }] });
  // The server reads the new file in the background: a completion soon after sees it.
  let offered = '';
  for (let attempt = 0; attempt < 100 && !/, 4 workspace files offered/.test(offered); attempt++) {
    if (attempt > 0) await new Promise((resolve) => setTimeout(resolve, 20));
    logs.length = 0;
    await complete(3, 31);
    offered = await waitForLog(/^completion src\/inventory\.ts:4 /);
  }
  assert.match(offered, /, 4 workspace files offered/);
  rmSync(join(work, 'src', 'extra.ts'));
  for (const name of copied) rmSync(join(work, 'src', name));
  await connection.sendNotification('heed/settings', settings());
});

test('idle, a warm-up reads the workspace; its prefix is saved before a reload and restored by it', async () => {
  const sample = join(root, 'sample-workspace', 'src');
  const copied = ['index.ts', 'money.ts', 'types.ts'];
  for (const name of copied) cpSync(join(sample, name), join(work, 'src', name));
  const kvCacheDir = join(work, 'kv');
  const withCache = { contextMaxTokens: 2048, contextExclude: ['model/**', 'kv/**'], persistPrefix: true, kvCacheDir };
  logs.length = 0;
  await connection.sendNotification('heed/settings', settings(withCache));
  const warmed = await waitForLog(/^Warm-up: \d+ of \d+ prompt tokens computed/);
  const warmedTokens = Number(/of (\d+) prompt tokens/.exec(warmed)![1]);
  assert.ok(statuses.some((s) => s.progress?.title === 'Reading the workspace'), 'the status bar showed the warm-up');
  await complete(3, 31);
  const line = await waitForLog(/^completion src\/inventory\.ts:4 /);
  const reused = Number(/\((\d+) reused/.exec(line)![1]);
  assert.ok(reused >= warmedTokens - 2, `the completion reused ${reused} of the ${warmedTokens} warmed tokens: ${line}`);

  // A settings change reloads the model: the prefix goes to disk first and comes back with it.
  logs.length = 0;
  await connection.sendNotification('heed/settings', settings({ ...withCache, memoryLimitMB: 300 }));
  const saved = await waitForLog(/^Saved the workspace prefix to /);
  const savedTokens = Number(/: (\d+) tokens/.exec(saved)![1]);
  assert.ok(savedTokens > 1000, saved);
  const restored = await waitForLog(/^Restored the workspace prefix from /);
  assert.match(restored, new RegExp(`: ${savedTokens} tokens in`));

  // A damaged file is discarded with a log line; the model loads all the same.
  const file = /to (.*\.heedkv)/.exec(saved)![1];
  writeFileSync(file, readFileSync(file).subarray(0, 100));
  logs.length = 0;
  await connection.sendNotification('heed/settings', settings({ ...withCache, memoryLimitMB: 256 }));
  assert.match(await waitForLog(/^Discarded the saved workspace prefix: /), /header is cut off|payload/);
  assert.equal(existsSync(file), false);
  for (const name of copied) rmSync(join(work, 'src', name));
  await connection.sendNotification('heed/settings', settings());
});

test('a missing model folder is reported, and a good one brings completions back', async () => {
  statuses.length = 0;
  await connection.sendNotification('heed/settings', settings({ modelPath: join(work, 'no-such-model') }));
  const failed = await waitForStatus((s) => s.state === 'error');
  assert.match(failed.message, /does not exist/);
  assert.ok(notices.some((n) => n.severity === 'error' && /no-such-model/.test(n.message)));
  assert.equal(await complete(3, 31), null);
  await connection.sendNotification('heed/settings', settings());
  await waitForStatus((s) => s.state === 'ready');
  const expected = await expectedCompletion(editedText);
  assert.deepEqual((await complete(3, 31))?.map((i) => i.insertText), expected === undefined ? undefined : [expected]);
});

test('a corrupt model is reported with the file at fault', async () => {
  const broken = join(work, 'broken-model');
  cpSync(modelPath, broken, { recursive: true });
  const weights = join(broken, 'model.safetensors');
  truncateSync(weights, Math.floor(statSync(weights).size / 2));
  statuses.length = 0;
  notices.length = 0;
  await connection.sendNotification('heed/settings', settings({ modelPath: broken }));
  const failed = await waitForStatus((s) => s.state === 'error');
  assert.match(failed.message, /model\.safetensors/);
  assert.ok(notices.some((n) => n.severity === 'error' && /model\.safetensors/.test(n.message)), JSON.stringify(notices));
  assert.equal(await complete(3, 31), null);
  await connection.sendNotification('heed/settings', settings());
  await waitForStatus((s) => s.state === 'ready');
});

test('binary and invalid UTF-8 documents are skipped with one notice each', async () => {
  notices.length = 0;
  const binaryUri = pathToFileURL(join(work, 'image.png')).href;
  const text = '\u0089PNG\r\n\u001a\n\u0000\u0000\u0000\rIHDR';
  await connection.sendNotification(DidOpenTextDocumentNotification.type, { textDocument: { uri: binaryUri, languageId: 'plaintext', version: 1, text } });
  const request = { textDocument: { uri: binaryUri }, position: { line: 0, character: 4 }, context: { triggerKind: InlineCompletionTriggerKind.Automatic } };
  assert.equal(await connection.sendRequest(InlineCompletionRequest.type, request), null);
  assert.equal(await connection.sendRequest(InlineCompletionRequest.type, request), null);
  const invalidUri = pathToFileURL(join(work, 'latin1.txt')).href;
  await connection.sendNotification(DidOpenTextDocumentNotification.type, {
    textDocument: { uri: invalidUri, languageId: 'plaintext', version: 1, text: '\uFFFD\uFFFD\uFFFD caf\uFFFD r\uFFFDsum\uFFFD' },
  });
  assert.equal(await connection.sendRequest(InlineCompletionRequest.type, { ...request, textDocument: { uri: invalidUri } }), null);
  const skips = notices.filter((n) => /looks binary/.test(n.message));
  assert.equal(skips.length, 2, JSON.stringify(notices));
  assert.match(skips[0].message, /image\.png/);
});

test('switching to int8 or int4 weights reloads the model and completions go on', async () => {
  for (const weightFormat of ['int8', 'int4'] as const) {
    statuses.length = 0;
    await connection.sendNotification('heed/settings', settings({ weightFormat }));
    await waitForStatus((s) => s.state === 'loading');
    await waitForStatus((s) => s.state === 'ready');
    const items = await complete(3, 31);
    assert.ok(items === null || typeof items[0].insertText === 'string', weightFormat);
  }
  statuses.length = 0;
  await connection.sendNotification('heed/settings', settings());
  await waitForStatus((s) => s.state === 'ready');
});

test('heed/calibrate writes a head pattern with progress, and the head-aware cache then uses it', async () => {
  const headPatternDir = join(work, 'head-patterns');
  mkdirSync(join(work, 'src'), { recursive: true });
  writeFileSync(join(work, 'src', 'inventory.ts'), `${text}item.price;\n  }\n  return total;\n}\n`);
  const progress: string[] = [];
  connection.onRequest('window/workDoneProgress/create', () => null);
  connection.onNotification('$/progress', (p: { value: { kind: string } }) => void progress.push(p.value.kind));
  await connection.sendNotification('heed/settings', settings({ headPatternDir }));
  const result = (await connection.sendRequest('heed/calibrate')) as CalibrateResult;
  assert.ok(existsSync(result.patternFile) && result.patternFile.startsWith(headPatternDir), result.patternFile);
  assert.equal(result.inUse, false);
  assert.match(result.summary, /layer  0/);
  assert.equal(progress[0], 'begin');
  assert.ok(progress.includes('report'));
  assert.equal(progress.at(-1), 'end');

  statuses.length = 0;
  notices.length = 0;
  await connection.sendNotification('heed/settings', settings({ headPatternDir, kvPolicy: 'head-aware' }));
  await waitForStatus((s) => s.state === 'loading');
  await waitForStatus((s) => s.state === 'ready');
  assert.equal(notices.length, 0, `the pattern fits the model: no warning (${JSON.stringify(notices)})`);
  const items = await complete(3, 31);
  assert.ok(items === null || typeof items[0].insertText === 'string');
  // The same with the retrieval heads' KV in int8: the model reloads and completes.
  statuses.length = 0;
  await connection.sendNotification('heed/settings', settings({ headPatternDir, kvPolicy: 'head-aware+int8' }));
  await waitForStatus((s) => s.state === 'loading');
  await waitForStatus((s) => s.state === 'ready');
  assert.equal(notices.length, 0, JSON.stringify(notices));
  const int8Items = await complete(3, 31);
  assert.ok(int8Items === null || typeof int8Items[0].insertText === 'string');

  // A pattern for another model: the cache stays dense and the user is told why.
  writeFileSync(result.patternFile, readFileSync(result.patternFile, 'utf8').replace(/"sha256": "[0-9a-f]+"/, `"sha256": "${'0'.repeat(64)}"`));
  statuses.length = 0;
  await connection.sendNotification('heed/settings', settings({ headPatternDir, kvPolicy: 'head-aware', retrievalRatio: 0.5 }));
  await waitForStatus((s) => s.state === 'ready');
  assert.ok(notices.some((n) => n.severity === 'warning' && /calibrated for another model/.test(n.message)), JSON.stringify(notices));
  statuses.length = 0;
  await connection.sendNotification('heed/settings', settings());
  await waitForStatus((s) => s.state === 'ready'); // no load in flight when the next test shuts down
});

test('shutdown and exit end the server', async () => {
  const exited = new Promise<number | null>((resolve) => server.on('exit', (code) => resolve(code)));
  await connection.sendRequest(ShutdownRequest.type);
  await connection.sendNotification(ExitNotification.type);
  assert.equal(await exited, 0);
});
