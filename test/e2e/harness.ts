// Drives a real VS Code for the end-to-end tests: code-server (scripts/codeServer.cjs)
// with a .vsix installed, on a temporary copy of a workspace, opened in headless Chromium
// through playwright-core.
//
// Every wait here polls the DOM (or the disk) for a signal and gives up after a bounded
// time; nothing sleeps for a fixed time hoping the editor has caught up.
//
// Code that runs inside the page is written as strings: the test project compiles without
// the DOM library, and strings cannot be altered by the bundler.
import { chromium, type Browser, type Frame, type Page } from 'playwright-core';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { listDescendants, startCodeServer, type CodeServer } from '../../scripts/codeServer.cjs';

/** The repository root, found from this file whether it runs bundled (out/) or not. */
export const repoRoot = findRepoRoot(__dirname);
export const artifactsDir = join(repoRoot, 'test', 'artifacts');

function findRepoRoot(start: string): string {
  for (let dir = start; dir !== dirname(dir); dir = dirname(dir)) {
    const manifest = join(dir, 'package.json');
    if (existsSync(manifest) && JSON.parse(readFileSync(manifest, 'utf8')).name === 'heed') return dir;
  }
  throw new Error(`no Heed package.json above ${start}`);
}

/**
 * Why the end-to-end tests are skipped, or false when they run. Only HEED_SKIP_E2E=1
 * skips them: a missing code-server or Chromium is a failure, so it is never hidden.
 */
export function e2eSkipReason(): string | false {
  return process.env.HEED_SKIP_E2E === '1' ? 'HEED_SKIP_E2E=1: end-to-end tests in a real VS Code skipped' : false;
}

export const chromiumPath = '/usr/bin/chromium';
const chromiumArgs = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-dev-shm-usage',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
  '--disable-quic',
];

export interface VsCodeSession {
  page: Page;
  browser: Browser;
  codeServer: CodeServer;
  /** The temporary copy of the workspace that VS Code has open. */
  workspace: string;
  /** Console errors the workbench page logged, oldest first. */
  consoleErrors: string[];
  /** Ends the browser and code-server (with its children) and removes the copy. */
  close(): Promise<void>;
}

export interface OpenOptions {
  vsix: string;
  /** Folder copied into a temporary folder, which VS Code then opens. */
  workspaceSource: string;
  /** User settings on top of codeServer.cjs's defaults. */
  settings?: Record<string, unknown>;
  /**
   * Open an empty window (no folder) instead of the workspace copy, through code-server's
   * `?ew=true`. The copy is still made, so its files can be opened one at a time by path.
   */
  emptyWindow?: boolean;
  timeoutMs?: number;
}

// Sessions still open, so an interrupted test run (Ctrl-C) still ends its processes.
const openSessions = new Set<VsCodeSession>();
let signalHandlersInstalled = false;

function installSignalHandlers(): void {
  if (signalHandlersInstalled) return;
  signalHandlersInstalled = true;
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.once(signal, () => {
      void Promise.allSettled([...openSessions].map((session) => session.close())).then(() =>
        process.exit(128 + (signal === 'SIGINT' ? 2 : signal === 'SIGTERM' ? 15 : 1)),
      );
    });
  }
}

