// Checks the settings the client sends; the ranges match package.json's contributes so
// that a hand-edited settings.json cannot push the engine outside what it supports.

import { kvPolicySettings, type KvPolicySetting, type ServerSettings } from './protocol';
import { asWeightFormat, editorWeightFormat, weightFormats, type WeightFormat } from './engine/weightFormat';

function integerIn(value: unknown, name: string, min: number, max: number): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw new Error(`${name} must be a whole number from ${min} to ${max}, not ${JSON.stringify(value)}`);
  }
  return value;
}

function weightFormatOf(value: unknown): WeightFormat {
  if (value === undefined) return editorWeightFormat;
  const format = asWeightFormat(value);
  if (format) return format;
  throw new Error(`heed.engine.weights must be one of ${weightFormats.map((v) => `"${v}"`).join(', ')}, not ${JSON.stringify(value)}`);
}

function kvPolicyOf(value: unknown): KvPolicySetting {
  if (value === undefined) return 'dense';
  if ((kvPolicySettings as readonly unknown[]).includes(value)) return value as KvPolicySetting;
  throw new Error(`heed.cache.kvPolicy must be one of ${kvPolicySettings.map((v) => `"${v}"`).join(', ')}, not ${JSON.stringify(value)}`);
}

/** Most globs taken from one setting: a pattern list this long is a mistake, and every file is tested against each. */
const maxGlobs = 1000;

function globsOf(value: unknown, name: string): string[] {
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value) || value.length > maxGlobs || value.some((glob) => typeof glob !== 'string')) {
    throw new Error(`${name} must be a list of at most ${maxGlobs} glob strings, not ${JSON.stringify(value)}`);
  }
  return value as string[];
}

function shareOf(value: unknown, name: string): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0 || value > 1) throw new Error(`${name} must be a number from 0 to 1, not ${JSON.stringify(value)}`);
  return value;
}

export function validateSettings(raw: unknown): ServerSettings {
  if (typeof raw !== 'object' || raw === null) throw new Error('settings are missing');
  const r = raw as Record<string, unknown>;
  if (typeof r.modelPath !== 'string' || r.modelPath.length === 0) throw new Error('modelPath must be a folder path');
  return {
    modelPath: r.modelPath,
    modelIsDefault: r.modelIsDefault === true,
    completionEnabled: r.completionEnabled !== false,
    debounceMs: integerIn(r.debounceMs, 'heed.completion.debounceMs', 0, 2000),
    maxTokens: integerIn(r.maxTokens, 'heed.completion.maxTokens', 1, 512),
    maxPromptTokens: integerIn(r.maxPromptTokens, 'heed.completion.maxPromptTokens', 64, 131072),
    contextMaxTokens: integerIn(r.contextMaxTokens, 'heed.context.maxTokens', 0, 131072),
    contextExclude: globsOf(r.contextExclude, 'heed.context.exclude'),
    filesExclude: globsOf(r.filesExclude, 'files.exclude'),
    threads: integerIn(r.threads, 'heed.engine.threads', 1, 64),
    weightFormat: weightFormatOf(r.weightFormat),
    ...(typeof r.graphCacheDir === 'string' && r.graphCacheDir.length > 0 ? { graphCacheDir: r.graphCacheDir } : {}),
    kvPolicy: kvPolicyOf(r.kvPolicy),
    ...(typeof r.headPatternDir === 'string' && r.headPatternDir.length > 0 ? { headPatternDir: r.headPatternDir } : {}),
    ...(r.retrievalRatio === undefined || r.retrievalRatio === null ? {} : { retrievalRatio: shareOf(r.retrievalRatio, 'heed.cache.retrievalRatio') }),
    memoryLimitMB: r.memoryLimitMB === undefined ? 1024 : integerIn(r.memoryLimitMB, 'heed.cache.memoryLimitMB', 64, 65536),
    persistPrefix: r.persistPrefix !== false,
    ...(typeof r.kvCacheDir === 'string' && r.kvCacheDir.length > 0 ? { kvCacheDir: r.kvCacheDir } : {}),
    evidenceEnabled: r.evidenceEnabled !== false,
  };
}
