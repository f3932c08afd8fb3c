// End to end: Heed's .vsix installed in a real VS Code (code-server in headless Chromium).
//
//   bash scripts/setup-e2e.sh && npm run package && npm run build
//   node --test out/test/e2e/vscode.test.js
//
// Environment:
//   HEED_SKIP_E2E=1       skip these tests (the only way to skip them)
//   HEED_E2E_VSIX         extension to install (default dist/heed.vsix)
//   HEED_E2E_WORKSPACE    folder to copy and open (default sample-workspace/)
//   HEED_E2E_FILE         file in it to edit (default: the first source file by name)
//   HEED_E2E_TYPE         the line to type (default: by the file's language, see `lineToType`)
// Screenshots go to test/artifacts/: ghost-text.png, accepted.png, evidence-hover.png,
// evidence-panel.png, ask-panel.png, and failure.png when a case fails (which also prints the tails of code-server's and the extension's logs).
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { extname, join, relative } from 'node:path';
import {
  e2eSkipReason,
  ghostTextInsertion,
  openFile,
  openVsCode,
  readGhostText,
  repoRoot,
  runCommand,
  webviewFrame,
  screenshot,
  waitForFile,
  waitForGhostText,
  waitForHeedStatus,
  waitForSaved,
  withFailureReport,
  type VsCodeSession,
} from './harness';

const vsix = process.env.HEED_E2E_VSIX ?? join(repoRoot, 'dist', 'heed.vsix');
const workspaceSource = process.env.HEED_E2E_WORKSPACE ?? join(repoRoot, 'sample-workspace');

/** A line that starts a statement the model has to finish, by file extension. */
const lineToType: Record<string, string> = {
  '.ts': 'const total = ',
  '.js': 'const total = ',
  '.py': 'total = ',
};

// The typed text must reach the file unchanged, so nothing may insert characters of its
// own while typing; quick suggestions are off so Tab goes to the inline completion.
const typingSettings = {
  'editor.autoClosingBrackets': 'never',
  'editor.autoClosingQuotes': 'never',
  'editor.autoClosingComments': 'never',
  'editor.autoSurround': 'never',
  'editor.autoIndent': 'none',
  'editor.formatOnType': false,
  'editor.formatOnSave': false,
  'editor.quickSuggestions': { other: false, comments: false, strings: false },
  'editor.suggestOnTriggerCharacters': false,
  'editor.wordBasedSuggestions': 'off',
  'editor.parameterHints.enabled': false,
  'files.insertFinalNewline': false,
  'files.trimTrailingWhitespace': false,
  'files.trimFinalNewlines': false,
};

/** The file to edit, relative to the workspace. */
function pickFile(workspace: string): string {
  if (process.env.HEED_E2E_FILE) return process.env.HEED_E2E_FILE;
  const files: string[] = [];
  const walk = (dir: string) => {
    for (const name of readdirSync(dir).sort()) {
      const path = join(dir, name);
      if (name.startsWith('.') || name === 'node_modules') continue;
      if (statSync(path).isDirectory()) walk(path);
      else if (extname(name) in lineToType) files.push(relative(workspace, path));
    }
  };
  walk(workspace);
  if (files.length === 0) throw new Error(`no ${Object.keys(lineToType).join('/')} file in ${workspace}`);
  return files[0];
}

/** Moves to the end of the file and, unless it ends with one, starts a new line. */
async function goToNewLastLine(session: VsCodeSession, original: string): Promise<string> {
  await session.page.keyboard.press('Control+End');
  if (original.length > 0 && !original.endsWith('\n')) {
    await session.page.keyboard.press('Enter');
    return '\n';
  }
  return '';
}

const skip = e2eSkipReason();

// Budgets per case (the whole file stays under 5 minutes); node:test's own timeout is a
// little longer so that a case over budget still writes its failure report.
const ghostTextBudgetMs = 150_000;
const errorStateBudgetMs = 100_000;
const reportSlackMs = 20_000;
const evidenceBudgetMs = 120_000;

/** What the completion case accepted, for the evidence cases after it (same session). */
let accepted: { file: string; typed: string; insertion: string } | undefined;

