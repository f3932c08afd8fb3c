// Evidence and questions over LSP, against dist/server.js and the tiny model on a copy of
// the sample workspace: a completion's report maps to the workspace's real lines, the
// hover follows an accepted completion through later edits, and heed/ask answers over the
// workspace with progress, evidence and cancellation.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import {
  createProtocolConnection,
  StreamMessageReader,
  StreamMessageWriter,
  CancellationTokenSource,
  InitializeRequest,
  InitializedNotification,
  DidOpenTextDocumentNotification,
  DidChangeTextDocumentNotification,
  InlineCompletionRequest,
  InlineCompletionTriggerKind,
  HoverRequest,
  type ProtocolConnection,
  type InlineCompletionItem,
  type Hover,
} from 'vscode-languageserver-protocol/node';
import type { AnswerProgressParams, AskParams, AskResult, CompletionAcceptedParams, EvidenceReport, StatusParams } from '../../server/protocol';
import { testSettings } from './testSettings';

const root = join(__dirname, '..', '..', '..');
const work = mkdtempSync(join(tmpdir(), 'heed-evidence-'));
const modelPath = join(tmpdir(), `heed-evidence-model-${process.pid}`);
const activePath = join(work, 'src', 'inventory.ts');
const activeUri = pathToFileURL(activePath).href;

let server: ChildProcess;
let connection: ProtocolConnection;
const statuses: StatusParams[] = [];
const logs: string[] = [];
const progress: AnswerProgressParams[] = [];
let stderr = '';

const settings = testSettings(modelPath, { maxTokens: 16, contextMaxTokens: 2048, evidenceEnabled: true });

