// Reads Heed's settings from VS Code and turns them into what the server expects.

import * as vscode from 'vscode';
import { join } from 'node:path';
import type { ServerSettings } from '../server/protocol';

/** The model shipped inside the extension, used when heed.model.path is empty. */
export const embeddedModelFolder = join('models', 'heed-code-30m');

export function readSettings(extensionPath: string, globalStoragePath: string): ServerSettings {
  const config = vscode.workspace.getConfiguration('heed');
  const userPath = config.get<string>('model.path', '').trim();
  const ratio = config.get<number | null>('cache.retrievalRatio', null);
  return {
    modelPath: userPath.length > 0 ? userPath : join(extensionPath, embeddedModelFolder),
    modelIsDefault: userPath.length === 0,
    completionEnabled: config.get<boolean>('completion.enabled', true),
    debounceMs: config.get<number>('completion.debounceMs', 75),
    maxTokens: config.get<number>('completion.maxTokens', 48),
    maxPromptTokens: config.get<number>('completion.maxPromptTokens', 2048),
    threads: config.get<number>('engine.threads', 2),
    weightFormat: config.get<'fp32' | 'int4'>('engine.weights', 'fp32'),
    graphCacheDir: join(globalStoragePath, 'graphs'),
    kvPolicy: config.get<'dense' | 'head-aware'>('cache.kvPolicy', 'dense'),
    headPatternDir: join(globalStoragePath, 'head-patterns'),
    ...(typeof ratio === 'number' ? { retrievalRatio: ratio } : {}),
  };
}