/** Starts code-server with `vsix` on a copy of the workspace and loads it in Chromium. */
export async function openVsCode(options: OpenOptions): Promise<VsCodeSession> {
  installSignalHandlers();
  if (!existsSync(options.vsix)) {
    throw new Error(`${options.vsix} does not exist: run \`npm run package\` first`);
  }
  if (!existsSync(chromiumPath)) {
    throw new Error(`${chromiumPath} does not exist: run \`bash scripts/setup-e2e.sh\` first`);
  }
  const timeoutMs = options.timeoutMs ?? 60_000;
  const workspaceParent = mkdtempSync(join(tmpdir(), 'heed-e2e-workspace-'));
  const workspace = join(workspaceParent, basename(options.workspaceSource));
  cpSync(options.workspaceSource, workspace, { recursive: true });

  let codeServer: CodeServer | undefined;
  let browser: Browser | undefined;
  const session: Partial<VsCodeSession> & { consoleErrors: string[] } = { workspace, consoleErrors: [] };
  let closed = false;
  session.close = async () => {
    if (closed) return;
    closed = true;
    openSessions.delete(session as VsCodeSession);
    // Each step runs even when an earlier one fails.
    await browser?.close().catch(() => undefined);
    await codeServer?.stop().catch(() => undefined);
    rmSync(workspaceParent, { recursive: true, force: true });
  };
  openSessions.add(session as VsCodeSession);
  try {
    codeServer = await startCodeServer({
      vsix: options.vsix,
      folder: workspace,
      settings: options.settings,
      startTimeoutMs: timeoutMs,
      cleanupPaths: [workspaceParent],
    });
    session.codeServer = codeServer;
    browser = await chromium.launch({
      executablePath: chromiumPath,
      args: chromiumArgs,
      timeout: timeoutMs,
      // Chromium keeps crash reports under XDG_CONFIG_HOME whatever its profile; keep
      // them in the throwaway profile rather than the user's ~/.config.
      env: { ...process.env, XDG_CONFIG_HOME: join(codeServer.profileDir, 'chromium-config') },
    });
    session.browser = browser;
    const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
    session.page = page;
    page.on('console', (message) => {
      if (message.type() === 'error') session.consoleErrors.push(message.text());
    });
    page.on('pageerror', (error) => session.consoleErrors.push(`pageerror: ${error.message}`));
    await page.goto(options.emptyWindow ? `${codeServer.url}?ew=true` : codeServer.url, { timeout: timeoutMs });
    await waitForWorkbench(page, timeoutMs, !options.emptyWindow);
    return session as VsCodeSession;
  } catch (error) {
    await session.close();
    throw error;
  }
}

/**
 * Waits until the workbench has rendered its status bar and, when a folder is open, its
 * explorer (an empty window may not show the explorer at all).
 */
export async function waitForWorkbench(page: Page, timeoutMs: number, withFolder = true): Promise<void> {
  await page.waitForSelector('.monaco-workbench .part.statusbar .statusbar-item', { timeout: timeoutMs });
  if (!withFolder) return;
  await page.waitForSelector('.monaco-workbench .explorer-folders-view, .monaco-workbench .explorer-viewlet', {
    timeout: timeoutMs,
  });
}

export interface StatusItem {
  id: string;
  text: string;
  /** The accessible label VS Code puts on the item (its accessibilityInformation). */
  label: string;
}

// Status bar items whose id, text or label mention Heed.
const heedStatusItemsScript = `(() => {
  const items = [...document.querySelectorAll('.part.statusbar .statusbar-item')];
  return items.map((item) => {
    const labelled = item.getAttribute('aria-label') ? item : item.querySelector('[aria-label]');
    return {
      id: item.id || '',
      text: (item.textContent || '').trim(),
      label: labelled ? labelled.getAttribute('aria-label') || '' : '',
    };
  }).filter((item) => /heed/i.test(item.id + ' ' + item.text + ' ' + item.label));
})()`;

export async function heedStatusItems(page: Page): Promise<StatusItem[]> {
  return page.evaluate<StatusItem[]>(heedStatusItemsScript);
}

/**
 * Waits for Heed's status bar item to have a label (or text) matching `pattern`, and
 * returns it. On timeout the error says what the item showed last.
 */
export async function waitForHeedStatus(page: Page, pattern: RegExp, timeoutMs: number): Promise<StatusItem> {
  const deadline = Date.now() + timeoutMs;
  let last: StatusItem[] = [];
  while (Date.now() < deadline) {
    last = await heedStatusItems(page);
    const match = last.find((item) => pattern.test(item.label) || pattern.test(item.text));
    if (match) return match;
    await page.waitForTimeout(250);
  }
  throw new Error(
    `Heed's status bar item did not match ${pattern} within ${timeoutMs} ms; last seen: ${JSON.stringify(last)}`,
  );
}

/** Opens `relativePath` with Quick Open (Ctrl+P) and waits until its editor has focus. */
export async function openFile(page: Page, relativePath: string, timeoutMs = 30_000): Promise<void> {
  const name = basename(relativePath);
  await page.keyboard.press('Control+P');
  const input = page.locator('.quick-input-widget input');
  await input.waitFor({ state: 'visible', timeout: timeoutMs });
  await page.keyboard.type(relativePath, { delay: 20 });
  await page
    .locator('.quick-input-list .monaco-list-row', { hasText: name })
    .first()
    .waitFor({ state: 'visible', timeout: timeoutMs });
  await page.keyboard.press('Enter');
  await page.locator('.tabs-container .tab.active', { hasText: name }).waitFor({ timeout: timeoutMs });
  await page.locator('.editor-instance .monaco-editor.focused').waitFor({ timeout: timeoutMs });
}

