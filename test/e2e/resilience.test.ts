// End to end, how Heed copes in a real VS Code (code-server in headless Chromium) when its
// language server dies, and when no folder is open.
//
//   bash scripts/setup-e2e.sh && npm run package && npm run build
//   node --test out/test/e2e/resilience.test.js
//
// Environment: HEED_SKIP_E2E=1 skips; HEED_E2E_VSIX and HEED_E2E_WORKSPACE as in
// vscode.test.ts. Screenshots go to test/artifacts/: server-restarted.png, no-folder.png,
// and failure.png when a case fails (which also prints the tails of the logs).
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { basename, join } from 'node:path';
import type { Page } from 'playwright-core';
import {
  e2eSkipReason,
  openFile,
  openVsCode,
  repoRoot,
  screenshot,
  waitForGhostText,
  waitForHeedServer,
  waitForHeedStatus,
  withFailureReport,
  type VsCodeSession,
} from './harness';

const vsix = process.env.HEED_E2E_VSIX ?? join(repoRoot, 'dist', 'heed.vsix');
const workspaceSource = process.env.HEED_E2E_WORKSPACE ?? join(repoRoot, 'sample-workspace');
/** A file of the sample workspace, and a line that starts a statement for the model to finish. */
const file = 'src/money.ts';

// Nothing may insert characters of its own or pop a suggest widget over the ghost text.
const typingSettings = {
  'editor.autoClosingBrackets': 'never',
  'editor.autoClosingQuotes': 'never',
  'editor.autoIndent': 'none',
  'editor.formatOnType': false,
  'editor.quickSuggestions': { other: false, comments: false, strings: false },
  'editor.suggestOnTriggerCharacters': false,
  'editor.wordBasedSuggestions': 'off',
  'editor.parameterHints.enabled': false,
};

const restartedText = /Heed server stopped unexpectedly and was restarted/i;
const noFolderText = /No folder is open: Heed completes from the current file alone/i;

// Installed in the page once: every 100 ms it notes each notification toast the first time
// it is seen (VS Code makes a new toast element for every notification shown, a repeated
// message included), and each change of Heed's status bar label. Reading the log later
// catches toasts and states that came and went between two of the test's own looks.
const recorderScript = `(() => {
  if (window.__heedRecorder) return;
  const log = { toasts: [], states: [] };
  const seen = new WeakSet();
  const poll = () => {
    for (const toast of document.querySelectorAll('.notifications-toasts .notification-toast-container')) {
      const message = toast.querySelector('.notification-list-item-message');
      const text = message ? (message.textContent || '').trim() : '';
      if (seen.has(toast) || !text) continue;
      seen.add(toast);
      const icon = toast.querySelector('.notification-list-item-icon');
      const severity = icon ? (/codicon-(error|warning|info)/.exec(icon.className) || [, ''])[1] : '';
      log.toasts.push({ text, severity, at: Date.now() });
    }
    const labels = [...document.querySelectorAll('.part.statusbar .statusbar-item [aria-label], .part.statusbar .statusbar-item[aria-label]')]
      .map((item) => item.getAttribute('aria-label') || '')
      .filter((label) => /^Heed:/.test(label));
    const label = labels[0] || '';
    if (label && log.states[log.states.length - 1] !== label) log.states.push(label);
  };
  poll();
  setInterval(poll, 100);
  window.__heedRecorder = log;
})()`;

interface Recorded {
  toasts: { text: string; severity: string; at: number }[];
  states: string[];
}

async function recorded(page: Page): Promise<Recorded> {
  return page.evaluate<Recorded>('window.__heedRecorder');
}

async function toastsMatching(page: Page, pattern: RegExp): Promise<Recorded['toasts']> {
  return (await recorded(page)).toasts.filter((toast) => pattern.test(toast.text));
}

/** Waits until a toast whose text matches `pattern` has been shown `count` times in all. */
async function waitForToast(page: Page, pattern: RegExp, timeoutMs: number, count = 1): Promise<Recorded['toasts']> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const matching = await toastsMatching(page, pattern);
    if (matching.length >= count) return matching;
    await page.waitForTimeout(200);
  }
  const all = (await recorded(page)).toasts.map((toast) => toast.text);
  throw new Error(`no notification matching ${pattern} within ${timeoutMs} ms; notifications seen: ${JSON.stringify(all)}`);
}

/** Waits until Heed's status label has left "ready" (as recorded) since `sinceIndex`, then for it to be ready again. */
async function waitForRestartedReady(page: Page, sinceIndex: number, timeoutMs: number): Promise<string[]> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const states = (await recorded(page)).states.slice(sinceIndex);
    const left = states.findIndex((state) => !/\bready\b/i.test(state));
    if (left >= 0 && states.slice(left + 1).some((state) => /\bready\b/i.test(state))) return states;
    await page.waitForTimeout(200);
  }
  throw new Error(
    `Heed's status did not go through a restart back to ready within ${timeoutMs} ms; ` +
      `states since the kill: ${JSON.stringify((await recorded(page)).states.slice(sinceIndex))}`,
  );
}

