import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { TextDocument } from 'vscode-languageserver-textdocument';
import { WorkspaceContext, type OpenDocuments } from '../../../server/context/workspaceContext';
import { toPosixPath } from '../../../server/context/paths';
import { tokenizePrompt } from '../../../server/engine/promptTokens';
import type { PromptParts } from '../../../server/worker/messages';

const temp = realpathSync(mkdtempSync(join(tmpdir(), 'heed-context-')));
after(() => rmSync(temp, { recursive: true, force: true }));

const sources: Record<string, string> = {
  'README.md': '# sample\n',
  'lib/far.ts': 'export const far = 1;\n',
  'src/main.ts': "import { util } from './util';\n\nexport const main = util + 1;\n",
  'src/other.ts': 'export const other = 2;\n',
  'src/util.ts': 'export const util = 3;\n',
};
let workspaces = 0;
function workspace(): string {
  const root = join(temp, `w${workspaces++}`);
  for (const [path, text] of Object.entries(sources)) {
    mkdirSync(dirname(join(root, path)), { recursive: true });
    writeFileSync(join(root, path), text);
  }
  return toPosixPath(root);
}

/** The editor's open documents, as TextDocuments keeps them. */
class Editor implements OpenDocuments {
  private readonly docs = new Map<string, TextDocument>();
  constructor(
    private readonly root: string,
    private readonly context: WorkspaceContext,
  ) {}
  get(uri: string) {
    return this.docs.get(uri);
  }
  all() {
    return [...this.docs.values()];
  }
  open(path: string, text = sources[path]): TextDocument {
    const doc = TextDocument.create(pathToFileURL(`${this.root}/${path}`).href, 'typescript', 1, text);
    this.docs.set(doc.uri, doc);
    this.context.documentOpened(doc);
    this.context.documentChanged(doc);
    return doc;
  }
  type(doc: TextDocument, text: string): TextDocument {
    const next = TextDocument.create(doc.uri, doc.languageId, doc.version + 1, doc.getText() + text);
    this.docs.set(doc.uri, next);
    this.context.documentChanged(next);
    return next;
  }
}

async function setUp(budgetTokens = 1000) {
  const root = workspace();
  let clock = 1000;
  let editor: Editor | undefined;
  const context = new WorkspaceContext({ get: (uri) => editor!.get(uri), all: () => editor!.all() }, () => undefined, { now: () => clock++ });
  editor = new Editor(root, context);
  context.setRoots([root]);
  context.configure({ maxTokens: budgetTokens, exclude: [] });
  await context.idle();
  return { root, context, editor };
}

/** The paths of the workspace files in `parts`, in order. */
const pathsOf = (parts: PromptParts) => parts.flatMap((part, i) => (i > 0 && 'special' in parts[i - 1] && 'text' in part ? [part.text.trimEnd()] : []));

test('files come in a stable order: by path, edited ones last; the imported one ranks first', async () => {
  const { context, editor } = await setUp();
  const main = editor.open('src/main.ts');
  const first = await context.select(main, 1000);
  assert.deepEqual(pathsOf(first.parts), ['README.md', 'lib/far.ts', 'src/other.ts', 'src/util.ts']);
  assert.equal(first.files, 4);
  const rankOf = (parts: PromptParts, path: string) => parts.find((p) => 'text' in p && p.text === `${path}\n`)?.dropRank;
  assert.equal(rankOf(first.parts, 'src/util.ts'), 1, 'imported by the active file');

  // A keystroke in the active file: the same files in the same order, part for part.
  const typed = editor.type(main, '\nconst x = ');
  assert.deepEqual((await context.select(typed, 1000)).parts, first.parts);
});

test('switching files keeps the shared files in place: what changes sits at the end', async () => {
  const { context, editor } = await setUp();
  let main = editor.open('src/main.ts');
  main = editor.type(main, '\n// edit');
  let other = editor.open('src/other.ts');
  other = editor.type(other, '\n// edit');
  const inMain = pathsOf((await context.select(main, 1000)).parts);
  assert.deepEqual(inMain, ['README.md', 'lib/far.ts', 'src/util.ts', 'src/other.ts'], 'edited files last');
  const inOther = pathsOf((await context.select(other, 1000)).parts);
  assert.deepEqual(inOther, ['README.md', 'lib/far.ts', 'src/util.ts', 'src/main.ts']);
  // Back again, after typing in other.ts: main.ts's prompt only moves other.ts, already last.
  other = editor.type(other, 'x');
  assert.deepEqual(pathsOf((await context.select(main, 1000)).parts), inMain);
});

test('an open document\'s text wins over the disk\'s', async () => {
  const { context, editor } = await setUp();
  const main = editor.open('src/main.ts');
  editor.type(editor.open('src/util.ts'), 'export const unsaved = 4;\n');
  const parts = (await context.select(main, 1000)).parts;
  assert.ok(parts.some((p) => 'text' in p && p.text === 'export const util = 3;\nexport const unsaved = 4;\n'));
});

test('the budget keeps the best-ranked files; the worker drops the least relevant whole', async () => {
  const { context, editor } = await setUp();
  const main = editor.open('src/main.ts');
  const small = await context.select(main, 12);
  assert.deepEqual(pathsOf(small.parts), ['src/util.ts'], 'the imported file first');
  assert.ok(small.estimatedTokens <= 12);

  // One token per character: the worker's count is four times the estimate, so the
  // worst-ranked files drop whole and the others keep their order.
  const tokenizer = { encode: (text: string) => [...text].map((ch) => ch.charCodeAt(0)), special: { eos: [0], fileSep: 1000 } };
  const all = (await context.select(main, 1000)).parts;
  const kept = tokenizePrompt(tokenizer, all, 80);
  const decoded = String.fromCharCode(...kept.map((id) => (id === 1000 ? 0x7c : id)));
  assert.equal(decoded, '|src/other.ts\nexport const other = 2;\n|src/util.ts\nexport const util = 3;\n');
});

test('context off: no walk, no files', async () => {
  const { context, editor } = await setUp(0);
  assert.equal((await context.select(editor.open('src/main.ts'), 1000)).files, 0);
});

test('file events reach the next completion, even one asked while they are being read', async () => {
  const { root, context, editor } = await setUp();
  const main = editor.open('src/main.ts');
  assert.equal((await context.select(main, 1000)).files, 4);
  writeFileSync(`${root}/src/added.ts`, 'export const added = 5;\n');
  context.fileEvents([{ absPath: `${root}/src/added.ts`, kind: 'created' }]);
  // A completion while the new file is being read ranks without it...
  await new Promise((resolve) => setImmediate(resolve));
  await context.select(main, 1000);
  await context.idle();
  // ...and the one after it sees it.
  assert.ok(pathsOf((await context.select(main, 1000)).parts).includes('src/added.ts'));

  // An ignore file's change walks the workspace again (after a short wait for more events).
  writeFileSync(`${root}/.gitignore`, 'lib/\n');
  context.fileEvents([{ absPath: `${root}/.gitignore`, kind: 'created' }]);
  await context.idle();
  assert.ok(!pathsOf((await context.select(main, 1000)).parts).includes('lib/far.ts'));
});