// The ghost text VS Code is showing, as the user sees it, or null when there is none.
// VS Code 1.139 renders the part on the cursor's line inline, in spans with class
// `ghost-text-decoration` (one per syntax-highlighting token), and any further lines
// below it in a view zone (`.suggest-preview-text`), one `.view-line` each, whose tokens
// have class `ghost-text`. Every line of that zone is read, empty ones included.
const ghostTextScript = `(() => {
  const editor = document.querySelector('.editor-instance .monaco-editor.focused')
    || document.querySelector('.editor-instance .monaco-editor');
  if (!editor) return null;
  const inline = [...editor.querySelectorAll('.view-lines .ghost-text-decoration')]
    .filter((span) => !span.parentElement.closest('.ghost-text-decoration'))
    .map((span) => span.textContent || '');
  const following = [...editor.querySelectorAll('.view-zones > [monaco-view-zone]')]
    .filter((zone) => zone.querySelector('.suggest-preview-text, .ghost-text'))
    .flatMap((zone) => [...zone.querySelectorAll('.view-line')].map((line) => line.textContent || ''));
  if (inline.length === 0 && following.length === 0) return null;
  return { inline: inline.join(''), following };
})()`;

export interface GhostText {
  /** The part shown after the cursor on its line. */
  inline: string;
  /** Lines shown below the cursor's line, in order. */
  following: string[];
}

/**
 * The text that accepting `ghost` inserts. VS Code renders every space of an editor line
 * as U+00A0 (no-break space) in the DOM, so those are mapped back to spaces; nothing else
 * is changed.
 */
export function ghostTextInsertion(ghost: GhostText): string {
  return [ghost.inline, ...ghost.following].join('\n').replace(/\u00a0/g, ' ');
}

export async function readGhostText(page: Page): Promise<GhostText | null> {
  return page.evaluate<GhostText | null>(ghostTextScript);
}

/**
 * Waits until ghost text is shown and has stopped changing (the same on two reads
 * `settleMs` apart), and returns it.
 */
export async function waitForGhostText(page: Page, timeoutMs: number, settleMs = 500): Promise<GhostText> {
  const deadline = Date.now() + timeoutMs;
  let previous: string | null = null;
  while (Date.now() < deadline) {
    const ghost = await readGhostText(page);
    const key = ghost && ghostTextInsertion(ghost).length > 0 ? JSON.stringify(ghost) : null;
    if (key !== null && key === previous) return ghost!;
    previous = key;
    await page.waitForTimeout(key === null ? 200 : settleMs);
  }
  throw new Error(`no ghost text appeared within ${timeoutMs} ms`);
}

/** Polls `path` until `predicate` holds for its content, and returns that content. */
export async function waitForFile(
  path: string,
  predicate: (content: string) => boolean,
  timeoutMs: number,
): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  let content = '';
  while (Date.now() < deadline) {
    content = readFileSync(path, 'utf8');
    if (predicate(content)) return content;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  return content;
}

/** Waits until the active editor's tab no longer shows unsaved changes. */
export async function waitForSaved(page: Page, timeoutMs: number): Promise<void> {
  await page.locator('.tabs-container .tab.active.dirty').waitFor({ state: 'detached', timeout: timeoutMs });
}

export async function screenshot(page: Page, name: string): Promise<string> {
  mkdirSync(artifactsDir, { recursive: true });
  const path = join(artifactsDir, name);
  await page.screenshot({ path });
  return path;
}

function tailOfFile(path: string, lines: number): string {
  try {
    return readFileSync(path, 'utf8').split('\n').slice(-lines).join('\n');
  } catch (error) {
    return `(cannot read ${path}: ${(error as Error).message})`;
  }
}

/**
 * What a failed test prints: a screenshot to test/artifacts/failure.png, what Heed's
 * status bar item showed, and the last lines of code-server's log, of the extension
 * host's log, of the "Heed" output channel and of the page's console errors.
 */