/** SIGKILLs this session's Heed server and returns its PID. */
async function killHeedServer(session: VsCodeSession): Promise<number> {
  const pid = await waitForHeedServer(session, 15_000);
  process.kill(pid, 'SIGKILL');
  console.log(`killed Heed server pid ${pid}`);
  return pid;
}

/** Types `typed` on a new line at the end of the focused editor and waits for ghost text. */
async function typeAndWaitForGhost(page: Page, typed: string, timeoutMs: number): Promise<string> {
  await page.keyboard.press('Control+End');
  await page.keyboard.press('Enter');
  await page.keyboard.type(typed, { delay: 60 });
  const ghost = await waitForGhostText(page, timeoutMs);
  console.log(`ghost text after ${JSON.stringify(typed)}: ${JSON.stringify(ghost)}`);
  return ghost.inline + ghost.following.join('\n');
}

const skip = e2eSkipReason();
const restartBudgetMs = 115_000;
const noFolderBudgetMs = 100_000;
const reportSlackMs = 20_000;

describe('Heed when its language server dies', { skip }, () => {
  let session: VsCodeSession | undefined;
  after(async () => {
    await session?.close();
  });

  it('restarts it, says so once, and completes again', { timeout: restartBudgetMs + reportSlackMs }, () =>
    withFailureReport(() => session, restartBudgetMs, async () => {
      session = await openVsCode({ vsix, workspaceSource, settings: typingSettings });
      const { page } = session;
      await page.evaluate(recorderScript);
      await waitForHeedStatus(page, /^Heed: ready$/, 60_000);
      await openFile(page, file);

      // First death: a warning says so, the status comes back to ready, completions work.
      let mark = (await recorded(page)).states.length;
      const first = await killHeedServer(session);
      const warnings = await waitForToast(page, restartedText, 20_000);
      assert.equal(warnings[0].severity, 'warning', `the restart notice is a warning: ${JSON.stringify(warnings[0])}`);
      const states = await waitForRestartedReady(page, mark, 45_000);
      console.log(`status after the first kill: ${JSON.stringify(states)}`);
      const second = await waitForHeedServer(session, 15_000, [first]);
      assert.notEqual(second, first);
      await page.locator('.editor-instance .monaco-editor').first().click();
      await typeAndWaitForGhost(page, 'const net = ', 30_000);
      await screenshot(page, 'server-restarted.png');

      // Second death: restarted again, and no second warning.
      mark = (await recorded(page)).states.length;
      await killHeedServer(session);
      const statesAgain = await waitForRestartedReady(page, mark, 45_000);
      console.log(`status after the second kill: ${JSON.stringify(statesAgain)}`);
      await waitForHeedServer(session, 15_000, [first, second]);
      const allWarnings = await toastsMatching(page, restartedText);
      const toasts = (await recorded(page)).toasts;
      console.log(`notifications shown: ${JSON.stringify(toasts)}`);
      assert.equal(allWarnings.length, 1, `the restart warning is shown once: ${JSON.stringify(allWarnings)}`);
      // The restart is the whole story: no connection-error notification beside it.
      const errors = toasts.filter((toast) => toast.severity === 'error');
      assert.deepEqual(errors, [], `no error notification while the server restarts: ${JSON.stringify(errors)}`);
    }),
  );
});

describe('Heed with no folder open', { skip }, () => {
  let session: VsCodeSession | undefined;
  after(async () => {
    await session?.close();
  });

  it('says it completes from the current file alone, gets ready, and completes in a file', { timeout: noFolderBudgetMs + reportSlackMs }, () =>
    withFailureReport(() => session, noFolderBudgetMs, async () => {
      session = await openVsCode({ vsix, workspaceSource, settings: typingSettings, emptyWindow: true });
      const { page, workspace } = session;
      await page.evaluate(recorderScript);
      const notices = await waitForToast(page, noFolderText, 60_000);
      assert.equal(notices[0].severity, 'info', `the no-folder notice is information: ${JSON.stringify(notices[0])}`);
      await waitForHeedStatus(page, /^Heed: ready$/, 60_000);
      // A window with a folder has the folder's name in its title.
      const title = await page.title();
      assert.doesNotMatch(title, new RegExp(basename(workspace)), `the window has no folder open: ${title}`);

      // A single file, opened by its absolute path through Quick Open.
      await openFile(page, join(workspace, file));
      await typeAndWaitForGhost(page, 'const net = ', 30_000);
      await screenshot(page, 'no-folder.png');
      console.log(`title: ${JSON.stringify(await page.title())}; notifications shown: ${JSON.stringify((await recorded(page)).toasts)}`);
    }),
  );
});
