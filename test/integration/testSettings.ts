// The settings the integration tests start dist/server.js with: quick, small and offline
// (one thread, no saved prefix, no debounce), for a model folder; each test overrides what
// it is about.

import type { ServerSettings } from '../../server/protocol';

export function testSettings(modelPath: string, overrides: Partial<ServerSettings> = {}): ServerSettings {
  return {
    modelPath,
    modelIsDefault: false,
    completionEnabled: true,
    debounceMs: 0,
    maxTokens: 24,
    maxPromptTokens: 512,
    contextMaxTokens: 0,
    contextExclude: [],
    filesExclude: [],
    threads: 1,
    weightFormat: 'fp32',
    kvPolicy: 'dense',
    memoryLimitMB: 256,
    persistPrefix: false,
    evidenceEnabled: true,
    ...overrides,
  };
}