export async function reportFailure(session: VsCodeSession | undefined, lines = 40): Promise<void> {
  if (!session) return;
  const report: string[] = [];
  try {
    report.push(`screenshot: ${await screenshot(session.page, 'failure.png')}`);
    report.push(`Heed status bar item: ${JSON.stringify(await heedStatusItems(session.page))}`);
  } catch (error) {
    report.push(`(no screenshot: ${(error as Error).message})`);
  }
  report.push(`--- code-server log (last ${lines} lines) ---`, session.codeServer.logTail(lines));
  for (const log of session.codeServer.findLogs('exthost.log')) {
    report.push(`--- ${log} (last ${lines} lines) ---`, tailOfFile(log, lines));
  }
  const heedLogs = session.codeServer.findLogs('Heed');
  if (heedLogs.length === 0) report.push('--- no "Heed" output channel log found ---');
  for (const log of heedLogs) report.push(`--- ${log} (last ${lines} lines) ---`, tailOfFile(log, lines));
  report.push('--- page console errors (last 10) ---', ...session.consoleErrors.slice(-10));
  console.error(report.join('\n'));
}

/**
 * Runs a test body with a time budget; when it throws or overruns the budget, saves
 * failure.png and prints the logs (see `reportFailure`) before failing. Give node:test a
 * timeout a little above `budgetMs`, so the report is written before it cancels the test.
 */
export async function withFailureReport(
  getSession: () => VsCodeSession | undefined,
  budgetMs: number,
  body: () => Promise<void>,
): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const overrun = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`the test ran over its ${budgetMs} ms budget`)), budgetMs);
  });
  try {
    await Promise.race([body(), overrun]);
  } catch (error) {
    await reportFailure(getSession());
    throw error;
  } finally {
    clearTimeout(timer);
  }
}

/**
 * PIDs of the Heed language server(s) run by this session's code-server: processes in its
 * tree whose command line names `dist/server.js` in Heed's folder under this session's
 * profile, so a parallel run's server is never matched.
 */
export function heedServerPids(session: VsCodeSession): number[] {
  const { codeServer } = session;
  const marker = '/heed.heed-';
  const found: number[] = [];
  for (const pid of listDescendants(codeServer.pid)) {
    let args: string[];
    try {
      args = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
    } catch {
      continue; // It ended while we looked.
    }
    const isServer = args.some(
      (arg) => arg.startsWith(codeServer.profileDir + '/') && arg.includes(marker) && arg.endsWith('/dist/server.js'),
    );
    if (isServer) found.push(pid);
  }
  return found;
}

/** Waits until exactly one Heed server is running in this session, other than `exclude`. */
export async function waitForHeedServer(session: VsCodeSession, timeoutMs: number, exclude: number[] = []): Promise<number> {
  const deadline = Date.now() + timeoutMs;
  let last: number[] = [];
  while (Date.now() < deadline) {
    last = heedServerPids(session).filter((pid) => !exclude.includes(pid));
    if (last.length === 1) return last[0];
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  const extensions = join(session.codeServer.userDataDir, 'extensions');
  const listing = existsSync(extensions) ? readdirSync(extensions).join(', ') : '(none)';
  throw new Error(
    `expected one Heed server process within ${timeoutMs} ms, found ${JSON.stringify(last)}; extensions: ${listing}`,
  );
}

/** Runs a command by its title from the command palette (F1). */
export async function runCommand(page: Page, title: string, timeoutMs = 30_000): Promise<void> {
  await page.keyboard.press('F1');
  const input = page.locator('.quick-input-widget input');
  await input.waitFor({ state: 'visible', timeout: timeoutMs });
  await page.keyboard.type(title, { delay: 10 });
  await page.locator('.quick-input-list .monaco-list-row', { hasText: title }).first().waitFor({ state: 'visible', timeout: timeoutMs });
  await page.keyboard.press('Enter');
}

/**
 * The frame of a webview whose document holds `selector`. VS Code nests each webview's
 * page two iframes deep; this polls every frame of the page until one has it.
 */
export async function webviewFrame(page: Page, selector: string, timeoutMs: number): Promise<Frame> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    for (const frame of page.frames()) {
      if (await frame.$(selector).catch(() => null)) return frame;
    }
    await page.waitForTimeout(250);
  }
  throw new Error(`no webview showed ${selector} within ${timeoutMs} ms`);
}