describe('Heed in a real VS Code', { skip }, () => {
  let session: VsCodeSession | undefined;
  after(async () => {
    await session?.close();
  });

  it('shows ghost text while typing, and Tab accepts it into the file', { timeout: ghostTextBudgetMs + reportSlackMs }, () =>
    withFailureReport(() => session, ghostTextBudgetMs, async () => {
      session = await openVsCode({ vsix, workspaceSource, settings: typingSettings });
      const { page, workspace } = session;
      const ready = await waitForHeedStatus(page, /\bready\b/i, 60_000);
      console.log(`status bar: ${JSON.stringify(ready)}`);

      const file = pickFile(workspace);
      const typed = process.env.HEED_E2E_TYPE ?? lineToType[extname(file)] ?? lineToType['.ts'];
      const original = readFileSync(join(workspace, file), 'utf8');
      await openFile(page, file);
      const newline = await goToNewLastLine(session, original);
      await page.keyboard.type(typed, { delay: 60 });

      const ghost = await waitForGhostText(page, 45_000);
      const insertion = ghostTextInsertion(ghost);
      console.log(`ghost text after ${JSON.stringify(typed)}: ${JSON.stringify(insertion)}`);
      await screenshot(page, 'ghost-text.png');
      // The screenshot took time; the ghost text accepted must be the one recorded.
      assert.deepEqual(await readGhostText(page), ghost, 'ghost text changed before it could be accepted');

      // The page handles keys in order, so the save sees the accepted text. (Waiting for the
      // ghost text to disappear instead would race Heed's next completion.)
      await page.keyboard.press('Tab');
      await page.keyboard.press('Control+S');
      await waitForSaved(page, 15_000);
      const expected = original + newline + typed + insertion;
      const saved = await waitForFile(join(workspace, file), (content) => content === expected, 10_000);
      await screenshot(page, 'accepted.png');
      assert.equal(saved, expected, 'the saved file is the original, the typed line and the accepted ghost text');
      accepted = { file, typed, insertion };
    }),
  );

  it('hovering the accepted text shows its evidence, and a link opens the place', { timeout: evidenceBudgetMs + reportSlackMs }, () =>
    withFailureReport(() => session, evidenceBudgetMs, async () => {
      assert.ok(session && accepted, 'the completion case ran first');
      const { page } = session;
      // The accepted text ends the line that holds the typed text: hover its last token
      // (not the ghost text of a next suggestion, dismissed first). The editor renders
      // spaces as no-break spaces, which \s matches.
      await page.keyboard.press('Escape');
      const typedLine = new RegExp(accepted.typed.trim().replace(/[.*+?^${}()|[\]\\]/g, '\\$&').replace(/ /g, '\\s'));
      const line = page.locator('.editor-instance .monaco-editor .view-lines .view-line', { hasText: typedLine }).last();
      // The editor re-renders the line's tokens as highlighting arrives: ask until it holds still.
      const lastToken = () =>
        line.evaluate((element) => {
          const leaves = [...element.querySelectorAll('span')].filter(
            (span) => span.children.length === 0 && (span.textContent ?? '').trim().length > 0 && !span.closest('[class*="ghost-text"]'),
          );
          const rect = leaves.at(-1)?.getBoundingClientRect();
          return rect && rect.width > 0 ? { x: rect.x, y: rect.y, width: rect.width, height: rect.height } : null;
        });
      const hover = page.locator('.monaco-hover', { hasText: 'Why Heed suggested this' });
      // A hover comes from mouse movement over a token that holds still: where the editor
      // re-rendered under the pointer, none shows. Move off and onto the token again,
      // found anew, a few times (one run in four saw no hover from a single move).
      let shown = false;
      for (let hoverAttempt = 0; hoverAttempt < 4 && !shown; hoverAttempt++) {
        let box = await lastToken();
        for (let attempt = 0; attempt < 40 && !box; attempt++) {
          await page.waitForTimeout(250);
          box = await lastToken();
        }
        assert.ok(box, 'the accepted text is on screen');
        await page.mouse.move(box.x + box.width / 2, box.y + box.height * 4);
        await page.mouse.move(box.x + box.width / 2, box.y + box.height / 2, { steps: 3 });
        shown = await hover
          .first()
          .waitFor({ state: 'visible', timeout: 6_000 })
          .then(() => true)
          .catch(() => false);
        if (!shown) console.log(`no evidence hover after moving onto the accepted text (attempt ${hoverAttempt + 1})`);
      }
      await hover.first().waitFor({ state: 'visible', timeout: 1_000 });
      await screenshot(page, 'evidence-hover.png');
      const link = hover.locator('a[data-href*="#L"]').first();
      const href = await link.getAttribute('data-href');
      // code-server serves the workspace as vscode-remote://; the link is the server's file URI, rewritten.
      assert.ok(href && /^(file|vscode-remote):\/\//.test(href), `a link to a workspace line: ${href}`);
      const target = /([^/]+)#L(\d+)$/.exec(decodeURIComponent(href));
      assert.ok(target, href);
      await link.click();
      await page.locator('.tabs-container .tab.active', { hasText: target[1] }).waitFor({ timeout: 15_000 });
      await page.locator('.statusbar-item', { hasText: new RegExp(`Ln ${target[2]}, Col`) }).first().waitFor({ timeout: 15_000 });

      await runCommand(page, 'Heed: Show Evidence');
      const panel = await webviewFrame(page, 'ol.spans li', 30_000);
      assert.ok((await panel.locator('ol.spans li').count()) > 0);
      assert.ok((await panel.locator('.strip .cell').count()) > 0, 'a heat strip per file');
      // The completion's prompt holds other workspace files: they are ranked apart.
      const otherFiles = panel.locator('section', { has: panel.locator('h2', { hasText: 'From other files' }) });
      assert.ok((await otherFiles.locator('ol.spans li').count()) > 0, "the other files' lines");
      await screenshot(page, 'evidence-panel.png');
    }),
  );

  it('Heed: Ask About the Workspace answers in a panel, with the lines it used', { timeout: evidenceBudgetMs + reportSlackMs }, () =>
    withFailureReport(() => session, evidenceBudgetMs, async () => {
      assert.ok(session && accepted, 'the completion case ran first');
      const { page } = session;
      await openFile(page, accepted.file);
      await runCommand(page, 'Heed: Ask About the Workspace');
      // The question's input box replaces the palette's: wait for its title, then fill it.
      await page.locator('.quick-input-widget', { hasText: 'Heed: Ask About the Workspace' }).locator('input').waitFor({ state: 'visible', timeout: 15_000 });
      await page.locator('.quick-input-widget input').fill('Where is the tax rate defined?');
      await page.keyboard.press('Enter');
      const panel = await webviewFrame(page, 'article.turn[data-status="done"]', 90_000);
      const turn = panel.locator('article.turn[data-status="done"]').first();
      assert.match((await turn.locator('.question').textContent()) ?? '', /tax rate/);
      assert.ok((await turn.locator('.answer-locations li').count()) > 0, 'the answer lists the workspace lines it used');
      // Where the question points, from its own tokens less a neutral question's: the line that
      // sets the tax rate is among the first three (first in the runs seen; which files come
      // last before the question, and draw attention for that, depends on the copy's mtimes).
      const pointed = await turn.locator('.question-locations li button.location').allTextContents();
      console.log(`the question points to: ${pointed.join(', ')}`);
      const holdsTaxRate = (label: string): boolean => {
        const span = /^src\/money\.ts:(\d+)(?:–(\d+))?$/.exec(label);
        return span !== null && Number(span[1]) <= 2 && 2 <= Number(span[2] ?? span[1]);
      };
      assert.ok(pointed.slice(0, 3).some(holdsTaxRate), `src/money.ts:2 in the question's top 3: ${pointed.join(', ')}`);
      assert.match((await turn.locator('.framing pre').textContent()) ?? '', /Q: Where is the tax rate defined\?/);
      await screenshot(page, 'ask-panel.png');
    }),
  );
});

describe('Heed with a model folder that does not exist', { skip }, () => {
  let session: VsCodeSession | undefined;
  after(async () => {
    await session?.close();
  });

  it('shows an error in the status bar, and the editor still takes typing', { timeout: errorStateBudgetMs + reportSlackMs }, () =>
    withFailureReport(() => session, errorStateBudgetMs, async () => {
      const missing = join(repoRoot, 'test', 'artifacts', 'no-such-model-folder');
      session = await openVsCode({
        vsix,
        workspaceSource,
        settings: { ...typingSettings, 'heed.model.path': missing },
      });
      const { page, workspace } = session;
      const error = await waitForHeedStatus(page, /error|fail|not found|missing|cannot|could not/i, 60_000);
      console.log(`status bar: ${JSON.stringify(error)}`);
      assert.doesNotMatch(error.label, /\bready\b/i, 'an error state must not also say ready');

      const file = pickFile(workspace);
      const original = readFileSync(join(workspace, file), 'utf8');
      await openFile(page, file);
      const newline = await goToNewLastLine(session, original);
      const typed = '// still typing';
      await page.keyboard.type(typed, { delay: 20 });
      await page.keyboard.press('Control+S');
      await waitForSaved(page, 15_000);
      const expected = original + newline + typed;
      const saved = await waitForFile(join(workspace, file), (content) => content === expected, 10_000);
      assert.equal(saved, expected);
    }),
  );
});