async function until<T>(find: () => T | undefined, what: string, timeoutMs = 30_000): Promise<T> {
  const started = Date.now();
  for (;;) {
    const found = find();
    if (found !== undefined) return found;
    if (Date.now() - started > timeoutMs) throw new Error(`timed out waiting for ${what}; logs ${JSON.stringify(logs.slice(-10))}; stderr ${stderr}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

function complete(line: number, character: number): Promise<InlineCompletionItem[] | null> {
  return connection.sendRequest(InlineCompletionRequest.type, {
    textDocument: { uri: activeUri },
    position: { line, character },
    context: { triggerKind: InlineCompletionTriggerKind.Automatic },
  }) as Promise<InlineCompletionItem[] | null>;
}

/** A file's lines as the test reads them from disk: what the report's line texts must match. */
const fileLines = (uri: string): string[] => readFileSync(fileURLToPath(uri), 'utf8').split('\n').map((l) => l.replace(/\r$/, ''));

before(async () => {
  execFileSync(process.execPath, [join(root, 'dist', 'cli.js'), 'make-tiny-model', '--out', modelPath]);
  cpSync(join(root, 'sample-workspace', 'src'), join(work, 'src'), { recursive: true });
  server = spawn(process.execPath, [join(root, 'dist', 'server.js'), '--stdio'], { stdio: ['pipe', 'pipe', 'pipe'] });
  server.stderr!.on('data', (chunk) => (stderr += chunk));
  connection = createProtocolConnection(new StreamMessageReader(server.stdout!), new StreamMessageWriter(server.stdin!));
  connection.onNotification('heed/status', (params: StatusParams) => void statuses.push(params));
  connection.onNotification('window/logMessage', (params: { message: string }) => void logs.push(params.message));
  connection.onNotification('heed/answerProgress', (params: AnswerProgressParams) => void progress.push(params));
  connection.onRequest('client/registerCapability', () => null);
  connection.listen();
  const result = await connection.sendRequest(InitializeRequest.type, {
    processId: process.pid,
    rootUri: pathToFileURL(work).href,
    workspaceFolders: [{ uri: pathToFileURL(work).href, name: 'heed-evidence' }],
    capabilities: {},
    initializationOptions: settings,
  });
  assert.equal(result.capabilities.hoverProvider, true);
  await connection.sendNotification(InitializedNotification.type, {});
  await until(() => statuses.find((s) => s.state === 'ready'), 'the model to load');
  await until(() => logs.find((l) => /^Workspace context: /.test(l)), 'the workspace walk');
  await connection.sendNotification(DidOpenTextDocumentNotification.type, { textDocument: { uri: activeUri, languageId: 'typescript', version: 1, text: readFileSync(activePath, 'utf8') } });
});

after(() => {
  connection?.dispose();
  server?.kill();
  rmSync(work, { recursive: true, force: true });
  rmSync(modelPath, { recursive: true, force: true });
});

let accepted: { item: InlineCompletionItem; params: CompletionAcceptedParams } | undefined;

test('a completion carries its evidence: spans on the real lines of workspace files, a heat strip per file', async () => {
  const lines = fileLines(activeUri);
  // The end of each line, until the tiny model suggests something there.
  for (let line = lines.length - 1; line >= 0 && !accepted; line--) {
    const items = await complete(line, lines[line].length);
    const item = items?.[0];
    if (item?.command) accepted = { item, params: item.command.arguments![0] as CompletionAcceptedParams };
  }
  assert.ok(accepted, 'some line gets a suggestion');
  assert.equal(accepted.item.command!.command, 'heed.completionAccepted');
  assert.equal(accepted.params.text, accepted.item.insertText);
  assert.match((await until(() => logs.find((l) => /^completion .*evidence [\d.]+ ms/.test(l)), 'the completion log')) ?? '', /evidence/);

  const report = (await connection.sendRequest('heed/evidence', { id: accepted.params.id })) as EvidenceReport;
  assert.equal(report.id, accepted.params.id);
  assert.equal(report.kind, 'completion');
  assert.equal(report.text, accepted.item.insertText);
  assert.match(report.heads, /every head/, 'the tiny model has no head pattern');
  assert.ok(report.spans.length > 0);
  const workspaceUris = new Set(readdirSync(join(work, 'src')).map((name) => pathToFileURL(join(work, 'src', name)).href));
  let total = 0;
  for (const span of report.spans) {
    assert.ok(workspaceUris.has(span.uri), `${span.uri} is a workspace file`);
    assert.ok(span.startLine <= span.endLine);
    const disk = fileLines(span.uri);
    for (const line of span.lines) {
      assert.equal(line.text, disk[line.line], `${line.path}:${line.line + 1} holds the text the report shows`);
      if (line.uri === activeUri) assert.notEqual(line.line, accepted.params.line, 'the cursor line is not evidence');
      total += line.score;
    }
  }
  assert.ok(total > 0 && total <= 1 + 1e-6, `scores are shares (${total})`);
  // The other files' lines, ranked apart: never the active file's, each on its real line.
  assert.ok(report.otherFileSpans && report.otherFileSpans.length > 0, 'the prompt holds other workspace files');
  for (const span of report.otherFileSpans) {
    assert.ok(workspaceUris.has(span.uri) && span.uri !== activeUri, `${span.uri} is another workspace file`);
    for (const line of span.lines) assert.equal(line.text, fileLines(span.uri)[line.line]);
  }
  assert.ok(report.heat.some((h) => h.uri === activeUri));
  for (const heat of report.heat) assert.ok(heat.scores.length > 0 && heat.scores.every((s) => s >= 0));
  assert.ok(report.perHead.length > 0);
  assert.ok(report.evidenceMs > 0 && report.evidenceMs < report.totalMs);

  // Without an id: the latest completion's report.
  assert.equal(((await connection.sendRequest('heed/evidence', {})) as EvidenceReport).id, report.id);
  assert.equal(await connection.sendRequest('heed/evidence', { id: 'completion-999999' }), null);
});

test('hovering an accepted completion shows its evidence, also after an edit above it', async () => {
  assert.ok(accepted);
  const { params } = accepted;
  await connection.sendNotification(DidChangeTextDocumentNotification.type, {
    textDocument: { uri: activeUri, version: 2 },
    contentChanges: [{ range: { start: { line: params.line, character: params.character }, end: { line: params.line, character: params.character } }, text: params.text }],
  });
  await connection.sendNotification('heed/completionAccepted', params);
  const inside = { line: params.line, character: params.character + Math.floor(params.text.length / 2) };
  // Messages are handled in order: the edit and the acceptance are known when the hover is asked.
  const hover = (await connection.sendRequest(HoverRequest.type, { textDocument: { uri: activeUri }, position: inside })) as Hover | null;
  assert.ok(hover, 'a hover over the accepted text');
  const markdown = (hover.contents as { kind: string; value: string }).value;
  assert.match(markdown, /Why Heed suggested this/);
  assert.match(markdown, /\]\(file:\/\/[^)]+#L\d+\)/, 'links open the place');
  assert.deepEqual(hover.range, { start: { line: params.line, character: params.character }, end: { line: params.line, character: params.character + params.text.length } });

  // A line inserted above moves it down one line; the old place has no hover.
  await connection.sendNotification(DidChangeTextDocumentNotification.type, {
    textDocument: { uri: activeUri, version: 3 },
    contentChanges: [{ range: { start: { line: 0, character: 0 }, end: { line: 0, character: 0 } }, text: '// moved\n' }],
  });
  const moved = (await connection.sendRequest(HoverRequest.type, { textDocument: { uri: activeUri }, position: { ...inside, line: inside.line + 1 } })) as Hover | null;
  assert.ok(moved, 'the hover follows the text');
  // heed/evidence at a position: the accepted completion there.
  const at = (await connection.sendRequest('heed/evidence', { uri: activeUri, ...inside, line: inside.line + 1 })) as EvidenceReport;
  assert.equal(at.id, params.id);
  if (inside.line > 0) assert.equal(await connection.sendRequest(HoverRequest.type, { textDocument: { uri: activeUri }, position: { line: 0, character: 1 } }), null);
});

test('heed/ask answers over the workspace with progress and evidence, says how it asked, and can be cancelled', async () => {
  progress.length = 0;
  const params: AskParams = { askId: 'ask-1', question: 'Where is the total price of the inventory computed?', kind: 'workspace', uri: activeUri };
  const result = (await connection.sendRequest('heed/ask', params)) as AskResult;
  assert.equal(typeof result.answer, 'string');
  assert.match(result.framing, /base code model/);
  assert.match(result.framing, /Q: Where is the total price/);
  assert.ok(result.evidence && result.evidence.kind === 'answer');
  // Where the question points, less where a question that names nothing points; only workspace files are places.
  assert.equal(result.evidence.questionBaseline, 'Where is it defined?');
  assert.ok(Array.isArray(result.evidence.questionSpans));
  for (const span of result.evidence.questionSpans!) assert.match(span.path, /^src\/\w+\.ts$/);
  assert.ok(progress.length > 0 && progress.every((p) => p.askId === 'ask-1'));
  assert.equal(progress.at(-1)!.text, result.answer);
  const log = await until(() => logs.find((l) => /^answer: prompt \d+ tokens \((\d+) reused\)/.test(l)), 'the answer log');
  const [, promptTokens, reused] = /prompt (\d+) tokens \((\d+) reused\)/.exec(log)!;
  assert.ok(Number(reused) > Number(promptTokens) / 2, `the workspace part came from the cache: ${log}`);

  // Explain a selection: needs one.
  await assert.rejects(connection.sendRequest('heed/ask', { askId: 'ask-2', question: 'Explain this code.', kind: 'selection', uri: activeUri }), /Select the code/);
  const explained = (await connection.sendRequest('heed/ask', {
    askId: 'ask-3',
    question: 'Explain this code.',
    kind: 'selection',
    uri: activeUri,
    selection: { startLine: 0, startCharacter: 0, endLine: 3, endCharacter: 0 },
    history: [{ question: params.question, answer: result.answer }],
  })) as AskResult;
  assert.match(explained.framing, /Q: Explain this code/);
  assert.equal(explained.evidence?.questionBaseline, undefined, 'an explanation asks about its code: no neutral question to subtract');

  const source = new CancellationTokenSource();
  const cancelled = connection.sendRequest('heed/ask', { ...params, askId: 'ask-4', question: 'What does this workspace do, in detail?' }, source.token);
  source.cancel();
  await assert.rejects(cancelled, /cancel/i);
});
