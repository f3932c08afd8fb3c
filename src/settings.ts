// Reads Heed's settings from VS Code and turns them into what the server expects.

import * as vscode from 'vscode';
import { join } from 'node:path';
import type { KvPolicySetting, ServerSettings } from '../server/protocol';
import { editorWeightFormat } from '../server/engine/weightFormat';

/** The model shipped inside the extension, used when heed.model.path is empty. */
export const embeddedModelFolder = join('models', 'heed-code-30m');

export function readSettings(extensionPath: string, globalStoragePath: string, workspaceStoragePath?: string): ServerSettings {
  const config = vscode.workspace.getConfiguration('heed');
  const userPath = config.get<string>('model.path', '').trim();
  const ratio = config.get<number | null>('cache.retrievalRatio', null);
  // files.exclude maps globs to true, false, or a sibling condition ({ when }); only the
  // plain true ones hide files regardless of their neighbours.
  const filesExclude = vscode.workspace.getConfiguration('files').get<Record<string, unknown>>('exclude', {});
  return {
    modelPath: userPath.length > 0 ? userPath : join(extensionPath, embeddedModelFolder),
    modelIsDefault: userPath.length === 0,
    completionEnabled: config.get<boolean>('completion.enabled', true),
    debounceMs: config.get<number>('completion.debounceMs', 75),
    maxTokens: config.get<number>('completion.maxTokens', 48),
    maxPromptTokens: config.get<number>('completion.maxPromptTokens', 2048),
    contextMaxTokens: config.get<number>('context.maxTokens', 8192),
    contextExclude: config.get<string[]>('context.exclude', []),
    filesExclude: Object.entries(filesExclude ?? {}).flatMap(([glob, on]) => (on === true ? [glob] : [])),
    threads: config.get<number>('engine.threads', 2),
    weightFormat: config.get<ServerSettings['weightFormat']>('engine.weights', editorWeightFormat),
    graphCacheDir: join(globalStoragePath, 'graphs'),
    kvPolicy: config.get<KvPolicySetting>('cache.kvPolicy', 'dense'),
    headPatternDir: join(globalStoragePath, 'head-patterns'),
    ...(typeof ratio === 'number' ? { retrievalRatio: ratio } : {}),
    memoryLimitMB: config.get<number>('cache.memoryLimitMB', 1024),
    persistPrefix: config.get<boolean>('cache.persist', true),
    evidenceEnabled: config.get<boolean>('evidence.enabled', true),
    // No folder open, no workspace storage: nothing to save a workspace prefix for.
    ...(workspaceStoragePath ? { kvCacheDir: join(workspaceStoragePath, 'kv') } : {}),
  };
}
