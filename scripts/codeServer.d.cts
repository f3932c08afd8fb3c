// Types for codeServer.cjs, so TypeScript (test/e2e/harness.ts) can import it.

export interface CodeServerOptions {
  /** Folder to open in VS Code. */
  folder: string;
  /** Extension to install into the fresh profile before starting. */
  vsix?: string;
  /** TCP port on 127.0.0.1; a free one when left out. */
  port?: number;
  /** User settings merged over `defaultSettings`. */
  settings?: Record<string, unknown>;
  /** Defaults to $HEED_E2E_CACHE or ~/.cache/heed-e2e. */
  cacheDir?: string;
  /** How long to wait for code-server to answer HTTP; 60 s when left out. */
  startTimeoutMs?: number;
  /** Keep the temporary profile (settings, logs, extensions) after stop(). */
  keepProfile?: boolean;
  /** More paths to remove on stop(), or when the calling process dies without stopping. */
  cleanupPaths?: string[];
}

export interface CodeServer {
  url: string;
  port: number;
  pid: number;
  folder: string;
  /** Temporary XDG_CONFIG_HOME/XDG_DATA_HOME parent; removed by stop(). */
  profileDir: string;
  /** VS Code's user data folder (settings, extensions' logs) inside profileDir. */
  userDataDir: string;
  logPath: string;
  logTail(lines?: number): string;
  findLogs(name: string): string[];
  stop(): Promise<void>;
}

export declare const defaultSettings: Record<string, unknown>;
export declare function startCodeServer(options: CodeServerOptions): Promise<CodeServer>;
export declare function locateInstall(cacheDir?: string): {
  cacheDir: string;
  node24BinDir: string;
  codeServerBin: string;
};
export declare function findFreePort(): Promise<number>;
export declare function listDescendants(rootPid: number): number[];
export declare function endProcesses(pids: number[], graceMs?: number): Promise<void>;
